"""NodeUnprepareResources as the kubelet drives it: failures it retries before the pod may go,
force-deleted pods, a new pod of the same name, and one device used by pods in turn."""

from __future__ import annotations

import pytest

from fixtures import builders as b
from fixtures import waits

pytestmark = [pytest.mark.feature("core"), pytest.mark.prepares]


@pytest.mark.capability("control")
def test_unprepare_fails_and_is_retried_before_the_pod_goes(kit, ledger) -> None:
    """While unprepare fails, the deleted pod stays (its resources are not reclaimed) and its claim
    stays reserved; after the retry succeeds the pod goes and the claim is deallocated."""
    claim, device = kit.pinned_claim()
    pod = kit.pod({"gpu": b.from_claim(claim)})
    kit.running(pod)
    calls = ledger(device.node)
    uid = calls.uid(claim)
    calls.control.fail("unprepare", count=1, message="injected: device still busy", namespace=kit.ns)
    kit.api.delete("Pod", pod, kit.ns)
    calls.wait(uid, "a failed unprepare", lambda e: e["errors"]["unprepare"] >= 1, "pod_finished")
    p = kit.api.get_or_none("Pod", pod, kit.ns)
    assert p is not None and p["metadata"].get("deletionTimestamp"), "the pod went before its claim was unprepared"
    c = kit.api.get("ResourceClaim", claim, kit.ns)
    assert (c.get("status") or {}).get("allocation"), f"deallocated before unprepare: {waits.describe_claim(c)}"
    waits.gone(kit.api, "Pod", pod, kit.ns, key="kubelet_retry")
    waits.claim_deallocated(kit.api, kit.ns, claim)
    e = calls.once(uid, unprepared=True)
    assert e["errors"]["unprepare"] == 1 and e["calls"]["unprepare"] >= 2, e


def _force_delete(kit, pod: str) -> None:
    kit.api.delete("Pod", pod, kit.ns, grace_seconds=0)
    waits.gone(kit.api, "Pod", pod, kit.ns)


def test_force_deleted_pod_is_unprepared(kit, ledger) -> None:
    """A pod deleted with grace 0 is gone from the API at once; the kubelet still stops it and
    unprepares its claim, which the controller then deletes (it was generated for the pod)."""
    cls, device = kit.pin()
    tmpl = kit.template([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_template(tmpl)})
    kit.running(pod)
    claim = kit.generated(pod, "gpu")
    calls = ledger(device.node)
    uid = calls.uid(claim)
    _force_delete(kit, pod)
    waits.gone(kit.api, "ResourceClaim", claim, kit.ns, key="claim_deleted")
    calls.once(uid, unprepared=True)


def test_same_name_pod_after_a_force_delete_gets_its_own_prepare(kit, ledger) -> None:
    """A new pod of the same name, right after a force delete: a new claim, prepared for it alone,
    while the old one is unprepared once."""
    cls, device = kit.pin()
    tmpl = kit.template([b.request("gpu", cls)])
    name = kit.pod({"gpu": b.from_template(tmpl)})
    old_pod = kit.running(name)["metadata"]["uid"]
    old_claim = kit.generated(name, "gpu")
    calls = ledger(device.node)
    old_uid = calls.uid(old_claim)
    _force_delete(kit, name)
    kit.create(b.pod(name, kit.ns, [kit.container("ctr", claims=["gpu"])], claims={"gpu": b.from_template(tmpl)}))
    new = kit.running(name)
    assert new["metadata"]["uid"] != old_pod
    new_claim = kit.generated(name, "gpu")
    assert new_claim != old_claim
    assert kit.devices_seen(name) == {device.name}
    calls.once(old_uid, unprepared=True)
    calls.once(calls.uid(new_claim))


def test_pods_in_turn_on_one_device_prepare_and_unprepare_each_claim_once(kit, ledger) -> None:
    """Three pods one after another on one device (allocated, released, allocated again): each
    generated claim is prepared once and unprepared once."""
    cls, device = kit.pin()
    tmpl = kit.template([b.request("gpu", cls)])
    calls = ledger(device.node)
    for _ in range(3):
        pod = kit.pod({"gpu": b.from_template(tmpl)})
        kit.running(pod)
        claim = kit.generated(pod, "gpu")
        uid = calls.uid(claim)
        assert kit.devices_seen(pod) == {device.name}
        kit.api.delete("Pod", pod, kit.ns)
        waits.gone(kit.api, "ResourceClaim", claim, kit.ns, key="claim_deleted")
        calls.once(uid, unprepared=True)


@pytest.mark.capability("control")
def test_unprepare_hanging_past_the_kubelet_timeout_is_retried(kit, ledger) -> None:
    """An unprepare that hangs until the kubelet gives up (45 s): the pod stays terminating, and once
    the driver answers again the claim is unprepared once and the pod goes."""
    claim, device = kit.pinned_claim()
    pod = kit.pod({"gpu": b.from_claim(claim)})
    kit.running(pod)
    calls = ledger(device.node)
    uid = calls.uid(claim)
    with calls.hung("unprepare"):
        kit.api.delete("Pod", pod, kit.ns)
        calls.wait(uid, "an unprepare given up by the kubelet", lambda e: e["errors"]["unprepare"] >= 1,
                   "plugin_call_timeout")
        assert kit.api.get_or_none("Pod", pod, kit.ns) is not None, "the pod went before its claim was unprepared"
    waits.gone(kit.api, "Pod", pod, kit.ns, key="kubelet_retry")
    waits.claim_deallocated(kit.api, kit.ns, claim)
    calls.once(uid, unprepared=True)
