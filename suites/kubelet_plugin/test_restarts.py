"""Restarts around the plugin: the kubelet (idle, during a prepare, down while a pod is created), the
plugin process (crashing idle or during a prepare, failing its registration once) and the whole node.

Each runs on a node reserved for it (no other test's pods there) in the serial group. Kubelet and
node restarts are done on the kind node container, so they run against any driver.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.driver import wait_registered

pytestmark = [pytest.mark.feature("core"), pytest.mark.prepares, pytest.mark.serial]
control = pytest.mark.capability("control")


def _container_id(pod: dict[str, Any]) -> str:
    return pod["status"]["containerStatuses"][0]["containerID"]


def _running_on(kit, node: str) -> tuple[str, str, Any]:
    """(pod, claim) of a running pod on a pinned device of `node`, and the device."""
    claim, device = kit.pinned_claim(node=node)
    pod = kit.pod({"gpu": b.from_claim(claim)})
    kit.running(pod)
    return pod, claim, device


def test_kubelet_restart_keeps_prepared_claims_and_serves_new_ones(kit, kind_node, ledger) -> None:
    """After a kubelet restart the running pod keeps its container and its claim; the plugin is
    registered again, its slices are back, and a new pod gets a device prepared."""
    pod, claim, device = _running_on(kit, kind_node.name)
    before = kit.api.get("Pod", pod, kit.ns)
    with kit.driver.comes_back(kind_node.name):
        kind_node.restart_kubelet()
    after = kit.running(pod)
    assert _container_id(after) == _container_id(before), "the container was restarted"
    waits.claim_reserved_for(kit.api, kit.ns, claim, after["metadata"]["uid"])
    fresh, fresh_claim, fresh_device = _running_on(kit, kind_node.name)
    assert kit.devices_seen(fresh) == {fresh_device.name}
    calls = ledger(kind_node.name)
    calls.once(calls.uid(claim))
    calls.once(calls.uid(fresh_claim))


@control
def test_kubelet_restart_during_a_prepare(kit, kind_node, ledger) -> None:
    """The kubelet restarts while a prepare hangs: the new kubelet prepares the pod's claim again, and
    the driver sets it up once."""
    claim, device = kit.pinned_claim(node=kind_node.name)
    calls = ledger(kind_node.name)
    with calls.hung("prepare"):
        pod = kit.pod({"gpu": b.from_claim(claim)})
        uid = calls.uid(claim)
        calls.in_flight(uid)
        with kit.driver.comes_back(kind_node.name):
            kind_node.restart_kubelet()
    kit.running_on_retry(pod)
    e = calls.once(uid)
    assert e["calls"]["prepare"] >= 2, e


@control
def test_kubelet_restart_during_an_unprepare(kit, kind_node, ledger) -> None:
    """The kubelet restarts while an unprepare hangs: the new kubelet unprepares the claim of the
    deleted pod again, the driver tears it down once, and the pod goes."""
    pod, claim, _ = _running_on(kit, kind_node.name)
    calls = ledger(kind_node.name)
    uid = calls.uid(claim)
    with calls.hung("unprepare"):
        kit.api.delete("Pod", pod, kit.ns)
        calls.in_flight(uid, "pod_finished")
        with kit.driver.comes_back(kind_node.name):
            kind_node.restart_kubelet()
    waits.gone(kit.api, "Pod", pod, kit.ns, key="kubelet_retry")
    waits.claim_deallocated(kit.api, kit.ns, claim)
    calls.once(uid, unprepared=True)


def test_pod_created_while_the_kubelet_is_down_starts_when_it_is_back(kit, kind_node, ledger) -> None:
    """The scheduler binds a pod to a node whose kubelet is stopped; nothing is prepared until the
    kubelet is back, then the pod runs with its claim prepared once."""
    claim, device = kit.pinned_claim(node=kind_node.name)
    calls = ledger(kind_node.name)
    kind_node.stop_kubelet()
    try:
        pod = kit.pod({"gpu": b.from_claim(claim)})
        waits.pod(kit.api, kit.ns, pod, lambda p: p["spec"].get("nodeName") == kind_node.name,
                  f"to be bound to {kind_node.name}", "pod_pending_reason")
        kit.allocated(claim)
        e = calls.entry(calls.uid(claim))
        assert e is None or e["calls"]["prepare"] == 0, e
    finally:
        with kit.driver.comes_back(kind_node.name):
            kind_node.start_kubelet()
    kit.running(pod)
    calls.once(calls.uid(claim))


@control
@pytest.mark.parametrize("when", ["idle", "during a prepare"])
def test_plugin_crash(kit, reserved_node, ledger, when: str) -> None:
    """The plugin process dies (idle, or while a prepare hangs): its container restarts, registers
    again, running pods keep running, and every claim is prepared once."""
    pod, claim, _ = _running_on(kit, reserved_node)
    calls = ledger(reserved_node)
    plugin = kit.driver.running_pod(reserved_node)
    restarts = plugin["status"]["containerStatuses"][0].get("restartCount", 0)
    pending = pending_claim = None
    if when == "during a prepare":
        pending_claim, _ = kit.pinned_claim(node=reserved_node)
        calls.control.hang("prepare", count=-1, namespace=kit.ns)  # gone with the process
        pending = kit.pod({"gpu": b.from_claim(pending_claim)})
        calls.in_flight(calls.uid(pending_claim))
    calls.control.crash(exit_code=1)

    def restarted(p: dict[str, Any]) -> bool:
        st = p["status"].get("containerStatuses") or [{}]
        return st[0].get("restartCount", 0) > restarts and bool(st[0].get("ready"))
    waits.pod(kit.api, plugin["metadata"]["namespace"], plugin["metadata"]["name"], restarted,
              "to restart its plugin container", "driver_restart")
    wait_registered(kit.driver, [reserved_node], "driver_restart")
    assert kit.running(pod)["status"]["containerStatuses"][0]["restartCount"] == 0
    calls.once(calls.uid(claim))
    if pending is not None:
        kit.running_on_retry(pending)
        calls.once(calls.uid(pending_claim))


@control
def test_plugin_registers_again_after_its_registration_fails_once(kit, reserved_node, ledger) -> None:
    """GetInfo fails once when the plugin comes back: the kubelet tries again, the plugin ends up
    registered, and it prepares claims."""
    calls = ledger(reserved_node)
    calls.control.stop_serving()
    before = calls.control.state()["registration"]["getInfoCalls"]
    calls.control.fail("getinfo", count=1, message="injected: not ready yet")
    state = calls.control.start_serving()
    assert state["registration"]["registered"] is True, state
    assert calls.control.state()["registration"]["getInfoCalls"] >= before + 2
    assert calls.control.state()["faults"]["stats"]["getinfo"]["failed"] >= 1
    pod, claim, device = _running_on(kit, reserved_node)
    assert kit.devices_seen(pod) == {device.name}
    calls.once(calls.uid(claim))


def test_node_restart_brings_pods_back_with_their_claims(kit, kind_node, ledger) -> None:
    """`docker restart` of the node: its pod comes back (restartPolicy Always) with the same claim
    and device, and the claim is still allocated and reserved for it."""
    claim, device = kit.pinned_claim(node=kind_node.name)
    pod = kit.pod({"gpu": b.from_claim(claim)}, restart_policy="Always")
    before = kit.running(pod)
    allocation = kit.allocated(claim)["status"]["allocation"]
    with kit.driver.comes_back(kind_node.name):
        kind_node.restart()

    def back(p: dict[str, Any]) -> bool:
        st = (p.get("status") or {}).get("containerStatuses") or [{}]
        return p["status"].get("phase") == "Running" and bool(st[0].get("ready")) \
            and st[0].get("containerID") != _container_id(before)
    # Nudged: a pod the kubelet started before the plugin was back waits out a failed prepare.
    after = kit.started(waits.pod(kit.api, kit.ns, pod, back, "to run again in a new container", "kubelet_retry",
                                  nudged=True))
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    c = waits.claim_reserved_for(kit.api, kit.ns, claim, after["metadata"]["uid"])
    assert c["status"]["allocation"] == allocation
    assert kit.devices_seen(pod) == {device.name}
    calls = ledger(kind_node.name)
    e = calls.entry(calls.uid(claim))
    assert e is None or e["errors"]["prepare"] == 0, e
