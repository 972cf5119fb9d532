"""`dra-conformance doctor` on this host, as the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from dra_conformance.paths import REPO

CHECKS = ("Python", "Go", "root and apt", "Docker engine", "cgroup", "capability bounding set", "inotify limits",
          "disk")


def _doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dra_conformance", "doctor", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


def test_one_line_per_check_with_a_mark() -> None:
    res = _doctor("--offline")
    lines = res.stdout.splitlines()
    checks = lines[:-1]
    assert all(line[:2] in ("✓ ", "✗ ") for line in checks), res.stdout
    names = {line[2:].split(":", 1)[0] for line in checks}
    assert set(CHECKS) <= names, names
    assert any(n.startswith("packages for building runc") for n in names), names
    # This host is root with apt and a Docker engine the harness can start: nothing is fatal here.
    assert res.returncode == 0 and lines[-1] == "the harness can set up the rest itself", res.stdout


def test_an_engine_it_cannot_fix_is_fatal() -> None:
    res = _doctor("--offline", env={"DOCKER_HOST": "unix:///tmp/no-such-engine.sock"})
    assert res.returncode == 1
    assert "✗ Docker engine: DOCKER_HOST=unix:///tmp/no-such-engine.sock does not answer" in res.stdout
    assert res.stdout.splitlines()[-1] == "1 problem(s) the harness cannot fix itself"


def test_network_checks_name_what_answered() -> None:
    res = _doctor()
    by_name = {line[2:].split(":", 1)[0]: line for line in res.stdout.splitlines() if line[:2] in ("✓ ", "✗ ")}
    assert by_name["Go module proxy"].startswith("✓"), by_name["Go module proxy"]
    assert by_name["Debian mirror"].startswith("✓"), by_name["Debian mirror"]
    assert "container registry" in by_name  # ✓ online, ✗ (not fatal) with no registry, as here


def test_packages_lists_every_declared_package() -> None:
    res = _doctor("--packages")
    listed = res.stdout.split()
    assert res.returncode == 0 and listed == sorted(set(listed))
    assert {"docker.io", "libseccomp-dev", "pkgconf", "debootstrap", "busybox-static"} <= set(listed)
