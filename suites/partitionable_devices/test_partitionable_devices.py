"""Partitionable devices (KEP-4815): devices draw on shared counters, so a whole device and its
partitions exclude each other and partitions fit side by side only while the counters last.

Driver-agnostic: the tests read the counter sets and what each device draws from the driver's own
slices, pin every device of one set, and predict from those numbers what must fit and what must wait.
"""

from __future__ import annotations

from typing import Any

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures import waits
from fixtures.counters import CounterSet, counter_sets
from fixtures.driver import Device

pytestmark = [pytest.mark.feature("partitionable_devices"), pytest.mark.capability("partitionable-devices")]

WAITING = "cannot allocate all claims"


def _pinned_set(kit) -> tuple[CounterSet, dict[str, str]]:
    """A counter set of which this test pinned every device: (set, {device name: its class})."""
    if not counter_sets(kit.driver):
        pytest.skip(f"driver {kit.driver.name} publishes no counter set that two devices draw on")
    found: dict[tuple[str, str], CounterSet] = {}

    def groups() -> list[list[Device]]:
        taken = kit.driver.allocated()
        free = [s for s in counter_sets(kit.driver) if not any((d.pool, d.name) in taken for d in s.members)]
        found.update({(s.pool, s.members[0].name): s for s in free})
        return [list(s.members) for s in free]

    pinned = kit.pin_group(groups, "a counter set with every device free")
    first = pinned[0][1]
    return found[(first.pool, first.name)], {d.name: cls for cls, d in pinned}


def _whole_and_part(cs: CounterSet) -> tuple[Device, Device]:
    whole = [d for d in cs.members if cs.draw(d) == cs.counters]
    parts = [d for d in cs.members if cs.draw(d) != cs.counters]
    if not whole or not parts:
        pytest.skip(f"counter set {cs.name} has no device drawing all of it and one drawing part of it")
    return whole[0], parts[0]


def _pod_for(kit, cls: str) -> str:
    """A pod with a claim of its own for the class's device: the claim goes when the pod is deleted."""
    return kit.pod({"dev": b.from_template(kit.template([b.request("dev", cls)]))})


def _device_of(kit, pod: str) -> str:
    claim = kit.allocated(kit.generated(pod, "dev"))
    [result] = claim["status"]["allocation"]["devices"]["results"]
    return result["device"]


def _holds_back(kit, first: Device, second: Device, classes: dict[str, str]) -> None:
    """`first` runs; `second` waits while `first` holds the counters, and runs once it is freed."""
    holder = _pod_for(kit, classes[first.name])
    kit.running(holder)
    assert _device_of(kit, holder) == first.name
    waiting = _pod_for(kit, classes[second.name])
    waits.pod_unschedulable(kit.api, kit.ns, waiting, WAITING)
    kit.api.delete("Pod", holder, kit.ns, grace_seconds=0)
    kit.running(waiting)
    assert _device_of(kit, waiting) == second.name


@pytest.mark.prepares
def test_a_partition_holds_its_whole_device_back(kit) -> None:
    cs, classes = _pinned_set(kit)
    whole, part = _whole_and_part(cs)
    _holds_back(kit, part, whole, classes)


@pytest.mark.prepares
def test_a_whole_device_holds_its_partitions_back(kit) -> None:
    cs, classes = _pinned_set(kit)
    whole, part = _whole_and_part(cs)
    _holds_back(kit, whole, part, classes)


