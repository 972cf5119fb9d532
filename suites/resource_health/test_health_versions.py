"""The DRAResourceHealth API version a kubelet and a plugin agree on (KEP-4680): the kubelet picks
the newest it knows among those the plugin registers (1.37 on: v1, then v1alpha1), so a plugin
serving only v1alpha1, only v1, or both gets its health into pod status.

On second instances of the bundled driver, registered with only those services, next to the
driver under test (fixtures/driver_instance.py)."""

from __future__ import annotations

import pytest

from fixtures import builders as b
from fixtures.pod_health import wait_health

pytestmark = [pytest.mark.feature("resource_health"), pytest.mark.capability("health", "control"),
              pytest.mark.prepares,
              pytest.mark.since("1.36", "before 1.36 the kubelet shows health only for one kind of claim "
                                        "(known_issues.yaml); the pod here uses a template")]

NEGOTIATES = "the kubelet negotiates the health API version from 1.37 on; before, it speaks v1alpha1 only"


@pytest.mark.parametrize(("served", "used"), [
    ("v1alpha1", "v1alpha1"),
    pytest.param("v1", "v1", marks=pytest.mark.since("1.37", NEGOTIATES)),
    pytest.param("v1alpha1,v1", "v1", marks=pytest.mark.since("1.37", NEGOTIATES)),
], ids=["v1alpha1", "v1", "both"])
def test_health_reaches_the_pod_whatever_the_plugin_serves(kit, driver_instance, served: str, used: str) -> None:
    inst = driver_instance(health_versions=served)
    pod = kit.pod({"gpu": b.from_template(kit.template([b.request("gpu", inst.device_class)]))})
    kit.running(pod)
    claim = kit.allocated(kit.generated(pod, "gpu"))
    [result] = claim["status"]["allocation"]["devices"]["results"]
    control = inst.control()
    wait_health(kit, pod, "gpu", "Healthy")
    control.set_health(result["device"], "Unhealthy", "negotiated")
    wait_health(kit, pod, "gpu", "Unhealthy")
    opened = control.state()["healthStreams"]["opened"]
    assert set(opened) == {used}, opened
