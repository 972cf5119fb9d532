"""Consumable capacity (KEP-5075): claims share one device within its capacity, each with its shareID."""

from __future__ import annotations

import pytest
from kubernetes.utils import parse_quantity

from fixtures import builders as b
from fixtures import devices as dv
from fixtures import waits

pytestmark = [pytest.mark.feature("consumable_capacity"), pytest.mark.capability("consumable-capacity")]


def _shared_device(kit) -> tuple[str, object, str, str]:
    role = kit.driver.profile.role("shared")
    if role is None or not role.capacity:
        pytest.skip("the driver profile has no `shared` role with a capacity")
    multi = [d for d in kit.driver.devices("shared") if d.spec.get("allowMultipleAllocations")]
    if not multi:
        pytest.skip("no published device allows multiple allocations (is DRAConsumableCapacity on?)")
    # The first shared device of its slice: kube-scheduler 1.34 checks capacity against the slice's
    # device at the request's index (0), so only that device is accounted correctly there.
    device = multi[0]
    cls = kit.device_class(dv.unique_selector(kit.driver.name, device, kit.driver.devices(None)), role="shared")
    cap = role.capacity  # as published: the allocator matches request keys to the device's capacity keys
    total = device.capacity[role.capacity]["value"]
    return cls, device, cap, total


def _claim(kit, cls: str, cap: str, amount: str) -> str:
    return kit.claim([b.request("net", cls, capacity={cap: amount})])


def test_two_claims_share_one_device_within_capacity(kit) -> None:
    cls, device, cap, total = _shared_device(kit)
    half = dv.fraction(total, 1, 2)
    claims = [_claim(kit, cls, cap, half) for _ in range(2)]
    for c in claims:
        kit.running(kit.pod({"net": b.from_claim(c)}))
    got = [kit.allocated(c)["status"]["allocation"]["devices"]["results"][0] for c in claims]
    assert {(r["pool"], r["device"]) for r in got} == {(device.pool, device.name)}
    share_ids = [r.get("shareID") for r in got]
    assert all(share_ids) and share_ids[0] != share_ids[1], share_ids
    for r in got:
        assert parse_quantity(r["consumedCapacity"][cap]) == parse_quantity(half)


def test_over_capacity_request_waits_until_capacity_frees(kit) -> None:
    cls, device, cap, total = _shared_device(kit)
    half = dv.fraction(total, 1, 2)
    # A generated claim goes away with its pod, so the capacity certainly frees when the pod is deleted.
    holder = kit.pod({"net": b.from_template(kit.template([b.request("net", cls, capacity={cap: half})]))})
    kit.running(holder)
    big = kit.pod({"net": b.from_claim(_claim(kit, cls, cap, total))})
    waits.pod_unschedulable(kit.api, kit.ns, big, "cannot allocate all claims")
    kit.api.delete("Pod", holder, kit.ns, grace_seconds=0)
    kit.running(big)
