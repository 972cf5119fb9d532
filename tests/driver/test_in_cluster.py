"""The bundled driver in a real kind cluster: registration with the kubelet, slices, a pod with a
claim seeing its device, claim status, health in pod status, node-restricted slice writes, and
publication per device profile against the real API server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusters.kind import cluster
from clusters.kind.forge.toolbox_image import ensure_toolbox_image
from dra_conformance import kube
from dra_conformance.paths import REPO
from dra_conformance.waiting import timeout, wait_for
from drivers.fake_gpu import profiles
from drivers.fake_gpu.control_client import parse_env
from fixtures.driver import DriverHandle, wait_registered, wait_slices
from fixtures.driver_install import install, uninstall
from fixtures.driver_profile import load
from fixtures.kubeapi import Api, ApiError
from fixtures.liveness import RunLease

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]


@pytest.fixture(scope="module")
def api(selftest_cluster: cluster.Cluster) -> Api:
    return Api(kube.api_client(str(selftest_cluster.kubeconfig)))


@pytest.fixture(scope="module")
def driver(selftest_cluster: cluster.Cluster, api: Api) -> Iterator[DriverHandle]:
    profile = load(None)
    run = f"selftest-{uuid.uuid4().hex[:8]}"
    lease = RunLease(api, run)  # a live run: no other run's sweep takes this install away
    installed = install(profile, api, str(selftest_cluster.kubeconfig), selftest_cluster.name, run)
    handle = DriverHandle(profile, installed, api, None)
    workers = [n["metadata"]["name"] for n in api.list("Node") if "worker" in n["metadata"]["name"]]
    wait_slices(handle, workers)
    yield handle
    uninstall(profile, installed, api, str(selftest_cluster.kubeconfig), selftest_cluster.name)
    lease.release()
    wait_for("the driver's slices withdrawn", lambda: (not handle.slices(), len(handle.slices())), "object_gone")


@pytest.fixture
def namespace(api: Api) -> Iterator[str]:
    name = f"selftest-{uuid.uuid4().hex[:8]}"
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    api.delete("Namespace", name)


def test_kubelet_registers_the_driver(driver):
    for node, reg in wait_registered(driver, driver.nodes("gpu")).items():
        assert reg["getInfoCalls"] >= 1 and not reg["error"], (node, reg)


def test_every_worker_publishes_its_devices(driver, api):
    workers = {n["metadata"]["name"] for n in api.list("Node") if "worker" in n["metadata"]["name"]}
    assert set(driver.nodes("gpu")) == workers
    for dev in driver.devices("gpu"):
        assert {"index", "uuid", "model", "driverVersion"} <= set(dev.attributes)
        assert "version" in dev.attributes["driverVersion"]
        assert "memory" in dev.capacity


def _pod_with_claim(api: Api, ns: str, device_class: str, *, external: bool = False) -> dict:
    """A pod with one claim "gpu": from a template, or (`external`) a ResourceClaim of that name."""
    spec = {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": device_class}}]}}
    kind = "ResourceClaim" if external else "ResourceClaimTemplate"
    api.create({"apiVersion": "resource.k8s.io/v1", "kind": kind, "metadata": {"name": "gpu", "namespace": ns},
                "spec": spec if external else {"spec": spec}})
    source = {"resourceClaimName": "gpu"} if external else {"resourceClaimTemplateName": "gpu"}
    return api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": ns},
                       "spec": {"restartPolicy": "Never", "resourceClaims": [{"name": "gpu", **source}],
                           "containers": [{"name": "c", "image": ensure_toolbox_image(),
                                           "imagePullPolicy": "Never", "command": ["sh", "-c", "env; sleep 3600"],
                                           "resources": {"claims": [{"name": "gpu"}]}}]}})


def _running(api: Api, ns: str, name: str = "app") -> dict:
    def probe():
        pod = api.get("Pod", name, ns)
        return pod["status"].get("phase") == "Running", pod["status"]
    wait_for(f"pod {ns}/{name} running", probe, "pod_running")
    return api.get("Pod", name, ns)


def test_deleted_slices_are_published_again(driver, api):
    """Someone (the kubelet at its start-up, say) deletes a serving plugin's slices: they come back."""
    node = driver.nodes("gpu")[-1]
    gone = {s["metadata"]["uid"] for s in driver.slices(node)}
    for s in driver.slices(node):
        api.delete("ResourceSlice", s["metadata"]["name"])
    wait_slices(driver, [node], "slices_published")
    assert gone.isdisjoint(s["metadata"]["uid"] for s in driver.slices(node))


def test_pod_with_claim_sees_its_device_and_status_is_written(driver, api, namespace):
    _pod_with_claim(api, namespace, driver.class_name("gpu"))
    pod = _running(api, namespace)
    claim_name = pod["status"]["resourceClaimStatuses"][0]["resourceClaimName"]
    claim = api.get("ResourceClaim", claim_name, namespace)
    result = claim["status"]["allocation"]["devices"]["results"][0]
    assert result["driver"] == driver.name and result["pool"] == pod["spec"]["nodeName"]
    devices = parse_env(api.pod_log(namespace, "app"))
    assert [d["device"] for d in devices] == [result["device"]]
    assert devices[0]["claim"] == f"{namespace}/{claim_name}"

    def status_written():
        st = api.get("ResourceClaim", claim_name, namespace)["status"].get("devices") or []
        return bool(st), st
    entry = wait_for("the driver's status.devices entry", status_written, "claim_allocated")[0]
    assert (entry["driver"], entry["device"]) == (driver.name, result["device"])
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in entry.get("conditions", []))


