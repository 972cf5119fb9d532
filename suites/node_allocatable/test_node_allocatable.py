"""Node allocatable resources (KEP-5517): a device may stand for node CPU or memory (e.g. host memory
its driver pins), so a pod using it needs that much more of the node.

The scheduler adds the devices' amounts to the pod's requests when it checks the node, and writes
them into pod status.nodeAllocatableResourceClaimStatuses before binding; from 1.37 the kubelet also
raises the limits of the containers that use the claim. The tests publish the devices themselves
(fixtures/synthetic_driver.py); the cgroup test needs them to run without a plugin, so it uses a slice
that skips every node operation (DRAOptionalNodeOperations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("node_allocatable")


def _mappings(amounts: dict[str, str], new: bool) -> dict[str, Any]:
    """Per-device amounts in the 1.37+ field, or in its 1.36 predecessor."""
    if new:
        return {"nodeAllocatableResources": {r: {"mapping": {"deviceMultiplier": q}} for r, q in amounts.items()}}
    return {"nodeAllocatableResourceMappings": {r: {"allocationMultiplier": q} for r, q in amounts.items()}}


def _driver(kit: Kit, amounts: dict[str, str], **fields: Any) -> tuple[SyntheticDriver, bool]:
    """(driver, new field?): one device standing for `amounts` of the node, in whichever field the
    server keeps; skips where it keeps neither."""
    drv = SyntheticDriver(kit, "alloc")
    for new in (True, False):
        device = {"name": "dev-0", **_mappings(amounts, new)}
        # A pool name of its own: the 1.36 scheduler looks the device up by pool and device name
        # alone (getDeviceFromManager), so another driver's pool-0/dev-0 could stand in for it.
        [created] = drv.publish(kit.name("alloc"), [device], **fields)[-1:]
        if set(device) <= set(created["spec"]["devices"][0]):
            if fields and not all(created["spec"].get(k) for k in fields):
                pytest.skip(f"the apiserver dropped {sorted(fields)}: the test needs them too")
            return drv, new
        kit.api.delete("ResourceSlice", created["metadata"]["name"])
    pytest.skip("the apiserver drops node allocatable resources of devices: DRANodeAllocatableResources is off")


def test_a_pod_that_fits_alone_waits_when_its_device_needs_more_cpu_than_a_node_has(kit) -> None:
    drv, _ = _driver(kit, {"cpu": "1000"})
    claim = kit.claim([b.request("dev", drv.device_class)])
    pod = kit.pod(containers=[b.container("ctr", kit.image, claims=["dev"], requests={"cpu": "10m"})],
                  claims={"dev": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "Insufficient cpu",
                            reasons=("Unschedulable", "UnschedulableAndUnresolvable"))
    assert not kit.api.get("ResourceClaim", claim, kit.ns).get("status", {}).get("allocation")


def test_the_scheduler_records_what_the_claim_adds_to_the_pod(kit) -> None:
    drv, new = _driver(kit, {"cpu": "100m", "memory": "64Mi"})
    claim = kit.claim([b.request("dev", drv.device_class)])
    pod = kit.pod({"dev": b.from_claim(claim)})
    bound = waits.pod(kit.api, kit.ns, pod, lambda p: bool(p["spec"].get("nodeName")), "to be bound",
                      "pod_pending_reason")
    [entry] = bound["status"].get("nodeAllocatableResourceClaimStatuses") or [None]
    assert entry and entry["resourceClaimName"] == claim and entry["containers"] == ["ctr"], bound["status"]
    if new:
        assert {m["name"]: m["quantity"] for m in entry["mapping"]} == {"cpu": "100m", "memory": "64Mi"}, entry
    else:
        assert entry["resources"] == {"cpu": "100m", "memory": "64Mi"}, entry


def test_device_amounts_count_against_later_pods_of_the_node(kit) -> None:
    """A pod whose device holds a CPU leaves a node too little for a plain pod that would fit
    otherwise, until it is gone."""
    drv, _ = _driver(kit, {"cpu": "1"})
    claim = kit.claim([b.request("dev", drv.device_class)])
    holder = kit.pod({"dev": b.from_claim(claim)})
    node = waits.pod(kit.api, kit.ns, holder, lambda p: bool(p["spec"].get("nodeName")), "to be bound",
                     "pod_pending_reason")["spec"]["nodeName"]
    # Half a CPU less than the node has free without the device's CPU, half a CPU more than with it
    want = f"{_free_millicpu(kit, node) + 1000 - 500}m"
    plain = kit.pod(containers=[b.container("ctr", kit.image, requests={"cpu": want})],
                    node_selector={"kubernetes.io/hostname": node}, affinity=None)  # it must go there
    waits.pod_unschedulable(kit.api, kit.ns, plain, "Insufficient cpu")
    kit.api.delete("Pod", holder, kit.ns)
    waits.pod(kit.api, kit.ns, plain, lambda p: p["spec"].get("nodeName") == node, f"to be bound to {node}",
              "pod_pending_reason")


def _free_millicpu(kit: Kit, node: str) -> int:
    """The node's allocatable CPU less what its pods request and their claims' devices add."""
    def milli(q: str) -> int:
        return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)
    used = 0
    for p in kit.api.list("Pod", fields=f"spec.nodeName={node}"):
        if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        used += sum(milli(c.get("resources", {}).get("requests", {}).get("cpu", "0")) for c in p["spec"]["containers"])
        for st in (p.get("status") or {}).get("nodeAllocatableResourceClaimStatuses") or []:
            used += sum(milli(m["quantity"]) for m in st.get("mapping") or [] if m["name"] == "cpu")
            used += milli((st.get("resources") or {}).get("cpu", "0"))  # the 1.36 shape
    return milli(kit.api.get("Node", node)["status"]["allocatable"]["cpu"]) - used


# What a container's cgroup shows: CPU quota per 100 ms period and memory limit (v2 files, else v1)
CGROUP = ("cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; "
          "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
          "echo CGROUP-END; sleep 100000")
UNLIMITED = None
LIMITS = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}
# Each device below but COMBINED adds 100m of CPU and 64Mi of memory to the container that uses it
DIRECT = {"nodeAllocatableResources": {"cpu": {"mapping": {"deviceMultiplier": "100m"}},
                                       "memory": {"mapping": {"deviceMultiplier": "64Mi"}}}}
OVERHEAD = {"nodeAllocatableResources": {"cpu": {"overhead": {"perPod": "50m", "perContainer": "50m"}},
                                         "memory": {"overhead": {"perPod": "32Mi", "perContainer": "32Mi"}}}}
COMBINED = {"nodeAllocatableResources": {  # both on one device: 100m + 50m + 50m, 64Mi + 32Mi + 32Mi
    r: {**DIRECT["nodeAllocatableResources"][r], **OVERHEAD["nodeAllocatableResources"][r]} for r in ("cpu", "memory")}}
CAPACITY = {"allowMultipleAllocations": True, "capacity": {"memory": {"value": "1Gi"}},
            "nodeAllocatableResources": {"cpu": {"mapping": {"deviceMultiplier": "100m"}}, "memory": {
                "mapping": {"capacityKey": "memory", "capacityMultiplier": "1"}}}}


@pytest.mark.since("1.37", "the 1.36 kubelet leaves cgroups as the pod spec says")
@pytest.mark.parametrize(("device", "claims", "resources", "qos", "limits"), [
    (DIRECT, 1, LIMITS, "Burstable", (30000, 192)),
    (OVERHEAD, 1, LIMITS, "Burstable", (30000, 192)),
    (COMBINED, 1, LIMITS, "Burstable", (40000, 256)),
    (DIRECT, 2, LIMITS, "Burstable", (40000, 256)),  # a device of each claim
    (CAPACITY, 1, LIMITS, "Burstable", (30000, 192)),  # the claim consumes 64Mi of the device's memory
    (DIRECT, 1, {"requests": LIMITS["limits"], "limits": LIMITS["limits"]}, "Guaranteed", (30000, 192)),
    (DIRECT, 1, {"requests": LIMITS["requests"]}, "Burstable", (UNLIMITED, UNLIMITED)),  # no limit to raise
    (DIRECT, 1, {}, "BestEffort", (UNLIMITED, UNLIMITED)),
], ids=["direct", "overhead", "combined", "two-claims", "capacity", "guaranteed", "no-limits", "best-effort"])
def test_the_kubelet_raises_the_limits_of_containers_using_the_claim(
        kit, device: dict[str, Any], claims: int, resources: dict[str, Any], qos: str,
        limits: tuple[int | None, ...]) -> None:
    drv = SyntheticDriver(kit, "alloc")
    drv.publish_or_skip(kit.name("alloc"), [{"name": f"dev-{i}", **device} for i in range(claims)],
                        "DRAOptionalNodeOperations",
                        lambda s: s[-1]["spec"].get("skipNodeOperations"), skipNodeOperations=["*"])
    capacity = {"memory": "64Mi"} if "capacity" in device else None
    names = {f"dev{i}": kit.claim([b.request("dev", drv.device_class, capacity=capacity)]) for i in range(claims)}
    ctr = b.container("ctr", kit.image, claims=list(names), command=CGROUP)
    ctr["resources"].update(resources)
    pod = kit.pod(containers=[ctr], claims={k: b.from_claim(v) for k, v in names.items()})
    running = waits.pod_running(kit.api, kit.ns, pod)  # not kit.running: no driver prepared anything
    assert running["status"]["qosClass"] == qos, running["status"]
    text = waits.log_contains(kit.api, kit.ns, pod, "CGROUP-END")
    cpu, memory = (line.split()[0] for line in text.splitlines()[:2])
    seen = (None if cpu in ("max", "-1") else int(cpu),
            None if memory == "max" or int(memory) >= 2**62 else int(memory) // 2**20)
    # CPU quota per 100 ms of 200m + what the devices add; memory in Mi, 128Mi + theirs
    assert seen == limits, text
