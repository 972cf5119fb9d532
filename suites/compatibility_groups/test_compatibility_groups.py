"""Device compatibility groups (KEP-5963): devices drawing on one counter set are allocated together
only if their compatibilityGroups intersect (a device with none goes only with others without).

This is the allocator's alone, so the tests publish the pools themselves (fixtures/synthetic_driver.py);
the pods are scheduled, and never run, since such a driver has no kubelet plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("compatibility_groups")
WAITING = "cannot allocate all claims"


def _pool(kit: Kit, *groups: list[str]) -> SyntheticDriver:
    """A pool of one counter set with room for every device, device i in `groups[i]`."""
    drv = SyntheticDriver(kit, "cg")
    devices = [{"name": f"dev-{i}", "consumesCounters": [{"counterSet": "gpu", "counters": {"mem": {"value": "1"}},
                                                          **({"compatibilityGroups": g} if g else {})}]}
               for i, g in enumerate(groups)]
    counters = [{"name": "gpu", "counters": {"mem": {"value": str(len(groups))}}}]

    def kept(slices: list[dict]) -> bool:
        return any(u.get("compatibilityGroups") for d in slices[-1]["spec"]["devices"] for u in d["consumesCounters"])
    drv.publish_or_skip("cg", devices, "DRADeviceCompatibilityGroups", kept, counters=counters)
    return drv


def _both(kit: Kit, drv: SyntheticDriver) -> tuple[str, str]:
    claim = kit.claim([b.request("dev", drv.device_class, count=2)])
    return claim, kit.pod({"dev": b.from_claim(claim)})


def test_devices_of_one_group_are_allocated_together(kit) -> None:
    drv = _pool(kit, ["mig"], ["mig", "vgpu"])
    claim, _ = _both(kit, drv)
    results = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert sorted(r["device"] for r in results) == ["dev-0", "dev-1"], results


@pytest.mark.parametrize("second", [["vgpu"], []], ids=["other-group", "no-group"])
def test_incompatible_devices_are_not_allocated_together(kit, second: list[str]) -> None:
    drv = _pool(kit, ["mig"], second)
    claim, pod = _both(kit, drv)
    waits.pod_unschedulable(kit.api, kit.ns, pod, WAITING)
    assert not kit.api.get("ResourceClaim", claim, kit.ns).get("status", {}).get("allocation")


def test_an_incompatible_device_waits_until_the_allocated_one_is_freed(kit) -> None:
    drv = _pool(kit, ["mig"], ["vgpu"])
    first = kit.claim([b.request("dev", drv.device_class)])
    holder = kit.pod({"dev": b.from_claim(first)})
    kit.allocated(first)
    second = kit.claim([b.request("dev", drv.device_class)])
    waiting = kit.pod({"dev": b.from_claim(second)})
    waits.pod_unschedulable(kit.api, kit.ns, waiting, WAITING)
    kit.api.delete("Pod", holder, kit.ns)
    waits.claim_deallocated(kit.api, kit.ns, first)
    kit.allocated(second)


def test_more_than_two_groups_or_a_bad_name_are_rejected(kit) -> None:
    drv = _pool(kit, ["mig"])

    def device(groups: list[str]) -> list[dict]:
        return [{"name": "dev-0", "consumesCounters": [
            {"counterSet": "gpu", "counters": {"mem": {"value": "1"}}, "compatibilityGroups": groups}]}]
    counters = [{"name": "gpu", "counters": {"mem": {"value": "1"}}}]
    rejected(lambda: drv.publish("three", device(["a", "b", "c"]), counters=counters), "compatibilityGroups")
    rejected(lambda: drv.publish("name", device(["Not_A_Label"]), counters=counters), "compatibilityGroups")