def test_health_change_reaches_the_pod_status(driver, api, namespace, selftest_cluster):
    """ResourceHealthStatus is on in the self-test's all-dra profile. The claim is of a kind this
    kubelet shows health for (suites/known_issues.yaml): 1.34 only external claims named like the
    pod's entry, 1.35 only generated ones, later releases both."""
    _pod_with_claim(api, namespace, driver.class_name("gpu"), external=selftest_cluster.spec.release.minor == "1.34")
    pod = _running(api, namespace)
    generated = pod["status"].get("resourceClaimStatuses") or []
    claim = api.get("ResourceClaim", generated[0]["resourceClaimName"] if generated else "gpu", namespace)
    device = claim["status"]["allocation"]["devices"]["results"][0]["device"]
    control = driver.control(pod["spec"]["nodeName"])

    def health_is(value: str):
        def probe():
            statuses = api.get("Pod", "app", namespace)["status"].get("containerStatuses") or []
            seen = [r.get("health") for s in statuses for a in s.get("allocatedResourcesStatus") or []
                    for r in a.get("resources") or []]
            return value in seen, seen
        return probe

    wait_for("Healthy in allocatedResourcesStatus", health_is("Healthy"), "pod_status_health")
    control.set_health(device, "Unhealthy", "ECC errors (selftest)")
    try:
        wait_for("Unhealthy in allocatedResourcesStatus", health_is("Unhealthy"), "pod_status_health")
    finally:
        control.set_health(device, "Healthy")
    wait_for("Healthy again", health_is("Healthy"), "pod_status_health")


def _driver_token(api: Api, driver: DriverHandle, node: str) -> str:
    """A token of the driver's service account bound to its pod on `node` (so it names the node)."""
    pod = driver.running_pod(node)
    ns, sa = pod["metadata"]["namespace"], pod["spec"]["serviceAccountName"]
    review = api.request("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token", body={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 600, "boundObjectRef": {
            "apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}})
    return review["status"]["token"]


def test_a_node_plugin_cannot_write_another_nodes_slices(driver, api, selftest_cluster):
    own, other = driver.nodes("gpu")[:2]
    as_driver = kube.api_client_with_token(str(selftest_cluster.kubeconfig), _driver_token(api, driver, own))
    driver_api = Api(as_driver)

    def slice_for(node: str) -> dict:
        return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
                "metadata": {"generateName": "selftest-"},
                "spec": {"driver": driver.name, "nodeName": node,
                         "pool": {"name": f"selftest-{node}", "generation": 1, "resourceSliceCount": 1},
                         "devices": [{"name": "x"}]}}

    with pytest.raises(ApiError) as denied:
        driver_api.create(slice_for(other), dry_run=True)
    assert denied.value.status in (403, 422), denied.value
    assert driver_api.create(slice_for(own), dry_run=True)["spec"]["nodeName"] == own


@pytest.mark.parametrize("profile", ["gpu", "nic", "mixed"])
def test_publication_per_profile(profile, api, selftest_cluster, tmp_path):
    """A driver process on the host, under its own driver name, publishes exactly its profile's
    devices for a node and withdraws them on shutdown."""
    node = next(n["metadata"]["name"] for n in api.list("Node") if "worker" in n["metadata"]["name"])
    name = f"pub-{uuid.uuid4().hex[:6]}.selftest.dra-conformance.io"
    root = Path("/tmp") / f"pub{uuid.uuid4().hex[:6]}"
    cmd = [sys.executable, "-m", "drivers.fake_gpu", "--node-name", node, "--driver-name", name,
           "--profile", profile, "--plugin-root", str(root), "--cdi-root", str(root / "cdi"),
           "--control-port", "0", "--kubeconfig", str(selftest_cluster.kubeconfig)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        ready = json.loads(next(line for line in proc.stdout if line.startswith("{")))
        assert ready["event"] == "ready"
        expected = {d.name: d.type for d in profiles.build(profile, node).devices}

        def published():
            slices = api.list("ResourceSlice", fields=f"spec.driver={name}")
            devs = [d for s in slices for d in s["spec"].get("devices") or []]
            return bool(devs), devs
        devs = wait_for(f"{name} slices", published, "slices_published")
        assert {d["name"]: d["attributes"]["type"]["string"] for d in devs} == expected
        assert set(expected.values()) == {"gpu": {"gpu"}, "nic": {"nic"}, "mixed": {"gpu", "nic"}}[profile]
        for dev in devs:
            wanted = {"gpu": {"uuid", "model", "driverVersion"}, "nic": {"interfaceName", "pciAddress"}}
            assert wanted[dev["attributes"]["type"]["string"]] <= set(dev["attributes"]), dev
    finally:
        proc.terminate()
        proc.wait(timeout=timeout("process_exit"))
    wait_for(f"{name} slices withdrawn",
             lambda: (not api.list("ResourceSlice", fields=f"spec.driver={name}"), "still there"), "object_gone")
