"""Driver updates: a rolling update of a driver's DaemonSet while its pods run, an update that fails
and is rolled back, and two drivers on one node.

They run on a second instance of the bundled driver (fixtures/driver_instance.py), with a name of
its own on one node, so the driver under test and the other tests never notice: they need not run
apart. A vendor's driver is updated by its own tooling (helm upgrade, say), which the harness does
not drive: they skip.
"""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures.claim_ledger import ClaimLedger
from fixtures.driver_instance import DriverInstance

pytestmark = [pytest.mark.feature("core"), pytest.mark.prepares, pytest.mark.capability("control")]


@pytest.fixture
def instance(driver_instance) -> DriverInstance:
    return driver_instance()


def _run(kit, instance) -> tuple[str, str]:
    claim = kit.claim([b.request("gpu", instance.device_class)])
    pod = kit.pod({"gpu": b.from_claim(claim)})
    kit.running(pod)
    return pod, claim


def _uid(kit, claim: str) -> str:
    return kit.api.get("ResourceClaim", claim, kit.ns)["metadata"]["uid"]


def _once(instance, uid: str) -> None:
    entry = instance.control().claims()[uid]
    assert entry["prepared"] == 1, f"claim {uid} prepared {entry['prepared']} times: {entry}"


def test_rolling_update_keeps_pods_running_and_the_new_plugin_serves(kit, instance) -> None:
    pod, claim = _run(kit, instance)
    old = instance.pods()[0]
    instance.update(lambda t: t["metadata"].setdefault("annotations", {}).update({"dra-conformance.io/revision": "2"}))
    new = instance.ready()
    assert new["metadata"]["uid"] != old["metadata"]["uid"], "the DaemonSet did not replace its pod"
    assert kit.running(pod)["status"]["containerStatuses"][0]["restartCount"] == 0
    fresh, fresh_claim = _run(kit, instance)
    for c in (claim, fresh_claim):
        _once(instance, _uid(kit, c))  # the ledger lives on the node: the new plugin counts on


def test_failed_update_is_rolled_back(kit, instance) -> None:
    """An update to an image that cannot start: the plugin is down on its node but running pods keep
    running; rolling back restores it, and it prepares new claims."""
    pod, claim = _run(kit, instance)
    broken = "dra-conformance.local/no-such-driver:never"
    instance.update(lambda t: t["spec"]["containers"][0].update(image=broken, imagePullPolicy="Never"))

    def stuck() -> tuple[bool, object]:
        pods = [p for p in instance.pods() if p["spec"]["containers"][0]["image"] == broken]
        waiting = [((cs.get("state") or {}).get("waiting") or {}).get("reason")
                   for p in pods for cs in (p.get("status") or {}).get("containerStatuses") or []]
        return "ErrImageNeverPull" in waiting, waiting or "no pod of the new image yet"
    wait_for(f"the update of {instance.driver} to fail", stuck, "driver_restart")
    assert kit.running(pod)["status"]["containerStatuses"][0]["restartCount"] == 0
    instance.update(lambda t: t["spec"]["containers"][0].update(image=instance.image, imagePullPolicy="IfNotPresent"))
    instance.ready()
    fresh, fresh_claim = _run(kit, instance)
    for c in (claim, fresh_claim):
        _once(instance, _uid(kit, c))


def test_two_drivers_prepare_one_pod_on_one_node(kit, instance) -> None:
    """One pod with a claim on each driver: both plugins prepare their own claim, once each, and the
    container sees both devices."""
    cls, device = kit.pin(node=instance.node)
    ours, theirs = kit.claim([b.request("gpu", cls)]), kit.claim([b.request("gpu", instance.device_class)])
    pod = kit.pod({"a": b.from_claim(ours), "b": b.from_claim(theirs)})
    kit.running(pod)
    claims = {v for k, v in kit.env(pod).items() if k.startswith("DRA_CLAIM_")}  # the bundled driver's scheme
    assert claims == {f"{kit.ns}/{ours}", f"{kit.ns}/{theirs}"}, claims
    ClaimLedger(kit, device.node).once(_uid(kit, ours))
    _once(instance, _uid(kit, theirs))
