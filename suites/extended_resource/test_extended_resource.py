"""Extended resources backed by DRA (KEP-5004): `resources.limits[<name>]` gets a special claim and a device."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import ApiError

pytestmark = pytest.mark.feature("extended_resource")
ANNOTATION = "resource.kubernetes.io/extended-resource-claim"


def _ext_pod(kit, resource: str, count: int = 1, command: str = "env; sleep 100000") -> str:
    ctr = kit.container("ctr", command=command, requests={resource: str(count)})
    return kit.pod(containers=[ctr])


def _special_claim(kit, pod: str, containers: list[str] | None = None) -> dict:
    """The pod's special claim, allocated; `containers`: whose requests it maps, in order."""
    def probe() -> tuple[bool, object]:
        st = kit.api.get("Pod", pod, kit.ns).get("status") or {}
        ext = st.get("extendedResourceClaimStatus") or {}
        return bool(ext.get("resourceClaimName")), ext or st.get("conditions")
    status = wait_for(f"extendedResourceClaimStatus of {pod}", probe, "claim_allocated")
    claim = kit.allocated(status["resourceClaimName"])
    assert ANNOTATION in (claim["metadata"].get("annotations") or {}), claim["metadata"]
    assert [m["containerName"] for m in status.get("requestMappings") or []] == (containers or ["ctr"])
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
@pytest.mark.parametrize(("phase", "command"), [("Succeeded", "env; sleep 3"), ("Failed", "env; exit 3")],
                         ids=["completes", "fails"])
def test_special_claim_deleted_when_pod_ends(kit, phase: str, command: str) -> None:
    resource = f"dra-conformance.io/{kit.name('done')}"
    kit.pin("gpu", extended_resource_name=resource)
    pod = _ext_pod(kit, resource, command=command)
    claim = _special_claim(kit, pod)
    kit.finished(pod, phase=phase)
    waits.gone(kit.api, "ResourceClaim", claim["metadata"]["name"], kit.ns, key="claim_deleted")


def _backed_by_two(kit, resource: str) -> tuple[str, list]:
    """A class for `resource` backed by exactly two devices this test pinned on one node."""
    devices = kit.pin_pair()
    return kit.class_for(devices, extended_resource_name=resource), devices


def _mappings(kit, pod: str) -> dict[str, list[str]]:
    """container -> extended resources of extendedResourceClaimStatus.requestMappings."""
    status = kit.api.get("Pod", pod, kit.ns)["status"]["extendedResourceClaimStatus"]
    out: dict[str, list[str]] = {}
    for m in status.get("requestMappings") or []:
        out.setdefault(m["containerName"], []).append(m["resourceName"])
    return out


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
def test_each_container_gets_its_own_device(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('two')}"
    _, devices = _backed_by_two(kit, resource)
    pod = kit.pod(containers=[kit.container(c, requests={resource: "1"}) for c in ("a", "b")])
    kit.running(pod)
    results = _special_claim(kit, pod, containers=["a", "b"])["status"]["allocation"]["devices"]["results"]
    assert sorted(r["device"] for r in results) == sorted(d.name for d in devices)
    assert _mappings(kit, pod) == {"a": [resource], "b": [resource]}
    if kit.driver.profile.has("cdi-env"):
        seen = [kit.devices_seen(pod, c) for c in ("a", "b")]
        assert all(len(s) == 1 for s in seen) and seen[0] != seen[1], seen


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
@pytest.mark.since("1.35", "the scheduler maps deviceclass.resource.kubernetes.io/<class> from 1.35 on")
def test_one_container_with_two_resources(kit) -> None:
    """An explicit and an implicit resource name in one container: a request each, both devices."""
    resource = f"dra-conformance.io/{kit.name('named')}"
    named, devices = _backed_by_two(kit, resource)
    implicit = f"deviceclass.resource.kubernetes.io/{named}"
    pod = kit.pod(containers=[kit.container("ctr", requests={resource: "1", implicit: "1"})])
    kit.running(pod)
    results = _special_claim(kit, pod, containers=["ctr", "ctr"])["status"]["allocation"]["devices"]["results"]
    assert sorted(r["device"] for r in results) == sorted(d.name for d in devices)
    assert sorted(_mappings(kit, pod)["ctr"]) == sorted([resource, implicit])
    if kit.driver.profile.has("cdi-env"):
        assert kit.devices_seen(pod) == {d.name for d in devices}


