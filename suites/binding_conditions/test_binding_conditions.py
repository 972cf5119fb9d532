"""Binding conditions (KEP-5007): the scheduler keeps a pod in PreBind until the driver reports
the allocated device ready in the claim's status, and gives the device up when the driver reports
a failure. Upstream proves this in integration tests only (test/integration/dra/binding_conditions.go);
here it runs end to end, the driver answering through its control surface."""

from __future__ import annotations

from typing import Any

import pytest

from dra_conformance.waiting import wait_for
from drivers.fake_gpu.binding import ATTACH_FAILED, ATTACHED, FAILED_TAINT
from fixtures import builders as b
from fixtures import device_taints as dt
from fixtures import waits

pytestmark = [pytest.mark.feature("binding_conditions"), pytest.mark.capability("control"),
              pytest.mark.prepares]


def _results(claim: dict[str, Any]) -> list[dict[str, Any]]:
    return (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []


def _result(kit, claim: str) -> dict[str, Any]:
    """The claim's one allocation result, once it is allocated."""
    def probe() -> tuple[bool, Any]:
        c = kit.api.get("ResourceClaim", claim, kit.ns)
        results = _results(c)
        return bool(results), results[0] if results else waits.describe_claim(c)
    return wait_for(f"claim {claim} allocated", probe, "claim_allocated")


def _condition(claim: dict[str, Any], device: str, kind: str) -> dict[str, Any] | None:
    for entry in (claim.get("status") or {}).get("devices") or []:
        if entry["device"] == device:
            return next((c for c in entry.get("conditions") or [] if c["type"] == kind), None)
    return None


def _held(kit, cls: str, device: str) -> tuple[str, str, dict[str, Any]]:
    """(claim, pod, result): a claim of `cls` and its pod, once the claim is allocated to `device` with
    the binding conditions the driver published. The scheduler allocates from its informer's view of
    the slices, which may trail what the driver just published (conditions, a taint): an allocation
    made without them is given back, and a new claim and pod ask again."""
    asked: list[tuple[str, str]] = []

    def probe() -> tuple[bool, Any]:
        if not asked:
            claim = kit.claim([b.request("gpu", cls)])
            asked.append((claim, kit.pod({"gpu": b.from_claim(claim)})))
        claim, pod = asked[-1]
        c = kit.api.get("ResourceClaim", claim, kit.ns)
        results = _results(c)
        if not results:
            return False, waits.describe_claim(c)
        if results[0]["device"] == device and results[0].get("bindingConditions"):
            return True, (claim, pod, results[0])
        kit.api.delete("Pod", pod, kit.ns)
        kit.api.delete("ResourceClaim", claim, kit.ns)
        asked.clear()
        return False, f"allocated before the scheduler saw what the driver published: {results[0]}"
    return wait_for(f"a claim allocated to {device} with its binding conditions", probe, "slices_published")


def test_pod_waits_in_prebind_until_the_device_is_ready(kit, driver_binding) -> None:
    cls, device = kit.pin()
    published = driver_binding(device, "hold")
    assert published["bindingConditions"] == [ATTACHED] and published["bindingFailureConditions"] == [ATTACH_FAILED]
    claim, pod, result = _held(kit, cls, device.name)
    assert result["bindingConditions"] == [ATTACHED], result
    assert result["bindingFailureConditions"] == [ATTACH_FAILED], result
    waits.pod_event(kit.api, kit.ns, pod, "BindingConditionsPending")
    held = kit.api.get("Pod", pod, kit.ns)
    assert not held["spec"].get("nodeName"), waits.describe_pod(kit.api, held)
    allocated = kit.api.get("ResourceClaim", claim, kit.ns)
    assert [r["uid"] for r in allocated["status"].get("reservedFor") or []] == [held["metadata"]["uid"]]
    # bindsToNode: the allocation is for the device's node only
    terms = allocated["status"]["allocation"]["nodeSelector"]["nodeSelectorTerms"]
    assert device.node in str(terms), terms

    driver_binding(device, "ready")
    running = kit.running(pod)
    assert running["spec"]["nodeName"] == device.node
    cond = _condition(kit.api.get("ResourceClaim", claim, kit.ns), device.name, ATTACHED)
    assert cond is not None and cond["status"] == "True", cond


def test_binding_failure_gives_the_device_up_for_another(kit, driver_binding, driver_taints) -> None:
    """The first device fails to bind: the driver reports it and taints the device, the scheduler
    releases the allocation, and the claim ends on the second device."""
    _, failing = kit.pin()
    _, spare = kit.pin()
    cls = kit.class_for([failing, spare])
    driver_binding(failing, "fail")
    driver_binding(spare, "ready")
    driver_taints(spare, [dt.taint(kit, "NoSchedule")])  # so the first try takes `failing`
    claim, pod, _ = _held(kit, cls, failing.name)

    def failed_and_tainted() -> tuple[bool, Any]:
        now = next((d for d in kit.driver.devices(None, failing.node) if d.name == failing.name), None)
        keys = [t["key"] for t in (now.spec.get("taints") or [])] if now else []
        return FAILED_TAINT in keys, keys
    wait_for(f"the driver to taint {failing.name} after its binding failed", failed_and_tainted, "claim_allocated")
    driver_taints(spare, [])
    kit.running(pod)
    assert _result(kit, claim)["device"] == spare.name
    assert _condition(kit.api.get("ResourceClaim", claim, kit.ns), spare.name, ATTACHED)["status"] == "True"
