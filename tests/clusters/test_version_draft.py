"""`versions add` / `versions check` logic on a synthetic source tree (tests/clusters/data/kubernetes,
a made-up minor 1.99) and the real version table."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from clusters.kind import releasesource, version_draft, versions
from clusters.kind.gatesource import GateSpec, gate_specs
from clusters.kind.table_text import TableText
from tests.clusters.conftest import SYNTHETIC_SOURCE

TEXT = versions.TABLE.read_text()
NEWEST = max(versions.minors(), key=versions.version_key)


@pytest.fixture(scope="module")
def facts() -> releasesource.Facts:
    return releasesource.read(SYNTHETIC_SOURCE, "1.99", "v1.99.0")


@pytest.fixture(scope="module")
def drafted(facts: releasesource.Facts) -> version_draft.Draft:
    return version_draft.draft(TEXT, facts)


def test_a_gate_is_as_its_last_spec_in_force_says(facts):
    assert facts.gates["DRADeviceTaints"] == GateSpec("ga", True, True)
    assert facts.gates["DRAFractionalCapacityRange"] == GateSpec("beta", True, False)  # the later 1.37 spec
    assert facts.gates["DRAResourcePoolStatus"] == GateSpec("alpha", False, False)  # LockToDefault first
    assert "DynamicResourceAllocation" not in facts.gates
    assert gate_specs(SYNTHETIC_SOURCE, "1.36")["DRADeviceTaints"] == GateSpec("alpha", False, False)


def test_apis_and_their_default_serving_come_from_the_resource_config(facts):
    assert list(version_draft.tracked_apis(facts).items()) == [
        ("resource.k8s.io/v1", True), ("resource.k8s.io/v1beta2", False), ("resource.k8s.io/v1alpha3", False),
        ("scheduling.k8s.io/v1alpha2", False)]  # scheduling.k8s.io/v1 (PriorityClass) is not tracked
    assert facts.resources["resource.k8s.io/v1alpha3"] == {"resourcepoolstatusrequests"}
    assert facts.kubeadm_apis == {"kubeadm.k8s.io/v1", "kubeadm.k8s.io/v1beta4"}


def test_a_new_minor_gets_the_sources_facts_and_the_older_minors_kubeadm_api_and_quirks(drafted):
    table = yaml.safe_load(drafted.text)
    older = versions.table()["versions"][NEWEST]
    assert list(table["versions"])[-1] == "1.99"
    assert table["versions"]["1.99"] == {
        "patch": "v1.99.0", "node_image": "kindest/node:v1.99.0", "kubeadm_api": older["kubeadm_api"],
        "apis": {"resource.k8s.io/v1": True, "resource.k8s.io/v1beta2": False, "resource.k8s.io/v1alpha3": False,
                 "scheduling.k8s.io/v1alpha2": False},
        "quirks": older["quirks"]}
    assert f"carried over from {NEWEST}: kubeadm_api {older['kubeadm_api']}" in drafted.notes[0]


def test_every_dra_gate_gets_its_stage_there_and_a_removed_gate_none(drafted, facts):
    gates = yaml.safe_load(drafted.text)["gates"]
    assert gates["DRADeviceTaints"]["stages"]["1.99"] == "ga on locked"
    assert gates["DRAWorkloadResourceClaims"]["stages"]["1.99"] == "beta off"
    assert "1.99" not in gates["DynamicResourceAllocation"]["stages"]
    assert gates["DRABrandNew"]["stages"] == {"1.99": "alpha off"}
    assert "SomeUnrelatedGate" not in gates and "KubeletPodResourcesListUseActivePods" not in gates
    for gate in set(versions.gates_at(NEWEST)) - set(facts.gates):  # each named for review, GA ones as staying
        was = versions.table()["gates"][gate]["stages"][NEWEST]
        keyed = [k for k, f in versions.features().items() if f["gate"] == gate and was.startswith("ga on")]
        stays = f"; {', '.join(keyed)} stays GA and on" if keyed else ""
        assert f"gate {gate} is gone in 1.99 (was {was} in {NEWEST}){stays}" in drafted.notes
    assert "new DRA gate DRABrandNew (alpha off): add its kep and components" in drafted.notes


def test_feature_apis_are_carried_over_only_where_runtime_config_is_still_needed(drafted):
    features = yaml.safe_load(drafted.text)["features"]
    assert features["resource_pool_status"]["apis"]["1.99"] == ["resource.k8s.io/v1alpha3"]
    assert "1.99" not in features["workload_claims"]["apis"]
    old = versions.feature("workload_claims")["apis"][NEWEST][0]
    assert f"feature workload_claims: {old} of {NEWEST} dropped in 1.99: not served" in drafted.notes


def test_an_api_whose_resources_are_all_served_on_by_default_is_not_carried_over(facts):
    doc = TableText(TEXT)
    apis = versions.feature("device_taint_rules")["apis"]
    doc.set_flow_field("features", "device_taint_rules", "apis", apis | {NEWEST: ["resource.k8s.io/v1beta2"]})
    result = version_draft.draft(doc.text(), facts)
    assert "1.99" not in yaml.safe_load(result.text)["features"]["device_taint_rules"]["apis"]
    assert (f"feature device_taint_rules: resource.k8s.io/v1beta2 of {NEWEST} dropped in 1.99: all it serves "
            "(devicetaintrules) is served on by default") in result.notes


def test_only_the_lines_it_means_to_change_change(drafted):
    diff = version_draft.unified_diff(TEXT, drafted.text, "versions.yaml").splitlines()
    removed = [ln for ln in diff if ln.startswith("-") and not ln.startswith("---")]
    assert removed and all(ln.lstrip("- ").startswith(("stages: {", "apis: {")) for ln in removed)
    comments = [ln for ln in TEXT.splitlines() if ln.lstrip().startswith("#") or " # " in ln]
    assert all(ln in drafted.text.splitlines() for ln in comments if "apis: {" not in ln)


def test_drafting_again_changes_nothing(drafted, facts):
    assert version_draft.draft(drafted.text, facts).text == drafted.text


def test_redrafting_a_known_minor_keeps_its_comments():
    minor = versions.minors()[0]
    rel = versions.release(minor)
    gates = {g: GateSpec(s.stage, s.default, s.locked) for g, s in versions.gates_at(minor).items()}
    facts = releasesource.Facts(minor, f"v{minor}.99", gates, dict(rel.apis), {}, frozenset({rel.kubeadm_api}))
    diff = version_draft.unified_diff(TEXT, version_draft.draft(TEXT, facts).text, "versions.yaml").splitlines()
    changed = [ln for ln in diff if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    old_image = next(ln for ln in TEXT.splitlines() if f"node_image: kindest/node:{rel.patch}" in ln)
    column = old_image.index("#")  # the comment stays where it was
    new_image = f"    node_image: kindest/node:v{minor}.99".ljust(column) + old_image[column:]
    assert changed == [f"-    patch: {rel.patch}", f"-{old_image}", f"+    patch: v{minor}.99", f"+{new_image}"]


def test_a_prerelease_is_marked_and_the_final_release_drops_the_mark(facts):
    beta = version_draft.draft(TEXT, dataclasses.replace(facts, patch="v1.99.0-beta.0"))
    entry = yaml.safe_load(beta.text)["versions"]["1.99"]
    assert entry["prerelease"] is True and entry["node_image"] == "kindest/node:v1.99.0-beta.0"
    assert any("rerun `versions add 1.99 --patch v1.99.0`" in n for n in beta.notes)
    final = yaml.safe_load(version_draft.draft(beta.text, facts).text)["versions"]["1.99"]
    assert "prerelease" not in final and final["patch"] == "v1.99.0"


def test_drift_names_each_difference(drafted, facts):
    table = yaml.safe_load(drafted.text)
    assert version_draft.drift(table, facts) == []
    table["gates"]["DRADeviceTaints"]["stages"]["1.99"] = "ga on"
    del table["gates"]["DRAAdminAccess"]["stages"]["1.99"]
    table["versions"]["1.99"]["apis"]["resource.k8s.io/v1beta2"] = True
    table["versions"]["1.99"]["kubeadm_api"] = "kubeadm.k8s.io/v1beta3"
    table["features"]["resource_pool_status"]["apis"]["1.99"] = ["resource.k8s.io/v1beta1"]
    assert version_draft.drift(table, facts) == [
        "gate DRAAdminAccess: the table says absent, the v1.99.0 source ga on locked",
        "gate DRADeviceTaints: the table says ga on, the v1.99.0 source ga on locked",
        "api resource.k8s.io/v1beta2: the table says on, the v1.99.0 source off",
        "feature resource_pool_status turns resource.k8s.io/v1beta1 on through runtime-config; the v1.99.0 source "
        "absent",
        "kubeadm_api kubeadm.k8s.io/v1beta3 is not in the v1.99.0 source (it has kubeadm.k8s.io/v1, "
        "kubeadm.k8s.io/v1beta4)",
    ]


def test_an_older_minor_goes_before_the_others_with_the_oldest_ones_carry_overs(facts):
    oldest = versions.minors()[0]
    table = yaml.safe_load(version_draft.draft(TEXT, dataclasses.replace(facts, minor="1.33", patch="v1.33.0")).text)
    assert list(table["versions"])[:2] == ["1.33", oldest]
    assert table["versions"]["1.33"]["kubeadm_api"] == versions.release(oldest).kubeadm_api
    assert list(table["gates"]["DRADeviceTaints"]["stages"])[0] == "1.33"  # stages stay in minor order