@pytest.mark.prepares
@pytest.mark.capability("multi-device")
@pytest.mark.since("1.35", "the 1.34 scheduler asks a device for every container, a finished init container's "
                           "too (three here, of two)")
def test_init_and_sidecar_containers(kit) -> None:
    """A sidecar keeps its device while the main container runs, so the pod needs two devices;
    a plain init container has finished by then and reuses one."""
    resource = f"dra-conformance.io/{kit.name('side')}"
    _, devices = _backed_by_two(kit, resource)
    init = kit.container("init", command="env", requests={resource: "1"})
    sidecar = kit.container("sidecar", requests={resource: "1"}) | {"restartPolicy": "Always"}
    pod = kit.pod(containers=[kit.container("ctr", requests={resource: "1"})], init_containers=[init, sidecar])
    kit.running(pod)
    claim = kit.allocated(kit.api.get("Pod", pod, kit.ns)["status"]["extendedResourceClaimStatus"]["resourceClaimName"])
    results = claim["status"]["allocation"]["devices"]["results"]
    assert sorted(r["device"] for r in results) == sorted(d.name for d in devices)
    assert set(_mappings(kit, pod)) == {"init", "sidecar", "ctr"}


def test_zero_request_needs_no_device(kit) -> None:
    resource = f"dra-conformance.io/{kit.name('zero')}"
    kit.pin("gpu", extended_resource_name=resource)
    pod = kit.pod(containers=[kit.container("ctr", requests={resource: "0"})])
    running = kit.running(pod)
    assert not (running.get("status") or {}).get("extendedResourceClaimStatus"), running["status"]
    assert kit.api.list("ResourceClaim", kit.ns) == []


@pytest.mark.parametrize("name", ["nodomain", "kubernetes.io/gpu"])
def test_invalid_extended_resource_name_is_rejected(kit, name: str) -> None:
    with pytest.raises(ApiError) as err:
        kit.device_class(extended_resource_name=name)
    assert err.value.status == 422 and "extendedResourceName" in err.value.message, err.value


@pytest.mark.prepares
@pytest.mark.since("1.36", "the 1.34 scheduler does not try a pending pod again when a DeviceClass for its "
                           "resource appears; upstream's test of it came with 1.36")
def test_pod_waits_for_the_device_class(kit) -> None:
    """A pod asking for a resource no class provides yet runs once the class is created."""
    resource = f"dra-conformance.io/{kit.name('late')}"
    pod = _ext_pod(kit, resource)
    waits.pod_unschedulable(kit.api, kit.ns, pod)
    _, device = kit.pin("gpu", extended_resource_name=resource)
    running = kit.running(pod)
    (result,) = _special_claim(kit, pod)["status"]["allocation"]["devices"]["results"]
    assert (result["device"], running["spec"]["nodeName"]) == (device.name, device.node)


@pytest.mark.prepares
def test_resource_quota_counts_extended_resource_requests(kit) -> None:
    """requests.<resource> quota admits one pod and refuses the next; the special claim's device is
    counted against the class too."""
    resource = f"dra-conformance.io/{kit.name('quota')}"
    cls, _ = kit.pin("gpu", extended_resource_name=resource)
    devices_key = f"{cls}.deviceclass.resource.k8s.io/devices"
    hard = {f"requests.{resource}": "1", devices_key: "1"}
    kit.api.create(b.quota("ext", kit.ns, hard))

    def used(want: dict[str, str]) -> Callable[[], tuple[bool, object]]:
        def probe() -> tuple[bool, object]:
            st = kit.api.get("ResourceQuota", "ext", kit.ns).get("status") or {}
            got = {k: st.get("used", {}).get(k) for k in want}
            return got == want, st
        return probe
    wait_for("the quota's initial usage", used(dict.fromkeys(hard, "0")), "claim_allocated")
    first = _ext_pod(kit, resource)
    kit.running(first)
    wait_for("the quota to count the pod and its device", used(dict.fromkeys(hard, "1")), "claim_allocated")
    with pytest.raises(ApiError) as err:
        _ext_pod(kit, resource)
    assert err.value.status == 403 and "exceeded quota" in err.value.message, err.value
