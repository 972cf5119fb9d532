"""A real kind cluster end to end: create → gates/APIs/CDI/networking → (delete at session end).

Uses the default Kubernetes version with the all-dra profile so every gate the profile sets can be
seen in the components. DRA_SELFTEST_KEEP=1 keeps the cluster for the next run (then reused).
"""

from __future__ import annotations

import json
import uuid

import pytest
from kubernetes import client

from clusters.kind import cluster, host, versions
from clusters.kind.forge.toolbox_image import ensure_toolbox_image
from dra_conformance import kube, proc
from dra_conformance.waiting import wait_for
from fixtures.kubeapi import Api
from tests.conftest import SELFTEST_PROFILE

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]


@pytest.fixture(scope="module")
def made(selftest_cluster: cluster.Cluster) -> cluster.Cluster:
    return selftest_cluster


@pytest.fixture(scope="module")
def api(made: cluster.Cluster) -> client.ApiClient:
    return kube.api_client(str(made.kubeconfig))


def test_nodes_ready_at_the_release(made, api):
    nodes = client.CoreV1Api(api).list_node().items
    assert len(nodes) == 3
    assert {n.status.node_info.kubelet_version for n in nodes} == {made.spec.release.patch}
    assert cluster.server_version(made.kubeconfig) == made.spec.release.patch


def test_profile_apis_are_served(made, api):
    groups = client.ApisApi(api).get_api_versions().groups
    served = {f"{g.name}/{v.version}" for g in groups for v in g.versions}
    assert set(versions.served_apis(SELFTEST_PROFILE, made.spec.release.minor)) <= served


def test_profile_gates_reach_every_component(made, api):
    gates = versions.profile_gates(SELFTEST_PROFILE, made.spec.release.minor)
    assert gates
    pods = client.CoreV1Api(api).list_namespaced_pod("kube-system", label_selector="tier=control-plane").items
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        command = next(" ".join(p.spec.containers[0].command) for p in pods
                       if p.metadata.labels.get("component") == component)
        flag = next(arg for arg in command.split() if arg.startswith("--feature-gates="))
        set_gates = dict(kv.split("=") for kv in flag.removeprefix("--feature-gates=").split(","))
        assert {g: str(v).lower() for g, v in gates.items()}.items() <= set_gates.items(), component
    for node in client.CoreV1Api(api).list_node().items:
        configz = Api(api).request("GET", f"/api/v1/nodes/{node.metadata.name}/proxy/configz")
        kubelet_gates = configz["kubeletconfig"].get("featureGates", {})
        assert gates.items() <= kubelet_gates.items(), node.metadata.name


def test_static_cdi_device_reaches_a_container(made):
    """A container requesting a device from a static CDI spec on the node sees its env var.

    The kubelet stops sandboxes it does not own within seconds (orphan clean-up), so the sandbox
    is created, its container run and its env read in one shell; a sandbox the kubelet stopped
    before that finished is retried afresh.
    """
    worker = next(n for n in cluster.node_container_names(made.name) if "worker" in n)
    kind = f"dra-conformance.test/static{uuid.uuid4().hex[:6]}"
    spec = {"cdiVersion": "0.6.0", "kind": kind,
            "devices": [{"name": "dev0", "containerEdits": {"env": ["STATIC_CDI_DEVICE=dev0"]}}]}
    uid = uuid.uuid4().hex[:8]
    # A host-network sandbox in its own systemd slice (the nodes use the systemd cgroup driver).
    sandbox = {"metadata": {"name": f"cdi-{uid}", "namespace": "default", "uid": uid},
               "linux": {"cgroup_parent": f"selftest{uid}.slice",
                         "security_context": {"namespace_options": {"network": 2}}}}
    container = {"metadata": {"name": "c"}, "image": {"image": ensure_toolbox_image()},
                 "command": ["sleep", "3600"], "CDI_devices": [{"name": f"{kind}=dev0"}], "linux": {}}
    docker = host.docker()
    files = {f"/var/run/cdi/{uid}.json": spec, f"/tmp/{uid}-pod.json": sandbox, f"/tmp/{uid}-c.json": container}
    for path, body in files.items():
        proc.run([docker, "exec", "-i", worker, "sh", "-c", f"mkdir -p /var/run/cdi && cat > {path}"],
                 input=json.dumps(body).encode())
    script = (f"pod=$(crictl runp /tmp/{uid}-pod.json) && "
              f"ctr=$(crictl create $pod /tmp/{uid}-c.json /tmp/{uid}-pod.json); rc=$?; "
              f"[ $rc = 0 ] && crictl start $ctr >/dev/null && crictl exec $ctr env; rc=$?; "
              f"crictl rmp -f $pod >/dev/null; exit $rc")
    try:
        for _ in range(3):
            res = proc.run([docker, "exec", worker, "sh", "-c", script], check=False)
            if res.returncode == 0:
                break
        assert res.returncode == 0, res.stderr.decode(errors="replace")
        assert "STATIC_CDI_DEVICE=dev0" in res.stdout.decode().splitlines()
    finally:
        proc.run([docker, "exec", worker, "sh", "-c", f"rm -f /var/run/cdi/{uid}.json /tmp/{uid}-*.json"],
                 check=False)


def test_pods_reach_each_other_across_nodes(made, api):
    core = client.CoreV1Api(api)
    ns = f"selftest-net-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        workers = sorted(n.metadata.name for n in core.list_node().items if "worker" in n.metadata.name)
        image = ensure_toolbox_image()

        def pod(name: str, node: str, command: str) -> dict:
            return {"metadata": {"name": name}, "spec": {"nodeName": node, "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": image, "imagePullPolicy": "Never",
                                    "command": ["sh", "-c", command]}]}}

        core.create_namespaced_pod(ns, pod("server", workers[0], "echo hello-across > /www; httpd -f -p 8080 -h /"))

        def server_ip() -> tuple[bool, str]:
            p = core.read_namespaced_pod("server", ns)
            return p.status.phase == "Running" and bool(p.status.pod_ip), p.status.pod_ip or p.status.phase
        ip = wait_for("server pod running", server_ip, "pod_running")
        core.create_namespaced_pod(ns, pod("client", workers[1], f"wget -q -O - http://{ip}:8080/www"))

        def client_done() -> tuple[bool, str]:
            phase = core.read_namespaced_pod("client", ns).status.phase
            return phase in ("Succeeded", "Failed"), phase
        assert wait_for("client pod finished", client_done, "pod_finished") == "Succeeded"
        assert core.read_namespaced_pod_log("client", ns).strip() == "hello-across"
    finally:
        core.delete_namespace(ns)
