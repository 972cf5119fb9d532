"""The kubelet's PodResources API (KEP-3695) lists a running pod's DRA devices, in List and Get."""

from __future__ import annotations

import pytest

from dra_conformance.waiting import timeout, wait_for
from fixtures import builders as b
from fixtures.podresources import PodResourcesClient, Unreachable, dynamic_resources, node_socket

pytestmark = pytest.mark.feature("pod_resources")


@pytest.fixture
def running_claim(kit) -> tuple[dict, dict]:
    claim = kit.claim([kit.pinned_request()])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    return kit.running(pod), kit.allocated(claim)


def _client(node: str) -> PodResourcesClient:
    try:
        return PodResourcesClient(node_socket(node), timeout("grpc_call"))
    except Unreachable as exc:
        pytest.skip(f"kubelet PodResources socket of {node} not reachable: {exc}")


def _expected(pod: dict, claim: dict) -> list[dict]:
    (r,) = claim["status"]["allocation"]["devices"]["results"]
    return [{"container": "ctr", "claim": claim["metadata"]["name"], "namespace": claim["metadata"]["namespace"],
             "driver": r["driver"], "pool": r["pool"], "device": r["device"]}]


def _strip(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "cdi"} for e in entries]


@pytest.mark.prepares
def test_list_shows_the_pods_dra_devices(running_claim) -> None:
    pod, claim = running_claim
    client = _client(pod["spec"]["nodeName"])
    try:
        def probe() -> tuple[bool, object]:
            mine = [p for p in client.list() if p.get("name") == pod["metadata"]["name"]
                    and p.get("namespace") == pod["metadata"]["namespace"]]
            return bool(mine and dynamic_resources(mine[0])), mine
        (entry,) = wait_for("the pod in PodResources List", probe, "pod_resources")
        assert _strip(dynamic_resources(entry)) == _expected(pod, claim)
    finally:
        client.close()


@pytest.mark.prepares
def test_get_shows_the_pods_dra_devices(running_claim) -> None:
    pod, claim = running_claim
    client = _client(pod["spec"]["nodeName"])
    try:
        got = wait_for("the pod in PodResources Get", lambda: (
            bool(dynamic_resources(r := client.get(pod["metadata"]["name"], pod["metadata"]["namespace"]))), r),
            "pod_resources")
        entries = dynamic_resources(got)
        assert _strip(entries) == _expected(pod, claim)
        assert all(e["cdi"] for e in entries), "the driver's CDI device IDs are reported"
    finally:
        client.close()
