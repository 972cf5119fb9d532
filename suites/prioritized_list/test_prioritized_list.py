"""Prioritized list (KEP-4816, `firstAvailable`): the first satisfiable subrequest wins."""

from __future__ import annotations

import pytest

from fixtures import builders as b
from fixtures import devices as dv

pytestmark = pytest.mark.feature("prioritized_list")


def _results(kit, claim: str) -> list[dict]:
    return kit.allocated(claim)["status"]["allocation"]["devices"]["results"]


def _impossible_class(kit) -> str:
    return kit.device_class(dv.no_match_selector(kit.driver.name, kit.driver.devices("gpu")[0]), prefix="none")


@pytest.mark.prepares
def test_first_satisfiable_subrequest_is_chosen(kit) -> None:
    gpu = kit.driver.class_name("gpu")
    claim = kit.claim([b.first_available("req", [b.subrequest("impossible", _impossible_class(kit)),
                                                 b.subrequest("possible", gpu, selectors=[kit.pinned_selector()])])])
    kit.running(kit.pod({"req": b.from_claim(claim)}))
    (result,) = _results(kit, claim)
    assert result["request"] == "req/possible"


@pytest.mark.prepares
def test_first_subrequest_wins_when_both_fit(kit) -> None:
    gpu, pinned = kit.driver.class_name("gpu"), kit.pinned_selector()
    claim = kit.claim([b.first_available("req", [b.subrequest("first", gpu, selectors=[pinned]),
                                                 b.subrequest("second", gpu, selectors=[pinned])])])
    kit.running(kit.pod({"req": b.from_claim(claim)}))
    assert [r["request"] for r in _results(kit, claim)] == ["req/first"]


@pytest.mark.prepares
@pytest.mark.capability("opaque-config")
def test_config_of_the_chosen_subrequest_is_used(kit) -> None:
    cfg, drv, gpu = kit.role_config("gpu"), kit.driver.name, kit.driver.class_name("gpu")
    impossible = _impossible_class(kit)

    def claim_with_config_for(subrequest: str) -> str:
        return kit.claim([b.first_available("req", [b.subrequest("impossible", impossible),
                                                    b.subrequest("possible", gpu, selectors=[kit.pinned_selector()])])],
                         config=[b.opaque(drv, cfg.parameters, [subrequest])])
    chosen, unchosen = claim_with_config_for("req/possible"), claim_with_config_for("req/impossible")
    pods = {c: kit.pod({"req": b.from_claim(c)}) for c in (chosen, unchosen)}
    for c, pod in pods.items():
        kit.running(pod)
        assert [r["request"] for r in _results(kit, c)] == ["req/possible"]
    assert all(cfg.shown(kit.env(pods[chosen])).values()), "config of the chosen subrequest is missing"
    assert not any(cfg.shown(kit.env(pods[unchosen])).values()), "config of a subrequest not chosen was applied"


@pytest.mark.prepares
@pytest.mark.roles("nic")
def test_constraint_selects_the_compatible_subrequest(kit) -> None:
    gpu_role, nic_role = kit.driver.profile.role("gpu"), kit.driver.profile.role("nic")
    if nic_role is None or not gpu_role or not gpu_role.match or set(gpu_role.match) != set(nic_role.match):
        pytest.skip("needs gpu and nic roles told apart by the same attribute")
    attr = next(iter(gpu_role.match))
    node = next((n for n in kit.driver.nodes("gpu", 2) if n in kit.driver.nodes("nic")), None)
    if node is None:
        pytest.skip("no node has two gpus and a nic")
    gpu, nic, pair = kit.driver.class_name("gpu"), kit.driver.class_name("nic"), kit.pinned_selector(count=2)
    # b prefers a nic, but `a` is a gpu and both must agree on the role attribute: b falls back to a gpu.
    claim = kit.claim([b.request("a", gpu, selectors=[pair]),
                       b.first_available("b", [b.subrequest("nic", nic), b.subrequest("gpu", gpu, selectors=[pair])])],
                      constraints=[{"requests": ["a", "b"], "matchAttribute": dv.qualified(kit.driver.name, attr)}])
    kit.running(kit.pod({"c": b.from_claim(claim)}))
    assert sorted(r["request"] for r in _results(kit, claim)) == ["a", "b/gpu"]


def _class_of_two(kit) -> tuple[str, list]:
    """A class matching exactly two devices this test pinned on one node."""
    devices = kit.pin_pair()
    return kit.class_for(devices), devices


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
def test_first_satisfiable_count_is_chosen(kit) -> None:
    """Counts are part of what must be satisfiable: of 3, 2 and 1 devices from a class of two, 2 wins."""
    cls, devices = _class_of_two(kit)
    claim = kit.claim([b.first_available("req", [b.subrequest("three", cls, count=3),
                                                 b.subrequest("two", cls, count=2),
                                                 b.subrequest("one", cls, count=1)])])
    pod = kit.pod({"req": b.from_claim(claim)})
    kit.running(pod)
    results = _results(kit, claim)
    assert [r["request"] for r in results] == ["req/two", "req/two"], results
    assert sorted(r["device"] for r in results) == sorted(d.name for d in devices)
    assert kit.devices_seen(pod) == {d.name for d in devices}


@pytest.mark.prepares
@pytest.mark.capability("opaque-config", "multi-device")
def test_config_of_the_chosen_subrequest_reaches_all_its_devices(kit) -> None:
    cfg, drv = kit.role_config("gpu"), kit.driver.name
    cls, devices = _class_of_two(kit)
    claim = kit.claim([b.first_available("req", [b.subrequest("impossible", _impossible_class(kit)),
                                                 b.subrequest("pair", cls, count=2)])],
                      config=[b.opaque(drv, cfg.parameters, ["req/pair"])])
    pod = kit.pod({"req": b.from_claim(claim)})
    kit.running(pod)
    assert [r["request"] for r in _results(kit, claim)] == ["req/pair", "req/pair"]
    assert kit.devices_seen(pod) == {d.name for d in devices}
    assert all(cfg.shown(kit.env(pod)).values()), "config of the chosen subrequest is missing"
