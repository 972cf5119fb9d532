"""kind config rendering per version and profile."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from clusters.kind import cluster, config, host, versions
from dra_conformance.errors import HarnessError
from dra_conformance.paths import REPO

CASES = [(m, p) for m in versions.minors() for p in versions.profile_names()]


def _render(minor: str, profile: str, workers: int = 2, cgroup: int = 1) -> dict:
    return config.render(config.ClusterSpec(minor, profile, workers, cgroup), "node:img")


@pytest.mark.parametrize(("minor", "profile"), CASES)
def test_no_gate_unknown_to_the_release_is_emitted(minor, profile):
    gates = _render(minor, profile).get("featureGates", {})
    assert set(gates) <= set(versions.gates_at(minor))


@pytest.mark.parametrize(("minor", "profile"), CASES)
def test_runtime_config_only_names_apis_the_release_serves(minor, profile):
    runtime = _render(minor, profile).get("runtimeConfig", {})
    assert set(runtime) <= set(versions.release(minor).apis)
    assert all(v == "true" for v in runtime.values())


@pytest.mark.parametrize("minor", versions.minors())
def test_default_profile_sets_no_gate(minor):
    assert "featureGates" not in _render(minor, "default")
    assert "runtimeConfig" not in _render(minor, "default")


@pytest.mark.parametrize("minor", versions.minors())
def test_all_dra_turns_every_dra_gate_of_the_release_on(minor):
    gates = _render(minor, "all-dra")["featureGates"]
    dra = {g for g in versions.gates_at(minor) if g.startswith("DRA")}
    assert dra and dra <= {g for g, on in gates.items() if on}


def test_all_dra_enables_the_apis_its_alpha_features_need():
    assert "resource.k8s.io/v1alpha3" in _render("1.34", "all-dra")["runtimeConfig"]  # DeviceTaintRule
    assert "scheduling.k8s.io/v1alpha2" in _render("1.36", "all-dra")["runtimeConfig"]
    assert "scheduling.k8s.io/v1alpha2" not in _render("1.37", "all-dra")["runtimeConfig"]


@pytest.mark.parametrize("minor", versions.minors())
def test_cdi_is_enabled_in_containerd(minor):
    patches = "\n".join(_render(minor, "default")["containerdConfigPatches"])
    assert "enable_cdi = true" in patches


@pytest.mark.parametrize(("minor", "cgroup", "expected"), [
    ("1.34", 1, False), ("1.35", 1, True), ("1.37", 1, True), ("1.37", 2, False),
])
def test_fail_cgroupv1_quirk_only_where_needed(minor, cgroup, expected):
    kubelet = [yaml.safe_load(p) for p in _render(minor, "default", cgroup=cgroup)["kubeadmConfigPatches"]
               if "KubeletConfiguration" in p][0]
    assert ("failCgroupV1" in kubelet) is expected
    if expected:
        assert kubelet["failCgroupV1"] is False


def test_workers_and_image():
    cfg = _render("1.34", "default", workers=3)
    assert [n["role"] for n in cfg["nodes"]] == ["control-plane", "worker", "worker", "worker"]
    assert {n["image"] for n in cfg["nodes"]} == {"node:img"}


def test_kubeadm_extra_args_shape_follows_the_kubeadm_api():
    v1beta3 = yaml.safe_load(_render("1.34", "default")["kubeadmConfigPatches"][1])
    v1beta4 = yaml.safe_load(_render("1.36", "default")["kubeadmConfigPatches"][1])
    assert isinstance(v1beta3["scheduler"]["extraArgs"], dict)
    assert isinstance(v1beta4["scheduler"]["extraArgs"], list)


def test_rendering_is_deterministic():
    spec = config.ClusterSpec("1.35", "all-dra", 2, 1)
    assert config.dump(config.render(spec, "x")) == config.dump(config.render(spec, "x"))


def test_unknown_profile_is_one_line_error():
    with pytest.raises(HarnessError, match="unknown profile"):
        _render("1.34", "gpu-everything")


def test_oom_score_adj_is_clamped_only_where_containers_lack_sys_resource():
    ok = config.render(config.ClusterSpec("1.34", "default", 1, 1, True), "x")["containerdConfigPatches"][0]
    clamped = config.render(config.ClusterSpec("1.34", "default", 1, 1, False), "x")["containerdConfigPatches"][0]
    assert "restrict_oom_score_adj" not in ok
    assert "restrict_oom_score_adj = true" in clamped


def test_cluster_config_prints_what_create_writes_on_this_host():
    """`cluster config` is the config `cluster create` would write here: this host's containerd patch
    and the node image the image choice leads to (nothing pulled or built to find out)."""
    res = subprocess.run([sys.executable, "-m", "dra_conformance", "cluster", "config", "--k8s", "1.34"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True)
    printed = yaml.safe_load(res.stdout)
    spec = cluster.for_host(config.ClusterSpec("1.34"))
    assert printed == config.render(spec, cluster.node_image(spec, build=False))
    patch = printed["containerdConfigPatches"][0]
    assert ("restrict_oom_score_adj = true" in patch) == (not host.has_sys_resource())
    if host.cgroup_version() == 1:
        assert printed["nodes"][0]["image"].startswith("dra-conformance.local/node:v1.34.")


@pytest.mark.parametrize("k8s", ["1.38", "v1.38.0-beta.0"])
def test_a_prerelease_minor_and_its_exact_tag_are_accepted(k8s):
    res = subprocess.run([sys.executable, "-m", "dra_conformance", "cluster", "config", "--k8s", k8s, "--profile",
                          "all-dra"], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    printed = yaml.safe_load(res.stdout)
    assert all("v1.38.0-beta.0" in n["image"] for n in printed["nodes"])
    assert "DynamicResourceAllocation" not in printed["featureGates"]
