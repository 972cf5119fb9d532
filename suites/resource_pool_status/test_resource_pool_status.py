"""ResourcePoolStatusRequest (KEP-5677): kube-controller-manager answers a request with a snapshot of
a driver's pools: slices, devices in total, allocated, unavailable (tainted) and available.

The counts are checked on pools the test publishes itself (fixtures/synthetic_driver.py), where no
other test allocates; the node of each pool on the certified driver's own pools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fixtures import builders as b
from fixtures import pool_status as ps
from fixtures.kubeapi import rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("resource_pool_status")
TAINT = {"key": "dra-conformance.io/pool-status", "effect": "NoSchedule"}


def _driver(kit: Kit, *pools: int) -> SyntheticDriver:
    """A driver with pools `pool-0`, `pool-1`, ... of that many devices each."""
    drv = SyntheticDriver(kit, "pools")
    for i, count in enumerate(pools):
        drv.publish(f"pool-{i}", [{"name": f"dev-{j}"} for j in range(count)])
    return drv


def _allocate(kit: Kit, drv: SyntheticDriver, count: int) -> None:
    claim = kit.claim([b.request("dev", drv.device_class, count=count)])
    kit.pod({"dev": b.from_claim(claim)})
    kit.allocated(claim)


def test_counts_a_pool_and_its_allocated_devices(kit) -> None:
    drv = _driver(kit, 4)
    status = ps.snapshot(kit, drv.name, ps.listing("pool-0"))
    [complete] = status["conditions"]
    assert (complete["type"], complete["reason"]) == ("Complete", "CalculationComplete"), complete
    assert status["poolCount"] == 1, status
    pool = ps.pools(status)["pool-0"]
    assert {k: pool.get(k) for k in ("driver", "generation", "resourceSliceCount", "totalDevices",
                                     "allocatedDevices", "availableDevices", "unavailableDevices")} == \
        {"driver": drv.name, "generation": 1, "resourceSliceCount": 1, "totalDevices": 4, "allocatedDevices": 0,
         "availableDevices": 4, "unavailableDevices": 0}, pool
    assert "nodeName" not in pool and "validationError" not in pool, pool  # an allNodes pool
    _allocate(kit, drv, 3)
    pool = ps.pools(ps.snapshot(kit, drv.name, lambda s: ps.pools(s)["pool-0"]["allocatedDevices"] == 3))["pool-0"]
    assert (pool["allocatedDevices"], pool["availableDevices"]) == (3, 1), pool


def test_filters_by_pool_and_truncates_at_the_limit(kit) -> None:
    drv = _driver(kit, 1, 2)
    both = ps.snapshot(kit, drv.name, ps.listing("pool-0", "pool-1"))
    assert both["poolCount"] == 2 and [p["poolName"] for p in both["pools"]] == ["pool-0", "pool-1"], both
    one = ps.snapshot(kit, drv.name, ps.listing("pool-1"), poolName="pool-1")
    assert one["poolCount"] == 1 and ps.pools(one)["pool-1"]["totalDevices"] == 2, one
    cut = ps.snapshot(kit, drv.name, lambda s: s["poolCount"] == 2, limit=1)
    assert cut["poolCount"] == 2 and len(cut["pools"]) == 1, cut  # poolCount counts what was cut
    none = ps.snapshot(kit, f"none-{drv.name}")
    assert none["poolCount"] == 0 and not none.get("pools"), none


@pytest.mark.since("1.37", "1.36 counts no device as unavailable")
def test_a_tainted_device_is_unavailable(kit) -> None:
    drv = SyntheticDriver(kit, "pools")
    drv.publish("pool-0", [{"name": "dev-0", "taints": [TAINT]}, {"name": "dev-1"}])
    pool = ps.pools(ps.snapshot(kit, drv.name, ps.listing("pool-0")))["pool-0"]
    assert (pool["totalDevices"], pool["unavailableDevices"], pool["availableDevices"]) == (2, 1, 1), pool


@pytest.mark.since("1.37", "the shareable summary is new in 1.37")
def test_shareable_summary_counts_devices_in_part_use(kit) -> None:
    drv = SyntheticDriver(kit, "pools")
    shared = {"allowMultipleAllocations": True, "capacity": {"memory": {"value": "8Gi"}}}
    drv.publish("pool-0", [{"name": f"dev-{i}", **shared} for i in range(2)])
    summary = ps.pools(ps.snapshot(kit, drv.name, ps.listing("pool-0")))["pool-0"].get("shareableSummary")
    assert summary and (summary.get("fullyAvailableDevices"), summary.get("partiallyAvailableDevices", 0)) == (2, 0), \
        summary
    claim = kit.claim([b.request("dev", drv.device_class, capacity={"memory": "2Gi"})])
    kit.pod({"dev": b.from_claim(claim)})
    kit.allocated(claim)
    summary = ps.pools(ps.snapshot(kit, drv.name, lambda s: ps.pools(s)["pool-0"]["shareableSummary"][
        "partiallyAvailableDevices"] == 1))["pool-0"]["shareableSummary"]
    assert (summary.get("fullyAvailableDevices"), summary.get("partiallyAvailableDevices")) == (1, 1), summary


def test_pools_of_the_driver_name_their_nodes(kit) -> None:
    """Each node-local pool of the certified driver is reported with the node its slices name (a
    pool a restarting kubelet is deleting, incomplete, has counts and node unset)."""
    local = {s["spec"]["pool"]["name"]: s["spec"]["nodeName"] for s in kit.driver.slices() if s["spec"].get("nodeName")}
    status = ps.snapshot(kit, kit.driver.name, lambda s: bool(s["pools"]))
    named = {p["poolName"]: p.get("nodeName") for p in status.get("pools") or []
             if p["poolName"] in local and not p.get("validationError")}
    assert named and all(local[pool] == node for pool, node in named.items()), (local, status)


def test_the_spec_is_validated_defaulted_and_immutable(kit) -> None:
    for limit in (0, 1001):
        rejected(lambda limit=limit: kit.api.create(ps.body(kit, kit.driver.name, limit=limit), dry_run=True),
                "limit")
    created = kit.create(ps.body(kit, kit.driver.name))
    assert created["spec"]["limit"] == 100, created["spec"]
    name = created["metadata"]["name"]
    rejected(lambda: kit.api.patch("ResourcePoolStatusRequest", name, {"spec": {"driver": f"x{kit.driver.name}"}}),
            "immutable")
    assert kit.api.delete("ResourcePoolStatusRequest", name)
