"""Bad input gets one clear line on stderr and a non-zero exit, never a traceback, and leaves
nothing behind. These run the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dra_conformance.errors import HarnessError
from dra_conformance.paths import REPO


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dra_conformance", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def _one_line_error(res: subprocess.CompletedProcess[str], needle: str) -> None:
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("dra-conformance: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in res.stderr + res.stdout


@pytest.mark.parametrize("args", [["cluster", "create", "--k8s", "1.99"], ["cluster", "config", "--k8s", "banana"],
                                  ["run", "--k8s", "0.1"]])
def test_unknown_version(args):
    _one_line_error(_cli(*args), "unknown Kubernetes version")


@pytest.mark.parametrize("args", [["cluster", "create", "--profile", "gpu-max"], ["run", "--profile", "x"]])
def test_unknown_profile(args):
    _one_line_error(_cli(*args), "unknown profile")


def test_unreachable_docker_engine_names_the_failing_doctor_check():
    res = _cli("cluster", "create", "--k8s", "1.34", env={"DOCKER_HOST": "unix:///tmp/no-such-engine.sock"})
    _one_line_error(res, "does not answer")
    assert "(doctor: ✗ Docker engine: DOCKER_HOST=unix:///tmp/no-such-engine.sock does not answer)" in res.stderr


def test_malformed_driver_profile(tmp_path):
    bad = tmp_path / "driver.yaml"
    bad.write_text("name: [unclosed\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "suites", "--driver-profile", str(bad), "--no-reports",
                          "--kubeconfig", str(tmp_path / "none"), "-q"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode != 0
    assert "Traceback" not in res.stdout + res.stderr


def test_unreachable_cluster(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
""")
    res = _cli("run", "--kubeconfig", str(kubeconfig), "--", "--no-reports", "-q")
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "unreachable" in out and "Traceback" not in out


_GOOD = {"driver": "gpu.example.com", "classes": {"gpu": "gpu.example.com"}}


@pytest.mark.parametrize("extra, needle", [
    ({"capabilities": ["cdi-env"]}, "capability cdi-env needs `cdi.deviceEnv`"),
    ({"cdi": {"deviceEnv": "GPU_(["}}, "cdi.deviceEnv: 'GPU_([' is not a regular expression"),
    ({"cdi": {"deviceEnv": "X", "env": {"A": "{pod}"}}}, "only {driver} and {node} may be filled in"),
    ({"capabilities": ["opaque-config"]}, "capability opaque-config needs `config.gpu`"),
    ({"config": {"gpu": {"parameters": {"kind": "K"}}}}, "config.gpu.env must name what the config produces"),
    ({"config": {"nic": {"parameters": {"kind": "K"}, "env": {"A": "b"}}}}, "config.nic: no such role"),
    ({"install": {"method": "helm", "namespace": "d"}}, "install.chart must be a chart directory"),
    ({"install": {"method": "helm", "chart": "c"}}, "install.namespace must name the release namespace"),
    ({"install": {"method": "helm", "chart": "c", "namespace": "d", "release": "Bad_Name"}}, "not a Helm release name"),
    ({"install": {"method": "manifests", "paths": ["x"], "images": "one"}}, "`install.images` must be a list"),
    ({"classes": {"gpu": {"name": "g", "capacity": "m", "capacities": ["m"]}}}, "give `capacity` or `capacities`"),
])
def test_driver_profile_keys_are_checked(tmp_path, extra: dict, needle: str) -> None:
    import yaml

    from fixtures.driver_profile import load

    bad = tmp_path / "driver.yaml"
    bad.write_text(yaml.safe_dump({**_GOOD, **extra}))
    with pytest.raises(HarnessError) as info:
        load(bad)
    assert str(info.value).startswith(f"driver profile {bad}: ") and needle in str(info.value), info.value


def test_certify_refuses_a_cluster_profile_without_the_claimed_features():
    res = subprocess.run([sys.executable, "-m", "pytest", "suites", "--certify", "--profile", "default",
                          "--k8s-version", "1.34", "--dry-run-plan", "-q"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode != 0 and "Traceback" not in res.stdout + res.stderr
    assert ("--certify: driver profile fake-gpu claims consumable-capacity needs DRAConsumableCapacity" in res.stderr
            and "which profile default leaves off at Kubernetes 1.34" in res.stderr), res.stderr


def test_certify_picks_a_cluster_profile_with_the_claimed_features():
    res = subprocess.run([sys.executable, "-m", "pytest", "suites", "--certify", "--k8s-version", "1.34",
                          "--dry-run-plan", "-q"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "Plan for Kubernetes 1.34, profile all-dra:" in res.stdout
