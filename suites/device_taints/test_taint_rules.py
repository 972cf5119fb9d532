"""DeviceTaintRule (KEP-5055): an administrator taints devices of any driver without touching the
driver; the scheduler and the eviction controller treat those taints like the driver's own."""

from __future__ import annotations

import datetime

import pytest

from fixtures import builders as b
from fixtures import device_taints as dt
from fixtures import waits

pytestmark = [pytest.mark.feature("device_taint_rules"), pytest.mark.prepares]

WAITING = "cannot allocate all claims"


def test_no_schedule_rule_keeps_new_pods_pending_until_deleted(kit) -> None:
    cls, device = kit.pin()
    name = dt.rule(kit, device, dt.taint(kit, "NoSchedule"))["metadata"]["name"]
    pod = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", cls)]))})
    waits.pod_unschedulable(kit.api, kit.ns, pod, WAITING)
    cond = dt.rule_condition(kit, name, "OtherEffect")
    assert cond["status"] == "False", cond
    kit.api.delete("DeviceTaintRule", name)
    kit.running(pod)


def test_no_execute_rule_evicts_the_running_pod(kit) -> None:
    cls, device = kit.pin()
    claim = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(claim)}, keep=True)
    kit.running(pod)
    name = dt.rule(kit, device, dt.taint(kit, "NoExecute"))["metadata"]["name"]
    cond = dt.evicted(kit, pod)
    assert (cond["reason"], cond.get("message")) == \
        (dt.EVICTION_REASON, "Device Taint manager: deleting due to NoExecute taint"), cond
    kit.let_go(pod)
    waits.claim_deallocated(kit.api, kit.ns, claim)
    done = dt.rule_condition(kit, name, "Completed")
    assert done["status"] == "False", done


def test_toleration_seconds_delay_the_eviction(kit) -> None:
    """Counted from the taint's timeAdded: the pod goes no earlier than tolerationSeconds after it."""
    seconds = 10
    cls, device = kit.pin()
    t = dt.taint(kit, "NoExecute")
    pod = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", cls, tolerations=[
        dt.toleration(t, seconds=seconds)])]))}, keep=True)
    kit.running(pod)
    added = dt.time_added(dt.rule(kit, device, t)["spec"]["taint"])
    cond = dt.evicted(kit, pod)
    evicted_at = datetime.datetime.fromisoformat(cond["lastTransitionTime"].replace("Z", "+00:00"))
    # both stamps are whole seconds
    assert evicted_at >= added + datetime.timedelta(seconds=seconds), (added, cond)
    assert cond["reason"] == dt.EVICTION_REASON, cond


@pytest.mark.since("1.37", "kube-scheduler ignores a DeviceTaintRule without a selector from 1.37.2 "
                           "(k/k#141648); 1.35 and 1.36 taint every device with it")
def test_a_rule_without_selector_taints_nothing(kit) -> None:
    cls, device = kit.pin()
    dt.rule(kit, None, dt.taint(kit, "NoSchedule"))
    pod = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", cls)]))})
    kit.running(pod)
    assert kit.devices_seen(pod) == {device.name}
