"""Device taints the driver publishes in its ResourceSlices (KEP-5055): NoSchedule keeps pods off
the device unless their claim tolerates it, NoExecute evicts the pods using it unless tolerated."""

from __future__ import annotations

import pytest

from fixtures import builders as b
from fixtures import device_taints as dt
from fixtures import waits

pytestmark = [pytest.mark.feature("device_taints"), pytest.mark.capability("control"), pytest.mark.prepares]

WAITING = "cannot allocate all claims"


def test_no_schedule_taint_keeps_the_pod_pending_until_removed(kit, driver_taints) -> None:
    cls, device = kit.pin()
    driver_taints(device, [dt.taint(kit, "NoSchedule")])
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, WAITING)
    assert "allocation" not in (kit.api.get("ResourceClaim", claim, kit.ns).get("status") or {})
    driver_taints(device, [])
    kit.running(pod)
    assert kit.devices_seen(pod) == {device.name}


def test_tolerated_no_schedule_taint_admits_the_pod(kit, driver_taints) -> None:
    cls, device = kit.pin()
    [published] = driver_taints(device, [t := dt.taint(kit, "NoSchedule")])
    claim = kit.claim([b.request("gpu", cls, tolerations=[dt.toleration(t)])])
    kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    [result] = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert result["device"] == device.name
    assert published["key"] == t["key"] and published.get("timeAdded"), published


def test_no_execute_taint_evicts_the_running_pod(kit, driver_taints) -> None:
    cls, device = kit.pin()
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)}, keep=True)
    kit.running(pod)
    driver_taints(device, [dt.taint(kit, "NoExecute")])
    cond = dt.evicted(kit, pod)
    assert cond["reason"] == dt.EVICTION_REASON, cond
    kit.let_go(pod)
    waits.claim_deallocated(kit.api, kit.ns, claim)


@pytest.mark.parametrize("effect", ["NoExecute", ""], ids=["effect", "all-effects"])
def test_tolerated_no_execute_taint_keeps_the_pod_running(kit, driver_taints, effect: str) -> None:
    """Two pods on two devices, tainted one after the other: once the untolerating pod of the second
    is evicted, the controller has seen the first taint too, and its tolerating pod still runs.
    A toleration without an effect tolerates every effect, NoExecute included."""
    tolerant_cls, tolerant_dev = kit.pin()
    plain_cls, plain_dev = kit.pin()
    t = dt.taint(kit, "NoExecute")
    tolerant = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", tolerant_cls,
                                                                   tolerations=[dt.toleration(t, effect=effect)])]))})
    plain = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", plain_cls)]))}, keep=True)
    kit.running(tolerant)
    kit.running(plain)
    driver_taints(tolerant_dev, [t])
    driver_taints(plain_dev, [t])
    assert dt.evicted(kit, plain)["reason"] == dt.EVICTION_REASON
    dt.not_evicted(kit, tolerant)
