"""Workload and PodGroup claims (KEP-5729): claims shared by a PodGroup are reserved for the group.

A PodGroup's `spec.resourceClaims` names ResourceClaims or ResourceClaimTemplates; a pod of the group
(`spec.schedulingGroup.podGroupName`) whose own claim matches one of them exactly (name and reference)
uses the group's claim: the scheduler reserves it for the PodGroup, not the pod, and the resourceclaim
controller generates one claim per PodGroup from a template, owned by the PodGroup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = [pytest.mark.feature("workload_claims"), pytest.mark.prepares]
GROUP = "scheduling.k8s.io"
POD_CLAIM_ANNOTATION = "resource.kubernetes.io/pod-claim-name"


def _podgroup(kit: Kit, claims: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A Workload with one basic PodGroupTemplate sharing `claims`, and a PodGroup made from it (as a
    workload controller would; none runs here). `claims`: like a pod's, claim name -> reference."""
    version = kit.api.served("PodGroup")
    if version is None:
        pytest.skip("the cluster serves no PodGroup API (scheduling.k8s.io/v1beta1 or v1alpha2)")
    shared = [{"name": k, **v} for k, v in claims.items()]
    workload = kit.name("wl")
    kit.create({"apiVersion": version, "kind": "Workload", "metadata": {"name": workload},
                "spec": {"podGroupTemplates": [{"name": "group", "schedulingPolicy": {"basic": {}},
                                                "resourceClaims": shared}]}})
    # v1alpha2 (1.36) refers to the template as podGroupTemplateRef.workload, v1beta1 as workloadRef.
    ref = ({"podGroupTemplateRef": {"workload": {"workloadName": workload, "podGroupTemplateName": "group"}}}
           if version.endswith("/v1alpha2") else {"workloadRef": {"workloadName": workload, "templateName": "group"}})
    pg = kit.create({"apiVersion": version, "kind": "PodGroup", "metadata": {"name": kit.name("pg")},
                     "spec": {**ref, "schedulingPolicy": {"basic": {}}, "resourceClaims": shared}})
    # The apiserver drops the gated field where DRAWorkloadResourceClaims is off: say so, not "not reserved".
    assert pg["spec"].get("resourceClaims") == shared, f"PodGroup spec.resourceClaims not kept: {pg['spec']}"
    return pg


def _group_claim_status(kit: Kit, pg: str, claim: str) -> str:
    """The claim the resourceclaim controller generated for the PodGroup's `claim`
    (podGroup.status.resourceClaimStatuses)."""
    def probe() -> tuple[bool, Any]:
        status = kit.api.get("PodGroup", pg, kit.ns).get("status") or {}
        for s in status.get("resourceClaimStatuses") or []:
            if s.get("name") == claim and s.get("resourceClaimName"):
                return True, s["resourceClaimName"]
        return False, status or "no status"
    return wait_for(f"the claim generated for {claim} of PodGroup {kit.ns}/{pg}", probe, "claim_allocated")


def _reserved_for_group(claim: dict[str, Any], pg: dict[str, Any]) -> None:
    """Reserved for the PodGroup alone: one entry of resource podgroups, none for its pods."""
    meta = pg["metadata"]
    entry = {"apiGroup": GROUP, "resource": "podgroups", "name": meta["name"], "uid": meta["uid"]}
    assert claim["status"].get("reservedFor") == [entry], claim["status"].get("reservedFor")


def _on_the_device(kit: Kit, claim: dict[str, Any], device: Any, pods: list[str]) -> None:
    """The claim got the pinned device, and every pod runs on its node (and sees it, with cdi-env)."""
    (result,) = claim["status"]["allocation"]["devices"]["results"]
    assert (result["driver"], result["pool"], result["device"]) == (kit.driver.name, device.pool, device.name)
    for pod in pods:
        if device.node:
            assert kit.api.get("Pod", pod, kit.ns)["spec"]["nodeName"] == device.node, pod
        if kit.driver.profile.has("cdi-env"):
            assert kit.devices_seen(pod) == {device.name}, pod


def test_podgroup_claim_is_reserved_for_the_group(kit: Kit) -> None:
    """Upstream "allocates devices for PodGroups": an existing claim, shared by two pods of a group."""
    cls, device = kit.pin("gpu")
    claim = kit.claim([b.request("gpu", cls)])
    pg = _podgroup(kit, {"gpu": b.from_claim(claim)})
    pods = [kit.pod({"gpu": b.from_claim(claim)}, scheduling_group=pg["metadata"]["name"]) for _ in range(2)]
    for pod in pods:
        kit.running(pod)
    allocated = kit.allocated(claim)
    _reserved_for_group(allocated, pg)
    _on_the_device(kit, allocated, device, pods)
    # Only template claims get a status entry: nothing was generated for this one.
    status = kit.api.get("PodGroup", pg["metadata"]["name"], kit.ns).get("status") or {}
    assert not status.get("resourceClaimStatuses"), status


def test_podgroup_claim_generated_from_template(kit: Kit) -> None:
    """Upstream "generates claims from templates for PodGroups": one claim for the group, not per pod."""
    cls, device = kit.pin("gpu")
    tmpl = kit.template([b.request("gpu", cls)])
    pg = _podgroup(kit, {"gpu": b.from_template(tmpl)})
    name, uid = pg["metadata"]["name"], pg["metadata"]["uid"]
    pods = [kit.pod({"gpu": b.from_template(tmpl)}, scheduling_group=name) for _ in range(2)]
    for pod in pods:
        kit.running(pod)
    generated = _group_claim_status(kit, name, "gpu")
    assert [kit.generated(pod, "gpu") for pod in pods] == [generated] * 2, "pods of a group share its claim"
    claim = kit.allocated(generated)
    meta = claim["metadata"]
    assert meta["name"].startswith(f"{name}-gpu-"), meta["name"]  # generateName <podgroup>-<claim>-
    assert meta["annotations"][POD_CLAIM_ANNOTATION] == "gpu"
    (owner,) = meta["ownerReferences"]
    # The version of the owner's apiVersion is the controller's; only the group is stable.
    assert owner["apiVersion"].split("/")[0] == GROUP, owner
    assert (owner["kind"], owner["name"], owner["uid"], owner.get("controller")) == ("PodGroup", name, uid, True)
    _reserved_for_group(claim, pg)
    _on_the_device(kit, claim, device, pods)


def test_pod_claim_not_matching_the_group_stays_with_the_pod(kit: Kit) -> None:
    """A pod's claim that matches the group's by name only (another template) is the pod's own: the
    controller binds to the group only on an exact match of name and reference."""
    cls, device = kit.pin("gpu")
    group_tmpl = kit.template([kit.pinned_request()], prefix="group")
    pg = _podgroup(kit, {"gpu": b.from_template(group_tmpl)})
    own_tmpl = kit.template([b.request("gpu", cls)], prefix="own")
    pod = kit.pod({"gpu": b.from_template(own_tmpl)}, scheduling_group=pg["metadata"]["name"])
    running = kit.running(pod)
    own = kit.generated(pod, "gpu")
    assert own != _group_claim_status(kit, pg["metadata"]["name"], "gpu")
    claim = kit.allocated(own)
    (owner,) = claim["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("Pod", running["metadata"]["uid"])
    assert [(r["resource"], r["uid"]) for r in claim["status"]["reservedFor"]] == [("pods", running["metadata"]["uid"])]
    _on_the_device(kit, claim, device, [pod])
