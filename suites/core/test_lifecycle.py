"""What happens to claims when pods end or restart, quota on claims, config, and a driver restart."""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import ApiError

pytestmark = pytest.mark.feature("core")


@pytest.mark.prepares
def test_generated_claim_deleted_after_pod_completes(kit) -> None:
    tmpl = kit.template([kit.pinned_request()])
    pod = kit.pod({"gpu": b.from_template(tmpl)}, command="env")
    claim = kit.generated(pod, "gpu")
    kit.finished(pod)
    waits.gone(kit.api, "ResourceClaim", claim, kit.ns, key="claim_deleted")


@pytest.mark.prepares
def test_external_claim_unreserved_and_deallocated_after_pod_completes(kit) -> None:
    claim = kit.claim([kit.pinned_request()])
    # Short-lived, yet long enough to observe the allocation before the pod is done.
    pod = kit.pod({"gpu": b.from_claim(claim)}, command="env; sleep 3")
    kit.allocated(claim)
    kit.finished(pod)
    done = waits.claim_deallocated(kit.api, kit.ns, claim)
    assert done["metadata"]["name"] == claim, "an external claim outlives its pods"


@pytest.mark.prepares
def test_external_claim_deallocated_after_last_pod_deleted(kit) -> None:
    claim = kit.claim([kit.pinned_request()])
    pods = [kit.pod({"gpu": b.from_claim(claim)}) for _ in range(2)]
    for p in pods:
        kit.running(p)
    kit.api.delete("Pod", pods[0], kit.ns, grace_seconds=0)
    waits.gone(kit.api, "Pod", pods[0], kit.ns)
    # The resource-claim controller drops the deleted pod's reservation asynchronously.
    still = waits.claim(kit.api, kit.ns, claim, lambda c: len(c["status"].get("reservedFor") or []) == 1,
                        "reserved only for the remaining pod", "claim_deallocated")
    assert still["status"].get("allocation"), "the claim is still in use by the second pod"
    assert still["status"]["reservedFor"][0]["name"] == pods[1]
    kit.api.delete("Pod", pods[1], kit.ns, grace_seconds=0)
    waits.claim_deallocated(kit.api, kit.ns, claim)


@pytest.mark.prepares
def test_generated_claim_kept_while_pod_restarts(kit) -> None:
    tmpl = kit.template([kit.pinned_request()])
    # The container exits at once and restartPolicy Always brings it back: the pod is not done.
    pod = kit.pod({"gpu": b.from_template(tmpl)}, command="env; exit 0", restart_policy="Always")
    claim = kit.generated(pod, "gpu")
    allocated = kit.allocated(claim)

    def restarted(p: dict) -> bool:
        return any(cs.get("restartCount", 0) >= 2 for cs in (p.get("status") or {}).get("containerStatuses") or [])
    p = kit.started(waits.pod(kit.api, kit.ns, pod, restarted, "to restart its container twice", "pod_finished"))
    now = kit.api.get("ResourceClaim", claim, kit.ns)
    assert not now["metadata"].get("deletionTimestamp")
    assert now["metadata"]["uid"] == allocated["metadata"]["uid"]
    assert now["status"]["allocation"] == allocated["status"]["allocation"]
    assert [r["uid"] for r in now["status"]["reservedFor"]] == [p["metadata"]["uid"]]


def test_resource_quota_limits_claims(kit) -> None:
    quota = kit.name("claims")
    key = "count/resourceclaims.resource.k8s.io"
    kit.create(b.quota(quota, kit.ns, {key: "1"}))

    def computed() -> tuple[bool, object]:
        # The quota controller's first sync sets `used` too; a claim admitted before it could be
        # recounted as 0 by that sync, and the one over the quota admitted (as upstream's e2e waits).
        status = kit.api.get("ResourceQuota", quota, kit.ns).get("status") or {}
        return key in (status.get("hard") or {}) and key in (status.get("used") or {}), status
    wait_for(f"quota {quota} to be computed", computed, "object_gone")
    cls = kit.driver.class_name("gpu")
    kit.claim([b.request("gpu", cls)])
    with pytest.raises(ApiError) as info:
        kit.claim([b.request("gpu", cls)])
    assert info.value.status == 403, info.value
    assert f"exceeded quota: {quota}, requested: {key}=1" in info.value.message


