"""Binding conditions (KEP-5007): devices a pod may be bound with only once the driver says so.

The scheduler waits in PreBind until every bindingCondition of an allocated device is True in the
claim's status.devices, and gives the allocation up when a bindingFailureCondition is. A real driver
would attach the device meanwhile; here the test decides per device, through the control surface:
`hold` (say nothing), `ready` (the binding conditions True) or `fail` (a failure condition True, and
the device tainted NoSchedule so that the scheduler's next try picks another device, which upstream's
integration test FailureTaints expects of a driver).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from drivers.fake_gpu.device_edit import with_fields
from drivers.fake_gpu.kubeapi import ApiError, KubeApi, claim_path
from drivers.fake_gpu.profiles import Inventory
from drivers.fake_gpu.taints import tainted, taints_of

log = logging.getLogger(__name__)
OUTCOMES = ("hold", "ready", "fail")
ATTACHED = "dra-conformance.io/attached"
ATTACH_FAILED = "dra-conformance.io/attach-failed"
FAILED_TAINT = "dra-conformance.io/binding-failed"
APPLY = "application/apply-patch+yaml"


@dataclass
class Binding:
    outcome: str
    conditions: list[str]
    failure_conditions: list[str]
    binds_to_node: bool


class BindingController:
    """Answers for the devices it was told about, polling the claims allocated from its pool."""

    def __init__(self, api: KubeApi | None, driver: str, pool: str,
                 update_inventory: Callable[[Callable[[Inventory], Inventory]], Inventory],
                 interval: float = 1.0) -> None:
        self.api, self.driver, self.pool, self.interval = api, driver, pool, interval
        self._update = update_inventory
        self._lock = threading.Lock()
        self._bindings: dict[str, Binding] = {}
        self._answered: set[tuple[str, str, str]] = set()  # (claim uid, device, outcome) written
        self.errors: list[str] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="binding-conditions", daemon=True)

    def start(self) -> BindingController:
        if self.api is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def set(self, device: str, outcome: str, conditions: list[str] | None = None,
            failure_conditions: list[str] | None = None, binds_to_node: bool = True) -> Binding:
        """Publish the device with binding conditions, and answer claims for it with `outcome`."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {'|'.join(OUTCOMES)}, not {outcome!r}")
        b = Binding(outcome, list(conditions or [ATTACHED]), list(failure_conditions or [ATTACH_FAILED]),
                    binds_to_node)
        self._update(lambda inv: with_fields(inv, device, {
            "bindsToNode": b.binds_to_node, "bindingConditions": b.conditions,
            "bindingFailureConditions": b.failure_conditions}))
        with self._lock:
            self._bindings[device] = b
        self._wake.set()
        return b

    def clear(self, device: str) -> None:
        """The device as before: no binding conditions, no failure taint."""
        with self._lock:
            self._bindings.pop(device, None)

        def plain(inv: Inventory) -> Inventory:
            inv = with_fields(inv, device, {"bindsToNode": None, "bindingConditions": None,
                                            "bindingFailureConditions": None})
            return tainted(inv, device, [t for t in taints_of(inv, device) if t["key"] != FAILED_TAINT])
        self._update(plain)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"devices": {d: asdict(b) for d, b in self._bindings.items()},
                    "answered": sorted(f"{uid}/{dev}: {outcome}" for uid, dev, outcome in self._answered),
                    "errors": list(self.errors)}

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                active = {d: b for d, b in self._bindings.items() if b.outcome != "hold"}
            if not active:
                continue
            try:
                self._answer(active)
            except (ApiError, OSError) as exc:  # next round; GET /state shows it
                self._record(str(exc))

    def _answer(self, active: dict[str, Binding]) -> None:
        assert self.api is not None
        claims = self.api.get("/apis/resource.k8s.io/v1/resourceclaims").get("items") or []
        for claim in claims:
            allocation = (claim.get("status") or {}).get("allocation") or {}
            for r in (allocation.get("devices") or {}).get("results") or []:
                b = active.get(r["device"])
                if b is None or (r["driver"], r["pool"]) != (self.driver, self.pool) or not r.get("bindingConditions"):
                    continue
                key = (claim["metadata"]["uid"], r["device"], b.outcome)
                if key in self._answered:
                    continue
                self._write(claim, r, b)
                with self._lock:
                    self._answered.add(key)
                if b.outcome == "fail":
                    self._update(lambda inv, dev=r["device"]: tainted(inv, dev, [
                        *(t for t in taints_of(inv, dev) if t["key"] != FAILED_TAINT),
                        {"key": FAILED_TAINT, "value": "true", "effect": "NoSchedule"}]))

    def _write(self, claim: dict[str, Any], result: dict[str, Any], b: Binding) -> None:
        """Server-side apply of our entry, under a field manager of its own so that prepare's
        status writes (the driver name's) leave these conditions alone."""
        assert self.api is not None
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        types = b.conditions if b.outcome == "ready" else b.failure_conditions[:1]
        reason = "Attached" if b.outcome == "ready" else "AttachFailed"
        entry: dict[str, Any] = {
            "driver": self.driver, "pool": self.pool, "device": result["device"],
            "conditions": [{"type": t, "status": "True", "reason": reason, "lastTransitionTime": now,
                            "message": f"{self.driver}: {b.outcome} on request"} for t in types]}
        if result.get("shareID"):
            entry["shareID"] = result["shareID"]
        meta = claim["metadata"]
        body = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
                "metadata": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
                "status": {"devices": [entry]}}
        self.api.request("PATCH", claim_path(meta["namespace"], meta["name"], "status"), body=body,
                         query={"fieldManager": f"{self.driver}-binding", "force": "true"}, content_type=APPLY)

    def _record(self, error: str) -> None:
        log.warning("binding conditions: %s", error)
        with self._lock:
            self.errors = [*self.errors[-9:], error]
