"""Extended resources backed by DRA (KEP-5004): `resources.limits[<name>]` gets a special claim and a device."""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import waits

pytestmark = pytest.mark.feature("extended_resource")
ANNOTATION = "resource.kubernetes.io/extended-resource-claim"


def _ext_pod(kit, resource: str, count: int = 1, command: str = "env; sleep 100000") -> str:
    ctr = kit.container("ctr", command=command, requests={resource: str(count)})
    return kit.pod(containers=[ctr])


def _special_claim(kit, pod: str) -> dict:
    def probe() -> tuple[bool, object]:
        st = kit.api.get("Pod", pod, kit.ns).get("status") or {}
        ext = st.get("extendedResourceClaimStatus") or {}
        return bool(ext.get("resourceClaimName")), ext or st.get("conditions")
    status = wait_for(f"extendedResourceClaimStatus of {pod}", probe, "claim_allocated")
    claim = kit.allocated(status["resourceClaimName"])
    assert ANNOTATION in (claim["metadata"].get("annotations") or {}), claim["metadata"]
    assert [m["containerName"] for m in status.get("requestMappings") or []] == ["ctr"]
    return claim


@pytest.mark.prepares
def test_named_extended_resource_gets_a_device(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('gpu')}"
    cls, device = kit.pin("gpu", extended_resource_name=resource)
    assert kit.api.get("DeviceClass", cls)["spec"]["extendedResourceName"] == resource
    pod = _ext_pod(kit, resource)
    running = kit.running(pod)
    claim = _special_claim(kit, pod)
    (result,) = claim["status"]["allocation"]["devices"]["results"]
    assert (result["pool"], result["device"]) == (device.pool, device.name)
    assert running["spec"]["nodeName"] == device.node
    if kit.driver.profile.has("cdi-env"):
        assert kit.devices_seen(pod) == {device.name}


@pytest.mark.prepares
@pytest.mark.since("1.35", "the scheduler maps deviceclass.resource.kubernetes.io/<class> from 1.35 on")
def test_implicit_class_resource_name(kit) -> None:
    cls, device = kit.pin("gpu")
    pod = _ext_pod(kit, f"deviceclass.resource.kubernetes.io/{cls}")
    kit.running(pod)
    (result,) = _special_claim(kit, pod)["status"]["allocation"]["devices"]["results"]
    assert result["device"] == device.name


@pytest.mark.prepares
def test_overcommit_stays_pending_until_the_device_frees(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('one')}"
    kit.pin("gpu", extended_resource_name=resource)  # exactly one device backs the resource
    first = _ext_pod(kit, resource)
    kit.running(first)
    second = _ext_pod(kit, resource)
    waits.pod_unschedulable(kit.api, kit.ns, second)
    kit.api.delete("Pod", first, kit.ns, grace_seconds=0)
    kit.running(second)


@pytest.mark.prepares
def test_special_claim_deleted_with_the_pod(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('gone')}"
    kit.pin("gpu", extended_resource_name=resource)
    pod = _ext_pod(kit, resource)
    kit.running(pod)
    claim = _special_claim(kit, pod)["metadata"]["name"]
    kit.api.delete("Pod", pod, kit.ns, grace_seconds=0)
    waits.gone(kit.api, "ResourceClaim", claim, kit.ns)


@pytest.mark.since("1.35", "the resource-claim controller releases extended-resource claims of finished pods "
                           "from 1.35 on")
@pytest.mark.prepares
def test_special_claim_deleted_when_pod_completes(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('done')}"
    kit.pin("gpu", extended_resource_name=resource)
    pod = _ext_pod(kit, resource, command="env; sleep 3")
    claim = _special_claim(kit, pod)
    kit.finished(pod)
    waits.gone(kit.api, "ResourceClaim", claim["metadata"]["name"], kit.ns, key="claim_deleted")
