"""Device health in pod status (KEP-4680): the driver's health reports reach allocatedResourcesStatus.

Health is changed through the bundled driver's control surface on a device this test pinned, so
other tests are not disturbed; the device is set back to Healthy afterwards.
"""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b

pytestmark = [pytest.mark.feature("resource_health"), pytest.mark.capability("health", "control")]


def _health(kit, pod: str, pod_claim: str) -> list[dict]:
    """The resources[] of the container's allocatedResourcesStatus entry for the claim."""
    st = kit.api.get("Pod", pod, kit.ns).get("status") or {}
    for cs in st.get("containerStatuses") or []:
        for entry in cs.get("allocatedResourcesStatus") or []:
            if entry.get("name", "").startswith(f"claim:{pod_claim}"):
                return entry.get("resources") or []
    return []


def _wait_health(kit, pod: str, claim: str, want: str, message: str | None = None) -> dict:
    def probe() -> tuple[bool, object]:
        resources = _health(kit, pod, claim)
        ok = [r for r in resources if r.get("health") == want and (message is None or r.get("message") == message)]
        return bool(ok), ok[0] if ok else resources or "no allocatedResourcesStatus yet"
    return wait_for(f"device health {want} in the status of pod {pod}", probe, "pod_status_health")


@pytest.fixture
def watched(kit):
    """A running pod on a pinned device, through an external claim.

    The pod's claim entry carries the ResourceClaim's own name: the kubelet (1.34) matches health
    reports to a container's claims by the ResourceClaim name, so template-generated claims (whose
    names differ from the pod's entry) never show health there.
    """
    cls, device = kit.pin("gpu")
    control = kit.driver.control(device.node)
    claim = kit.claim([b.request("gpu", cls)], prefix="gpu")
    pod = kit.pod({claim: b.from_claim(claim)})
    kit.running(pod)
    yield pod, claim, device, control
    control.set_health(device.name, "Healthy")


def test_health_changes_reach_the_pod_status(kit, watched) -> None:
    pod, claim, device, control = watched
    first = _wait_health(kit, pod, claim, "Healthy")
    assert first["resourceID"], first
    with_message = kit.driver.target.feature_enabled("resource_health_message") if \
        kit.driver.target.maturity("resource_health_message") else False
    control.set_health(device.name, "Unhealthy", "fan failure")
    bad = _wait_health(kit, pod, claim, "Unhealthy", "fan failure" if with_message else None)
    assert bad["resourceID"] == first["resourceID"]
    control.set_health(device.name, "Healthy")
    _wait_health(kit, pod, claim, "Healthy")


def test_unknown_health_is_reported(kit, watched) -> None:
    pod, claim, device, control = watched
    _wait_health(kit, pod, claim, "Healthy")
    control.set_health(device.name, "Unknown")
    _wait_health(kit, pod, claim, "Unknown")
