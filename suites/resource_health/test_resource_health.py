"""Device health in pod status (KEP-4680): the driver's health reports reach allocatedResourcesStatus.

Health is changed through the bundled driver's control surface on a device this test pinned, so
other tests are not disturbed; the device is set back to Healthy afterwards.

Each test runs with the pod's claim generated from a template and with an external claim: the
kubelet finds the claim behind a container's entry differently per release (1.34 by the entry's
name only, 1.35 only through pod.status.resourceClaimStatuses, 1.36+ both), and both are how users
write pods. suites/known_issues.yaml records the releases where one of them shows no health.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures import builders as b
from fixtures.pod_health import wait_health

pytestmark = [pytest.mark.feature("resource_health"), pytest.mark.capability("health", "control"), pytest.mark.prepares]

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
    first = wait_health(kit, pod, claim, "Healthy")
    assert first["resourceID"], first
    with_message = kit.driver.target.feature_enabled("resource_health_message") if \
        kit.driver.target.maturity("resource_health_message") else False
    control.set_health(device.name, "Unhealthy", "fan failure")
    bad = wait_health(kit, pod, claim, "Unhealthy", "fan failure" if with_message else None)
    assert bad["resourceID"] == first["resourceID"]
    control.set_health(device.name, "Healthy")
    wait_health(kit, pod, claim, "Healthy")


@pytest.mark.serial  # the stopped driver's node is reserved for it: no other test waits on it
def test_health_is_unknown_while_the_driver_is_stopped(kit, watched) -> None:
    pod, claim, device, control = watched
    wait_health(kit, pod, claim, "Healthy")
    control.stop_serving()
    try:
        wait_health(kit, pod, claim, "Unknown")
    finally:
        control.start_serving()
    wait_health(kit, pod, claim, "Healthy")


@pytest.mark.feature("resource_health_message")
def test_health_message_reaches_the_pod_status(kit, watched) -> None:
    """The driver's message travels with the health (ResourceHealthStatusMessage), a new message on
    an unchanged health too, and a device reported without one shows none."""
    pod, claim, device, control = watched
    wait_health(kit, pod, claim, "Healthy")
    control.set_health(device.name, "Unhealthy", "ECC error count exceeded threshold")
    wait_health(kit, pod, claim, "Unhealthy", "ECC error count exceeded threshold")
    control.set_health(device.name, "Unhealthy", "fan failure")
    wait_health(kit, pod, claim, "Unhealthy", "fan failure")
    control.set_health(device.name, "Healthy")
    healthy = wait_health(kit, pod, claim, "Healthy")
    assert not healthy.get("message"), healthy