@pytest.mark.prepares
def test_partitions_consume_and_free_counters(kit) -> None:
    """Partitions that fit the counters run side by side; one more device waits until enough of
    them are freed, and then runs (upstream: 2Gi and 4Gi of 8Gi fit, the next 4Gi waits)."""
    cs, classes = _pinned_set(kit)
    fitting: list[Device] = []
    for d in sorted(cs.members, key=lambda d: sum(cs.draw(d).values())):
        if cs.fits([*fitting, d]):
            fitting.append(d)
    over = next((d for d in cs.members if d not in fitting and not cs.fits([*fitting, d])), None)
    if len(fitting) < 2 or over is None:
        pytest.skip(f"counter set {cs.name}: no two devices that fit together and a third that then does not")
    pods = {d.name: _pod_for(kit, classes[d.name]) for d in fitting}
    for name, pod in pods.items():
        kit.running(pod)
        assert _device_of(kit, pod) == name
    waiting = _pod_for(kit, classes[over.name])
    waits.pod_unschedulable(kit.api, kit.ns, waiting, WAITING)
    while not cs.fits([*fitting, over]):
        freed = fitting.pop()
        kit.api.delete("Pod", pods.pop(freed.name), kit.ns, grace_seconds=0)
    kit.running(waiting)
    assert _device_of(kit, waiting) == over.name
    for name, pod in pods.items():  # the ones never freed kept their partitions
        assert _device_of(kit, pod) == name


def test_counter_sets_are_shared_across_the_slices_of_one_pool(kit) -> None:
    """Every counter a device draws on is published in its pool, whose slices (once a republish,
    say another test's taint, is complete) share one generation, and no device draws more of a
    counter than the set has."""
    if not counter_sets(kit.driver):
        pytest.skip(f"driver {kit.driver.name} publishes no counter set that two devices draw on")

    def settled() -> tuple[bool, Any]:
        pools: dict[str, list[dict[str, Any]]] = {}
        for s in kit.driver.slices():
            pools.setdefault(s["spec"]["pool"]["name"], []).append(s)
        torn = {p: sorted((s["metadata"]["name"], s["spec"]["pool"]["generation"]) for s in ss)
                for p, ss in pools.items() if len({s["spec"]["pool"]["generation"] for s in ss}) != 1
                or len(ss) != ss[0]["spec"]["pool"]["resourceSliceCount"]}
        return (True, (pools, counter_sets(kit.driver))) if not torn else (False, torn)
    by_pool, sets = wait_for("every pool of the driver to be complete in one generation", settled,
                             "slices_published")
    for cs in sets:
        pool = by_pool[cs.pool]
        for d in cs.members:
            draw = cs.draw(d)
            assert set(draw) <= set(cs.counters), (d.name, draw, cs.counters)
            assert all(q <= cs.counters[c] for c, q in draw.items()), (d.name, draw, cs.counters)
        if cs.slice not in cs.slices_of(kit.driver):
            # 1.35 on: the set travels in a slice of its own, and the scheduler must join them.
            assert not next(s for s in pool if s["metadata"]["name"] == cs.slice)["spec"].get("devices")


@pytest.mark.prepares
@pytest.mark.capability("admin-access")
def test_admin_access_to_a_whole_device_in_use(kit) -> None:
    """Admin access reaches a device whatever allocates it, one that draws on counters too: the
    admin claim must not need the counters its device already holds."""
    cs, classes = _pinned_set(kit)
    whole, _ = _whole_and_part(cs)
    user = _pod_for(kit, classes[whole.name])
    kit.running(user)
    kit.api.patch("Namespace", kit.ns, {"metadata": {"labels": {"resource.kubernetes.io/admin-access": "true"}}})
    admin = kit.claim([b.request("admin", classes[whole.name], admin_access=True)])
    pod = kit.pod({"admin": b.from_claim(admin)})
    # Nothing else competes for the device: a first "cannot allocate" is the answer, no need to wait on.
    seen = waits.pod(kit.api, kit.ns, pod, lambda p: p["status"].get("phase") == "Running" or WAITING in str(
        (waits.scheduled_condition(p) or {}).get("message")), "to run or be refused", "pod_running")
    assert seen["status"].get("phase") == "Running", waits.describe_pod(kit.api, seen)
    kit.started(seen)
    [result] = kit.allocated(admin)["status"]["allocation"]["devices"]["results"]
    assert (result["device"], result.get("adminAccess")) == (whole.name, True), result
