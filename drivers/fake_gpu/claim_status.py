"""ResourceClaim status.devices written by the driver (KEP-4817): conditions, data, networkData.

Server-side apply on the status subresource with the driver name as field manager: status.devices
is a list-map keyed by driver/pool/device/shareID, so applying only our entries leaves other
drivers' entries alone, and re-applying without them removes exactly ours. With
DRAResourceClaimGranularStatusAuthorization (1.36+) this needs `resourceclaims/driver`
`associated-node:patch` on our driver name (see deploy/templates).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from drivers.fake_gpu.kubeapi import ApiError, KubeApi, claim_path

log = logging.getLogger(__name__)
APPLY = "application/apply-patch+yaml"  # JSON is YAML; the client sends dicts as JSON


class ClaimStatusWriter:
    def __init__(self, api: KubeApi | None, driver: str, enabled: bool = True) -> None:
        self.api, self.driver, self.enabled = api, driver, enabled
        self.errors: list[str] = []          # last few failures, for GET /state
        self.served: bool | None = None      # None until a write showed whether the field survives
        self._lock = threading.Lock()

    def write(self, claim: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """Apply our status.devices entries; failures are recorded, not raised (prepare still succeeds)."""
        if self.api is None or not self.enabled or not entries:
            return
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        devices = []
        for e in entries:
            d: dict[str, Any] = {"driver": self.driver, "pool": e["pool"], "device": e["device"],
                                 "conditions": [{"type": "Ready", "status": "True", "reason": "Prepared",
                                                 "message": f"prepared by {self.driver}",
                                                 "lastTransitionTime": now}]}
            for key in ("shareID", "data", "networkData"):
                if e.get(key):
                    d[key] = e[key]
            devices.append(d)
        try:
            body = self._apply(claim["metadata"], {"devices": devices})
            with self._lock:
                self.served = bool((body or {}).get("status", {}).get("devices"))
        except ApiError as exc:
            self._record(exc)

    def clear(self, namespace: str, name: str, uid: str) -> None:
        if self.api is None or not self.enabled:
            return
        try:
            self._apply({"namespace": namespace, "name": name, "uid": uid}, {})
        except ApiError as exc:
            if exc.status != 404:  # claim already gone: nothing left to clean
                self._record(exc)

    def _apply(self, meta: dict[str, Any], status: dict[str, Any]) -> Any:
        assert self.api is not None
        body = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                "metadata": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                "status": status}
        return self.api.request("PATCH", claim_path(meta["namespace"], meta["name"], "status"), body=body,
                                query={"fieldManager": self.driver, "force": "true"}, content_type=APPLY)[1]

    def _record(self, exc: ApiError) -> None:
        log.warning("claim status write failed: %s", exc)
        with self._lock:
            self.errors = [*self.errors[-9:], str(exc)]
