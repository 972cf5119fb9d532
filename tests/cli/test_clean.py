"""`dra-conformance clean` on the artefact cache: unheld locks and partial builds go, held ones stay."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from dra_conformance.paths import REPO


def _clean(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dra_conformance", "clean", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DRA_CONFORMANCE_CACHE": str(cache),
                                                       "DOCKER_HOST": "unix:///tmp/no-engine-for-clean.sock"})


def test_unheld_locks_and_partial_builds_are_removed_held_ones_stay(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "kubernetes" / "v9.9.9.partial" / "bin").mkdir(parents=True)
    (cache / "kubernetes" / "v9.9.9.lock").touch()
    (cache / "runc" / "v9.9.9.partial").mkdir(parents=True)
    held = cache / "runc" / "v9.9.9.lock"
    with held.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build in progress
        listed = _clean(cache, "--dry-run")
        assert listed.returncode == 0, listed.stderr
        assert f"would remove unheld lock {cache}/kubernetes/v9.9.9.lock" in listed.stdout
        assert f"would remove partial build {cache}/kubernetes/v9.9.9.partial" in listed.stdout
        assert "runc" not in listed.stdout
        assert (cache / "kubernetes" / "v9.9.9.partial").exists()  # a dry run removes nothing

        done = _clean(cache)
        assert done.returncode == 0, done.stderr
        assert "2 thing(s) removed" in done.stdout
        assert not (cache / "kubernetes" / "v9.9.9.partial").exists()
        assert not (cache / "kubernetes" / "v9.9.9.lock").exists()
        assert held.exists() and (cache / "runc" / "v9.9.9.partial").exists()
    assert "nothing to remove" not in _clean(cache, "--dry-run").stdout  # released: now stale