@pytest.mark.prepares
@pytest.mark.capability("opaque-config")
@pytest.mark.parametrize("where", ["class", "claim", "both"])
def test_driver_config_reaches_the_container(kit, where: str) -> None:
    """The driver's own config (profile `config.gpu`), from the class, the claim or both (class
    first), reaches the container; a device without it shows none of it."""
    cfg, drv, gpu = kit.role_config("gpu"), kit.driver.name, kit.driver.class_name("gpu")
    opaque = [b.opaque(drv, cfg.parameters)]
    cls = kit.device_class(config=opaque) if where != "claim" else gpu
    claim = kit.claim([b.request("gpu", cls, selectors=[kit.pinned_selector()])],
                      config=opaque if where != "class" else None)
    plain = kit.claim([b.request("gpu", gpu, selectors=[kit.pinned_selector()])])
    pod, other = kit.pod({"gpu": b.from_claim(claim)}), kit.pod({"gpu": b.from_claim(plain)})
    kit.running(pod)
    kit.running(other)
    configs = kit.allocated(claim)["status"]["allocation"]["devices"]["config"]
    sources = {"class": ["FromClass"], "claim": ["FromClaim"], "both": ["FromClass", "FromClaim"]}[where]
    assert [(c["source"], c["opaque"]["parameters"]) for c in configs] == [(s, cfg.parameters) for s in sources]
    shown = cfg.shown(kit.env(pod))
    assert all(shown.values()), f"not in the container's environment: {[p for p, ok in shown.items() if not ok]}"
    assert not any(cfg.shown(kit.env(other)).values()), "a device without the config shows it"


@pytest.mark.prepares
@pytest.mark.capability("opaque-config")
def test_foreign_config_fails_the_prepare(kit) -> None:
    """Config of an apiVersion/kind the driver does not know fails the prepare (a real driver decodes
    its config strictly); the kubelet says so in an event and the pod does not start."""
    foreign = {"apiVersion": "unknown.dra-conformance.io/v1", "kind": "NoSuchConfig", "setting": "x"}
    claim = kit.claim([kit.pinned_request()], config=[b.opaque(kit.driver.name, foreign)])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    event = kit.prepare_failed(pod)
    assert kit.allocated(claim)["status"]["reservedFor"], "the claim is allocated and reserved; only the prepare failed"
    now = kit.api.get("Pod", pod, kit.ns)
    assert now["status"].get("phase") == "Pending", waits.describe_pod(kit.api, now)
    assert event.get("message"), event


def test_pod_with_node_name_and_unallocated_claim_stays_pending(kit) -> None:
    node = kit.driver.node_for("gpu")
    claim = kit.claim([b.request("gpu", kit.driver.class_name("gpu"))])
    pod = kit.pod({"gpu": b.from_claim(claim)}, node_name=node)

    def waiting(p: dict) -> bool:
        phase = p["status"].get("phase")
        assert phase == "Pending", f"a pod bypassing the scheduler must not start: {waits.describe_pod(kit.api, p)}"
        # The kubelet refuses to prepare an unallocated claim and says so in a Warning event.
        return any(e.get("type") == "Warning" for e in kit.api.events(kit.ns, pod))
    waits.pod(kit.api, kit.ns, pod, waiting, "to report the unallocated claim", "pod_pending_reason")
    assert not (kit.api.get("ResourceClaim", claim, kit.ns).get("status") or {}).get("allocation")


@pytest.mark.prepares
@pytest.mark.serial
@pytest.mark.capability("restart")
def test_driver_restart_keeps_running_pods_and_serves_new_ones(kit) -> None:
    cls, device = kit.pin("gpu", node=kit.reserve())  # no other test's pods on the node meanwhile
    first = kit.claim([b.request("gpu", cls)])
    pod = kit.pod({"gpu": b.from_claim(first)})
    before = kit.running(pod)
    kit.driver.restart(device.node)
    after = kit.api.get("Pod", pod, kit.ns)
    assert after["status"]["phase"] == "Running"
    assert after["status"]["containerStatuses"][0]["restartCount"] == 0
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert kit.api.get("ResourceClaim", first, kit.ns)["status"]["allocation"]
    # The restarted plugin still prepares claims on that node.
    kit.api.delete("Pod", pod, kit.ns, grace_seconds=0)
    waits.claim_deallocated(kit.api, kit.ns, first)
    second = kit.claim([b.request("gpu", cls)])
    again = kit.running(kit.pod({"gpu": b.from_claim(second)}))
    assert again["spec"]["nodeName"] == device.node
