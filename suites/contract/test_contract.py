"""The minimum contract every DRA driver must keep (KEP-5970's seven behaviours), for any driver.

`-m contract` selects this tier: these tests and the core tests marked `contract` (allocation and
prepare, CDI). A certificate needs every one of them to pass; a skip here is a failure of --certify.
"""

from __future__ import annotations

from typing import Any

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures import waits

pytestmark = [pytest.mark.feature("core"), pytest.mark.contract]


def _pools(slices: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    pools: dict[str, list[dict[str, Any]]] = {}
    for s in slices:
        pools.setdefault(s["spec"]["pool"]["name"], []).append(s)
    return pools


def test_driver_publishes_complete_pools_for_its_nodes(kit) -> None:
    """Slice publication: every pool's newest generation is complete, node-local slices name a node
    that exists, device names are unique in a pool, and each role of the profile has devices.

    Complete once settled: a kubelet (re)starting on a node deletes that node's slices one by one
    while the plugin publishes them again, so one reading may catch a pool in between."""
    nodes = {n["metadata"]["name"] for n in kit.api.list("Node")}

    def problems() -> tuple[bool, Any]:
        slices = kit.driver.slices()
        found = [] if slices else [f"driver {kit.driver.name} publishes no ResourceSlice"]
        for pool, items in _pools(slices).items():
            newest = max(s["spec"]["pool"]["generation"] for s in items)
            current = [s for s in items if s["spec"]["pool"]["generation"] == newest]
            want = current[0]["spec"]["pool"]["resourceSliceCount"]
            if len(current) != want:
                found.append(f"pool {pool}: {len(current)} of {want} slices at generation {newest}")
            found += [f"slice {s['metadata']['name']} names node {s['spec']['nodeName']}, which does not exist"
                      for s in current if s["spec"].get("nodeName") and s["spec"]["nodeName"] not in nodes]
            names = [d["name"] for s in current for d in s["spec"].get("devices") or []]
            if len(names) != len(set(names)):
                found.append(f"pool {pool} publishes a device name twice: {sorted(names)}")
        return not found, found
    wait_for(f"the pools of {kit.driver.name} to be complete", problems, "slices_published")
    for role in kit.driver.profile.classes:
        assert kit.driver.devices(role), f"no published device matches role {role!r} of the driver profile"


@pytest.mark.prepares
@pytest.mark.serial  # a device on every node: the serial lane holds one node reserved throughout
def test_plugin_registered_on_every_node_with_devices(kit) -> None:
    """Registration: the kubelet of each node that publishes devices reaches the plugin; a pod on
    each such node gets a device of that node prepared."""
    nodes = kit.driver.nodes("gpu")
    assert nodes, f"no node publishes a gpu-role device of {kit.driver.name}"
    pods = {}
    for node in nodes:
        cls, _ = kit.pin("gpu", node=node)
        pods[node] = kit.pod({"gpu": b.from_claim(kit.claim([b.request("gpu", cls)]))})
    for node, pod in pods.items():
        assert kit.running(pod)["spec"]["nodeName"] == node


@pytest.mark.prepares
def test_device_is_reused_after_release_with_a_clean_unprepare(kit) -> None:
    """Unprepare and reuse: three pods in turn on one pinned device, each claim deallocated after its
    pod is deleted, each next pod prepared on the same device, and no FailedUnprepareDynamicResources."""
    cls, device = kit.pin("gpu")
    for _ in range(3):
        claim = kit.claim([b.request("gpu", cls)])
        pod = kit.pod({"gpu": b.from_claim(claim)})
        assert kit.running(pod)["spec"]["nodeName"] == device.node
        (result,) = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
        assert (result["pool"], result["device"]) == (device.pool, device.name)
        kit.api.delete("Pod", pod, kit.ns)  # graceful: the kubelet unprepares before the pod goes
        waits.gone(kit.api, "Pod", pod, kit.ns)
        waits.claim_deallocated(kit.api, kit.ns, claim)
    failed = [e for e in kit.api.events(kit.ns) if e.get("reason") == "FailedUnprepareDynamicResources"]
    assert not failed, [e.get("message") for e in failed]
