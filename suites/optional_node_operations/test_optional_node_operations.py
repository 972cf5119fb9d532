"""Optional node operations (KEP-5945): a slice's skipNodeOperations tells the kubelet which plugin
calls its devices need.

A control-plane-only driver registers no kubelet plugin, so these tests publish its slices themselves
(fixtures/synthetic_driver.py). The allocation copies the slice's list into the claim's result; the
kubelet skips a call for a driver only when every device of the claim from that driver skips it, and
without a prepare call there is no plugin to find, nor CDI devices to inject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("optional_node_operations")
GATE = "DRAOptionalNodeOperations"
NOT_REGISTERED = "is not registered"


def _claimed(kit: Kit, skip: list[str] | None) -> tuple[SyntheticDriver, str, str]:
    """(driver, claim, pod): a pod using the one device of a pool that skips `skip`."""
    drv = SyntheticDriver(kit, "ono")
    devices = [{"name": "dev-0"}]
    if skip is None:
        drv.publish("ono", devices)
    else:
        drv.publish_or_skip("ono", devices, GATE, lambda s: s[-1]["spec"].get("skipNodeOperations") == skip,
                            skipNodeOperations=skip)
    claim = kit.claim([b.request("dev", drv.device_class)])
    return drv, claim, kit.pod({"dev": b.from_claim(claim)})


def _result(kit: Kit, claim: str) -> dict[str, Any]:
    results = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert len(results) == 1, results
    return results[0]


def test_a_pod_runs_without_any_plugin_when_every_operation_is_skipped(kit) -> None:
    _, claim, pod = _claimed(kit, ["*"])
    assert _result(kit, claim).get("skipNodeOperations") == ["*"]
    waits.pod_running(kit.api, kit.ns, pod)  # not kit.running: no driver prepared anything
    failed = [e for e in kit.api.events(kit.ns, pod) if e.get("reason") == "FailedPrepareDynamicResources"]
    assert not failed, failed
    kit.api.delete("Pod", pod, kit.ns)
    waits.gone(kit.api, "Pod", pod, kit.ns)  # no unprepare call holds the pod either
    waits.claim_deallocated(kit.api, kit.ns, claim)


def test_without_the_field_the_kubelet_needs_the_drivers_plugin(kit) -> None:
    drv, claim, pod = _claimed(kit, None)
    assert "skipNodeOperations" not in _result(kit, claim)
    waits.pod_event(kit.api, kit.ns, pod, "FailedPrepareDynamicResources", f"{drv.name} {NOT_REGISTERED}")
    assert kit.api.get("Pod", pod, kit.ns)["status"].get("phase") == "Pending"


def test_skipping_only_unprepare_still_needs_the_plugin_to_prepare(kit) -> None:
    drv, claim, pod = _claimed(kit, ["NodeUnprepareResources"])
    assert _result(kit, claim).get("skipNodeOperations") == ["NodeUnprepareResources"]
    waits.pod_event(kit.api, kit.ns, pod, "FailedPrepareDynamicResources", f"{drv.name} {NOT_REGISTERED}")


@pytest.mark.parametrize(("skip", "why"), [
    (["NodePrepareResources"], "NodePrepareResources cannot be skipped unless NodeUnprepareResources"),
    (["NodeBoot"], "Unsupported value"),
    (["*", "*"], "Duplicate value"),
], ids=["prepare-alone", "unknown", "duplicate"])
def test_invalid_skip_lists_are_rejected(kit, skip: list[str], why: str) -> None:
    drv = SyntheticDriver(kit, "ono")
    drv.publish_or_skip("ok", [{"name": "dev-0"}], GATE, lambda s: s[-1]["spec"].get("skipNodeOperations"),
                        skipNodeOperations=["*"])
    rejected(lambda: drv.publish("bad", [{"name": "dev-0"}], skipNodeOperations=skip), why)
