"""`dra-conformance versions add|check` through the real entry point, with the synthetic source
tree served as k8s.io/kubernetes v1.99.0 by a file:// Go module proxy (no network)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from clusters.kind import versions
from dra_conformance.paths import REPO
from tests.cli.test_bad_input import _one_line_error
from tests.clusters.conftest import SYNTHETIC_SOURCE


@pytest.fixture(scope="module")
def proxy_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        pytest.skip("no Go toolchain")
    root = tmp_path_factory.mktemp("goproxy")
    at = root / "k8s.io" / "kubernetes" / "@v"
    at.mkdir(parents=True)
    (at / "list").write_text("v1.99.0\n")
    (at / "v1.99.0.info").write_text(json.dumps({"Version": "v1.99.0", "Time": "2030-01-01T00:00:00Z"}))
    (at / "v1.99.0.mod").write_text((SYNTHETIC_SOURCE / "go.mod").read_text())
    with zipfile.ZipFile(at / "v1.99.0.zip", "w") as zf:
        for path in sorted(SYNTHETIC_SOURCE.rglob("*")):
            if path.is_file():
                zf.write(path, f"k8s.io/kubernetes@v1.99.0/{path.relative_to(SYNTHETIC_SOURCE)}")
    env = {"GOPROXY": f"file://{root}", "GONOSUMDB": "k8s.io/kubernetes", "GOMODCACHE": str(root / "modcache"),
           "PATH": f"{Path(go).parent}:{os.environ['PATH']}"}
    yield env
    # The module cache is read-only by design; go itself removes it.
    subprocess.run([go, "clean", "-modcache"], env={**os.environ, **env}, capture_output=True, check=False)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dra_conformance", "versions", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def test_add_prints_the_diff_and_writes_the_table(proxy_env, tmp_path):
    table = tmp_path / "versions.yaml"
    shutil.copy(versions.TABLE, table)
    res = _cli("add", "1.99", "--table", str(table), env=proxy_env)
    assert res.returncode == 0, res.stderr
    assert f"+++ {table}" in res.stdout and '+  "1.99":' in res.stdout
    assert "note: new DRA gate DRABrandNew (alpha off): add its kep and components" in res.stdout
    assert yaml.safe_load(table.read_text())["versions"]["1.99"]["patch"] == "v1.99.0"  # the newest served
    again = _cli("add", "1.99", "--patch", "v1.99.0", "--table", str(table), env=proxy_env)
    assert again.returncode == 0 and "already has 1.99 as the v1.99.0 source says" in again.stdout


def test_dry_run_writes_nothing(proxy_env, tmp_path):
    table = tmp_path / "versions.yaml"
    shutil.copy(versions.TABLE, table)
    res = _cli("add", "1.99", "--dry-run", "--table", str(table), env=proxy_env)
    assert res.returncode == 0 and '+  "1.99":' in res.stdout
    assert table.read_text() == versions.TABLE.read_text()


def test_check_lists_drift_and_exits_1(proxy_env, tmp_path):
    table = tmp_path / "versions.yaml"
    shutil.copy(versions.TABLE, table)
    assert _cli("add", "1.99", "--table", str(table), env=proxy_env).returncode == 0
    assert _cli("check", "1.99", "--table", str(table), env=proxy_env).stdout == "1.99: matches the v1.99.0 source\n"
    edited = yaml.safe_load(table.read_text())
    edited["gates"]["DRADeviceTaints"]["stages"]["1.99"] = "ga on"
    edited["versions"]["1.99"]["apis"]["resource.k8s.io/v1beta2"] = True
    table.write_text(yaml.safe_dump(edited))
    res = _cli("check", "1.99", "--table", str(table), env=proxy_env)
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        "1.99: 2 difference(s) from the v1.99.0 source",
        "  gate DRADeviceTaints: the table says ga on, the v1.99.0 source ga on locked",
        "  api resource.k8s.io/v1beta2: the table says on, the v1.99.0 source off"]


@pytest.mark.parametrize(("args", "needle"), [
    (["add", "1.99", "--patch", "v1.99.5"], "cannot download k8s.io/kubernetes@v1.99.5 from the Go module proxy"),
    (["add", "1.98"], "the Go module proxy serves no k8s.io/kubernetes v1.98.x"),
])
def test_what_the_proxy_does_not_serve_is_one_line(proxy_env, tmp_path, args, needle):
    table = tmp_path / "versions.yaml"
    shutil.copy(versions.TABLE, table)
    _one_line_error(_cli(*args, "--table", str(table), env=proxy_env), needle)
    assert table.read_text() == versions.TABLE.read_text()


@pytest.mark.parametrize(("args", "needle"), [
    (["add", "banana"], "not a Kubernetes minor: 'banana'"),
    (["add", "1.99", "--patch", "v1.37.2"], "not a patch of Kubernetes 1.99: 'v1.37.2'"),
    (["add", "1.99", "--patch", "1.99"], "not a patch of Kubernetes 1.99"),
    (["check", "1.99"], "unknown Kubernetes version '1.99'"),
    (["check", "latest"], "not a Kubernetes minor: 'latest'"),
])
def test_bad_input_is_one_line(args, needle):
    _one_line_error(_cli(*args), needle)
