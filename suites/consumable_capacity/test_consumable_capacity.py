"""Consumable capacity (KEP-5075): claims share one device within its capacity, each with its shareID."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes.utils import parse_quantity

from fixtures import builders as b
from fixtures import devices as dv
from fixtures import waits
from fixtures.driver import Device

pytestmark = [pytest.mark.feature("consumable_capacity"), pytest.mark.capability("consumable-capacity"),
              pytest.mark.roles("shared")]


def _first_shared_of_its_node(kit) -> Callable[[Device], bool]:
    """kube-scheduler 1.34 accounts capacity against the device at the request's index (0) among a
    node's shareable devices, so only the first of each node is accounted correctly there."""
    first: dict[str | None, str] = {}
    for d in kit.driver.devices("shared"):
        if d.spec.get("allowMultipleAllocations"):
            first.setdefault(d.node, d.name)
    if not first:
        pytest.skip("no published device allows multiple allocations (is DRAConsumableCapacity on?)")
    return lambda d: first.get(d.node) == d.name


def _shared_device(kit) -> tuple[str, Device, dict[str, dict]]:
    """(class, device, {capacity: published entry}): a pinned shareable device and the capacities
    a claim must ask a share of: those of the role that have a requestPolicy (the driver may default
    the others to the whole device), or else the role's capacities."""
    role = kit.driver.profile.role("shared")
    if role is None or not role.capacities:
        pytest.skip("the driver profile has no `shared` role with capacities")
    cls, device = kit.pin("shared", among=_first_shared_of_its_node(kit))
    # As published: the allocator matches request keys to the device's capacity keys.
    published = {c: device.capacity[c] for c in role.capacities if c in device.capacity}
    if not published:
        pytest.skip(f"device {device.name} publishes none of the capacities {list(role.capacities)}")
    with_policy = {c: e for c, e in published.items() if e.get("requestPolicy")}
    return cls, device, with_policy or published


def _amounts(capacities: dict[str, dict], numerator: int, denominator: int) -> dict[str, str]:
    amounts = {c: dv.share(e, numerator, denominator) for c, e in capacities.items()}
    if None in amounts.values():
        pytest.skip(f"no amount of {numerator}/{denominator} fits the request policy of {capacities}")
    return amounts  # type: ignore[return-value]


@pytest.mark.prepares
def test_two_claims_share_one_device_within_capacity(kit) -> None:
    cls, device, capacities = _shared_device(kit)
    half = _amounts(capacities, 1, 2)
    claims = [kit.claim([b.request("net", cls, capacity=half)]) for _ in range(2)]
    for c in claims:
        kit.running(kit.pod({"net": b.from_claim(c)}))
    got = [kit.allocated(c)["status"]["allocation"]["devices"]["results"][0] for c in claims]
    assert {(r["pool"], r["device"]) for r in got} == {(device.pool, device.name)}
    share_ids = [r.get("shareID") for r in got]
    assert all(share_ids) and share_ids[0] != share_ids[1], share_ids
    for r in got:
        assert {c: parse_quantity(r["consumedCapacity"][c]) for c in half} == \
            {c: parse_quantity(q) for c, q in half.items()}


@pytest.mark.prepares
def test_over_capacity_request_waits_until_capacity_frees(kit) -> None:
    cls, device, capacities = _shared_device(kit)
    half, whole = _amounts(capacities, 1, 2), _amounts(capacities, 1, 1)
    if not any(parse_quantity(whole[c]) + parse_quantity(half[c]) > parse_quantity(e["value"])
               for c, e in capacities.items()):
        pytest.skip(f"the request policies of {list(capacities)} allow no request beyond what half leaves")
    # A generated claim goes away with its pod, so the capacity certainly frees when the pod is deleted.
    holder = kit.pod({"net": b.from_template(kit.template([b.request("net", cls, capacity=half)]))})
    kit.running(holder)
    big = kit.pod({"net": b.from_claim(kit.claim([b.request("net", cls, capacity=whole)]))})
    waits.pod_unschedulable(kit.api, kit.ns, big, "cannot allocate all claims")
    kit.api.delete("Pod", holder, kit.ns, grace_seconds=0)
    kit.running(big)


