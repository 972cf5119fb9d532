"""The version table is consistent with itself."""

from __future__ import annotations

import pytest

from clusters.kind import versions
from dra_conformance.errors import HarnessError


def test_every_version_has_a_patch_of_its_minor():
    for minor in versions.minors():
        rel = versions.release(minor)
        assert rel.patch.startswith(f"v{minor}."), rel
        assert rel.node_image.endswith(":" + rel.patch)
        assert rel.apis["resource.k8s.io/v1"] is True  # DRA is GA from 1.34 on


def test_default_version_is_in_the_table():
    assert versions.default_minor() in versions.minors()


@pytest.mark.parametrize("gate", list(versions.table()["gates"]))
def test_gate_stages_parse_and_only_name_known_minors(gate):
    stages = versions.table()["gates"][gate]["stages"]
    assert set(stages) <= set(versions.minors()), f"{gate} names an unknown minor"
    parsed = [versions.Stage.parse(s) for s in stages.values()]
    assert all(s.stage in ("alpha", "beta", "ga", "deprecated") for s in parsed)
    assert all(s.default for s in parsed if s.locked), "a locked gate is locked to on in our table"


@pytest.mark.parametrize("gate", list(versions.table()["gates"]))
def test_stages_never_go_backwards(gate):
    order = {"alpha": 0, "beta": 1, "ga": 2, "deprecated": 3}
    ranks = [order[versions.gate_stage(gate, m).stage] for m in versions.minors() if versions.gate_stage(gate, m)]
    assert ranks == sorted(ranks), f"{gate} regresses"


def test_required_gates_exist_wherever_the_gate_does():
    for gate, spec in versions.table()["gates"].items():
        for needed in spec.get("requires", []):
            for minor in versions.minors():
                if versions.gate_stage(gate, minor):
                    assert versions.gate_stage(needed, minor), f"{gate} needs {needed} at {minor}"


def test_features_name_known_gates_and_apis():
    for key, spec in versions.features().items():
        assert spec["gate"] in versions.table()["gates"], key
        for minor, apis in spec.get("apis", {}).items():
            assert set(apis) <= set(versions.release(minor).apis), f"{key} at {minor}"


@pytest.mark.parametrize(("feature", "minor", "expected"), [
    ("admin_access", "1.34", "beta"), ("admin_access", "1.36", "ga"),
    ("prioritized_list", "1.35", "beta"), ("consumable_capacity", "1.34", "alpha"),
    ("resource_health", "1.36", "beta"), ("device_taint_rules", "1.34", None),
    ("core", "1.38", "ga"),  # DynamicResourceAllocation is gone in 1.38: GA, always on
])
def test_maturity_follows_the_gate(feature, minor, expected):
    assert versions.maturity(feature, minor) == expected


@pytest.mark.parametrize("text", ["1.99", "latest", "v2.0.1", ""])
def test_unknown_version_is_one_line_error(text):
    with pytest.raises(HarnessError, match="unknown Kubernetes version"):
        versions.release(text or "nope")


def test_exact_patch_overrides_the_default():
    assert versions.release("1.34.2").patch == "v1.34.2"
    assert versions.release("v1.37").patch == versions.release("1.37").patch


def test_exact_prerelease_patch_is_accepted():
    rel = versions.release("v1.37.0-rc.1")
    assert (rel.minor, rel.patch) == ("1.37", "v1.37.0-rc.1")
    assert rel.node_image.endswith(":v1.37.0-rc.1")


@pytest.mark.parametrize("minor", versions.minors())
def test_prerelease_flag_matches_the_patch(minor):
    assert versions.prerelease(minor) == ("-" in versions.release(minor).patch)


def test_default_version_is_no_prerelease():
    assert not versions.prerelease(versions.default_minor())


def _table_with(gates: dict, features: dict) -> object:
    real = versions.table()
    return lambda: {**real, "gates": gates, "features": features}


def test_a_gate_removed_after_ga_leaves_its_feature_ga_and_on(monkeypatch):
    minors = versions.minors()
    gate = {"stages": {m: "ga on locked" for m in minors[:-1]}}
    monkeypatch.setattr(versions, "table", _table_with({"G": gate}, {"f": {"gate": "G", "title": "t"}}))
    assert versions.gates_at(minors[-1]) == {}  # never emitted where it is gone
    assert versions.graduated("G", minors[-1])
    assert versions.maturity("f", minors[-1]) == "ga"
    assert versions.feature_enabled("f", "default", minors[-1])


def test_a_gate_dropped_before_ga_takes_its_feature_with_it(monkeypatch):
    minors = versions.minors()
    gate = {"stages": {minors[0]: "alpha off"}}
    monkeypatch.setattr(versions, "table", _table_with({"G": gate}, {"f": {"gate": "G", "title": "t"}}))
    assert not versions.graduated("G", minors[1])
    assert versions.maturity("f", minors[1]) is None
    assert not versions.feature_enabled("f", "all-dra", minors[1])


def test_1_38_is_the_beta_pre_release_without_the_dynamic_resource_allocation_gate():
    assert versions.release("1.38").patch == versions.release("v1.38.0-beta.0").patch == "v1.38.0-beta.0"
    assert versions.prerelease("1.38")
    assert "DynamicResourceAllocation" not in versions.gates_at("1.38")
    assert versions.feature_enabled("core", "default", "1.38")
