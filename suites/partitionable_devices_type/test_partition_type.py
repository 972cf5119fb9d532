"""Partition type attribute (DRAPartitionableDevicesType): a slice names the attribute that tells
which kind of partition each counter-consuming device is (spec.partitionTypeAttribute), and the pool
status summarises per kind how many there are and how many still fit in the counters left.

The scheduler does not read it; a ResourcePoolStatusRequest does. The pool is the test's own
(fixtures/synthetic_driver.py): a GPU of 8 units of memory, cut as one Full or two Halves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures import pool_status as ps
from fixtures.kubeapi import rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("partitionable_devices_type")
COUNTERS = [{"name": "gpu-0", "counters": {"memory": {"value": "8"}}}]


def _devices(profile: bool = True) -> list[dict[str, Any]]:
    def device(name: str, kind: str, memory: str) -> dict[str, Any]:
        d: dict[str, Any] = {"name": name, "consumesCounters": [
            {"counterSet": "gpu-0", "counters": {"memory": {"value": memory}}}]}
        if profile:
            d["attributes"] = {"profile": {"string": kind}}
        return d
    return [device("full", "Full", "8"), device("half-a", "Half", "4"), device("half-b", "Half", "4")]


def _summary(status: dict[str, Any]) -> dict[str, tuple[int, int]]:
    pool = ps.pools(status)["gpu"]
    assert "validationError" not in pool, pool
    return {s["type"]: (s["total"], s["allocatable"]) for s in pool.get("partitionSummary") or []}


def _pool(kit: Kit, typed: bool = True) -> SyntheticDriver:
    """The pool, naming `profile` its partition type attribute if `typed`."""
    drv = SyntheticDriver(kit, "ptype")
    if typed:
        drv.publish_or_skip("gpu", _devices(), "DRAPartitionableDevicesType",
                            lambda s: s[-1]["spec"].get("partitionTypeAttribute"), counters=COUNTERS,
                            partitionTypeAttribute=drv.qualified("profile"))
    else:
        drv.publish("gpu", _devices(), counters=COUNTERS)
    return drv


def test_the_summary_counts_partitions_per_type_and_what_still_fits(kit) -> None:
    drv = _pool(kit)
    assert _summary(ps.snapshot(kit, drv.name, ps.listing("gpu"))) == {"Full": (1, 1), "Half": (2, 2)}
    claim = kit.claim([b.request("dev", drv.class_for(f'{drv.attr("profile")} == "Half"'))])
    kit.pod({"dev": b.from_claim(claim)})
    kit.allocated(claim)
    # A Half in use leaves 4 of 8: no Full fits any more, the other Half does.
    after = {"Full": (1, 0), "Half": (2, 1)}
    assert _summary(ps.snapshot(kit, drv.name, lambda s: _summary(s) == after)) == after


def test_a_request_may_name_the_attribute_for_pools_that_do_not(kit) -> None:
    drv = _pool(kit, typed=False)
    assert _summary(ps.snapshot(kit, drv.name, ps.listing("gpu"))) == {}
    named = ps.snapshot(kit, drv.name, ps.listing("gpu"), defaultPartitionTypeAttribute=drv.qualified("profile"))
    assert _summary(named) == {"Full": (1, 1), "Half": (2, 2)}


def test_the_attribute_needs_counter_consuming_devices_that_all_have_it(kit) -> None:
    drv = _pool(kit)
    attr = drv.qualified("profile")
    rejected(lambda: drv.publish("plain", [{"name": "dev-0", "attributes": {"profile": {"string": "Full"}}}],
                                partitionTypeAttribute=attr), "consume counters")
    rejected(lambda: drv.publish("untyped", _devices(profile=False), counters=COUNTERS, partitionTypeAttribute=attr),
            "partitionTypeAttribute")
