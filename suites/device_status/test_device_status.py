"""ResourceClaim status.devices (KEP-4817): written by the driver, validated by the API server."""

from __future__ import annotations

import pytest

from dra_conformance.waiting import wait_for
from fixtures import builders as b
from fixtures.kubeapi import ApiError

pytestmark = [pytest.mark.feature("device_status"), pytest.mark.prepares]


def _allocated_pod_claim(kit) -> tuple[str, dict]:
    claim = kit.claim([kit.pinned_request()])
    kit.running(kit.pod({"gpu": b.from_claim(claim)}))
    return claim, kit.allocated(claim)


@pytest.mark.capability("device-status")
def test_driver_writes_device_status(kit) -> None:
    claim, allocated = _allocated_pod_claim(kit)
    (result,) = allocated["status"]["allocation"]["devices"]["results"]

    def probe() -> tuple[bool, object]:
        devices = (kit.api.get("ResourceClaim", claim, kit.ns).get("status") or {}).get("devices") or []
        return bool(devices), devices
    devices = wait_for(f"status.devices of claim {claim}", probe, "claim_allocated")
    (entry,) = [d for d in devices if d["driver"] == kit.driver.name]
    assert (entry["pool"], entry["device"]) == (result["pool"], result["device"])
    assert entry.get("conditions") or entry.get("data") or entry.get("networkData"), entry


def test_status_devices_round_trip(kit) -> None:
    """Like upstream: a status writer may set conditions, data and networkData for an allocated device."""
    claim, allocated = _allocated_pod_claim(kit)
    (result,) = allocated["status"]["allocation"]["devices"]["results"]
    # A shared allocation (consumable capacity) is named with its shareID, in status too.
    share = {"shareID": result["shareID"]} if result.get("shareID") else {}
    entry = {"driver": result["driver"], "pool": result["pool"], "device": result["device"], **share,
             "conditions": [{"type": "Configured", "status": "True", "reason": "Test", "message": "by the suite",
                             "lastTransitionTime": "2025-01-01T00:00:00Z"}],
             "data": {"suite": "device_status"},
             "networkData": {"interfaceName": "net1", "ips": ["10.9.8.7/24"], "hardwareAddress": "02:00:00:00:00:01"}}
    updated = kit.api.patch("ResourceClaim", claim, {"status": {"devices": [entry]}}, kit.ns, sub="status")
    (got,) = [d for d in updated["status"]["devices"] if d["device"] == result["device"]]
    assert got["networkData"] == entry["networkData"]
    assert got["data"] == entry["data"]
    assert got["conditions"][0]["type"] == "Configured"


def test_status_devices_for_unallocated_device_rejected(kit) -> None:
    claim, allocated = _allocated_pod_claim(kit)
    (result,) = allocated["status"]["allocation"]["devices"]["results"]
    bogus = {"driver": result["driver"], "pool": result["pool"], "device": "not-allocated-device"}
    with pytest.raises(ApiError) as info:
        kit.api.patch("ResourceClaim", claim, {"status": {"devices": [bogus]}}, kit.ns, sub="status")
    assert info.value.status == 422, info.value
    assert "status.devices[0]" in info.value.message
