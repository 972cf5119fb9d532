"""Device health in pod status (KEP-4680): the driver's health reports reach allocatedResourcesStatus.

Health is changed through the bundled driver's control surface on a device this test pinned, so
other tests are not disturbed; the device is set back to Healthy afterwards.

Each test runs with the pod's claim generated from a template and with an external claim: the
kubelet finds the claim behind a container's entry differently per release (1.34 by the entry's
name only, 1.35 only through pod.status.resourceClaimStatuses, 1.36+ both), and both are how users
write pods. suites/known_issues.yaml records the releases where one of them shows no health.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b

pytestmark = [pytest.mark.feature("resource_health"), pytest.mark.capability("health", "control"), pytest.mark.prepares]

# A pod update makes the kubelet sync the pod and recompute its status now, instead of at its
# periodic resync (1 min): health it lost on its own (driver gone) has no other trigger, and an
# expected failure (known_issues.yaml) is proven in seconds instead of a minute or two.
_NUDGE = "dra-conformance.io/status-nudge"
_NUDGE_INTERVAL = 2.0  # seconds between polls, each of which nudges while the wanted health is missing
_nudges = itertools.count()


def _health(kit, pod: str, pod_claim: str) -> list[dict]:
    """The resources[] of the container's allocatedResourcesStatus entry for the claim."""
    st = kit.api.get("Pod", pod, kit.ns).get("status") or {}
    for cs in st.get("containerStatuses") or []:
        for entry in cs.get("allocatedResourcesStatus") or []:
            if entry.get("name", "").startswith(f"claim:{pod_claim}"):
                return entry.get("resources") or []
    return []


def _wait_health(kit, pod: str, pod_claim: str, want: str, message: str | None = None) -> dict:
    def probe() -> tuple[bool, object]:
        resources = _health(kit, pod, pod_claim)
        ok = [r for r in resources if r.get("health") == want and (message is None or r.get("message") == message)]
        if not ok:
            kit.api.patch("Pod", pod, {"metadata": {"annotations": {_NUDGE: str(next(_nudges))}}}, kit.ns)
        return bool(ok), ok[0] if ok else resources or "no allocatedResourcesStatus yet"
    return wait_for(f"device health {want} in the status of pod {pod}", probe, "pod_status_nudged",
                    interval=_NUDGE_INTERVAL)


@pytest.fixture(params=["template", "external"])
def watched(kit, request) -> Any:
    """A running pod on a pinned device; yields (pod, pod claim entry, device, control client).
    A `serial` test disrupts the driver: it gets a node of its own."""
    node = kit.reserve() if request.node.get_closest_marker("serial") else None
    cls, device = kit.pin("gpu", node=node)
    control = kit.driver.control(device.node)
    requests = [b.request("gpu", cls)]
    if request.param == "template":
        entry, source = "gpu", b.from_template(kit.template(requests))
    else:  # the entry named like the claim: all a 1.34 kubelet can match
        entry = kit.claim(requests, prefix="gpu")
        source = b.from_claim(entry)
    pod = kit.pod({entry: source})
    kit.running(pod)
    yield pod, entry, device, control
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


@pytest.mark.serial  # the stopped driver's node is reserved for it: no other test waits on it
def test_health_is_unknown_while_the_driver_is_stopped(kit, watched) -> None:
    pod, claim, device, control = watched
    _wait_health(kit, pod, claim, "Healthy")
    control.stop_serving()
    try:
        _wait_health(kit, pod, claim, "Unknown")
    finally:
        control.start_serving()
    _wait_health(kit, pod, claim, "Healthy")