def _unaligned(capacity: dict) -> tuple[str, str] | None:
    """(request, what the policy rounds it up to) for a published capacity with a validRange: half a
    step past min rounds up to min + step; below min, to min."""
    rng = (capacity.get("requestPolicy") or {}).get("validRange")
    if not rng or "min" not in rng:
        return None
    low = parse_quantity(rng["min"])
    if "step" in rng:
        step = parse_quantity(rng["step"])
        ask, want = low + step / 2, low + step
    elif low > 0:
        ask, want = low / 2, low
    else:
        return None
    if "max" in rng and want > parse_quantity(rng["max"]) or want > parse_quantity(capacity["value"]):
        return None
    return f"{ask.normalize():f}", f"{want.normalize():f}"


@pytest.mark.prepares
def test_requests_are_rounded_up_to_the_request_policy(kit) -> None:
    """validRange: an amount between steps consumes the next step (below min: min), as allocated."""
    cls, device, capacities = _shared_device(kit)
    cap, (ask, want) = next(((c, u) for c, e in capacities.items() if (u := _unaligned(e))), (None, (None, None)))
    if cap is None:
        pytest.skip(f"no capacity of {device.name} has a validRange with a step or a min to round to")
    claim = kit.claim([b.request("net", cls, capacity={cap: ask})])
    kit.running(kit.pod({"net": b.from_claim(claim)}))
    [result] = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert parse_quantity(result["consumedCapacity"][cap]) == parse_quantity(want), (ask, want, result)


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
@pytest.mark.since("1.35", "kube-scheduler 1.34 accounts a share against the node's first shareable device only")
def test_distinct_attribute_puts_two_shares_on_different_devices(kit) -> None:
    """Two shares of one claim would fit one device; distinctAttribute makes them take two."""
    role = kit.driver.profile.role("shared")
    if role is None:
        pytest.skip("the driver profile has no `shared` role")
    devices = kit.pin_pair("shared")
    if not all(d.spec.get("allowMultipleAllocations") for d in devices):
        pytest.skip(f"devices {[d.name for d in devices]} do not all allow multiple allocations")
    attr = dv.distinct_attribute(devices)
    if attr is None:
        pytest.skip(f"no attribute tells {[d.name for d in devices]} apart")
    cls = kit.class_for(devices, role="shared")
    claim = kit.claim([b.request("a", cls), b.request("b", cls)],
                      constraints=[{"requests": ["a", "b"], "distinctAttribute": dv.qualified(kit.driver.name, attr)}])
    kit.running(kit.pod({"net": b.from_claim(claim)}))
    results = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert sorted(r["device"] for r in results) == sorted(d.name for d in devices), results


def _fractional_capacity(d: Device) -> str | None:
    """A capacity of a shareable device whose request policy steps in fractions of a unit."""
    if not d.spec.get("allowMultipleAllocations"):
        return None
    return next((c for c, e in d.capacity.items() if _unaligned(e)
                 and parse_quantity(e["requestPolicy"]["validRange"].get("step", "1")) % 1), None)


@pytest.mark.prepares
@pytest.mark.feature("fractional_capacity_range")
def test_fractional_request_policy_rounds_in_milli_units(kit) -> None:
    """A policy in fractions of a unit (DRAFractionalCapacityRange): 150m with min 100m and step
    100m consumes 200m, where whole units would have read all three as 1."""
    if not any(_fractional_capacity(d) for d in kit.driver.devices("shared")):
        pytest.skip("no shareable device publishes a request policy with a step below one unit")
    cls, device = kit.pin("shared", among=lambda d: _fractional_capacity(d) is not None)
    cap = _fractional_capacity(device)
    ask, want = _unaligned(device.capacity[cap])  # type: ignore[index,misc]
    claim = kit.claim([b.request("net", cls, capacity={cap: ask})])  # type: ignore[dict-item]
    kit.running(kit.pod({"net": b.from_claim(claim)}))
    [result] = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert parse_quantity(result["consumedCapacity"][cap]) == parse_quantity(want), (ask, want, result)
