"""Prepare/unprepare one claim: the API-version-independent core behind the DRA gRPC services."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.fake_gpu import cdi, device_config
from drivers.fake_gpu.checkpoint import Checkpoint
from drivers.fake_gpu.claim_status import ClaimStatusWriter
from drivers.fake_gpu.claims import ClaimNotFound, ClaimSource
from drivers.fake_gpu.ledger import Ledger
from drivers.fake_gpu.metadata import MetadataWriter, device_entry
from drivers.fake_gpu.profiles import Inventory


class PrepareError(Exception):
    """Goes back to the kubelet as the claim's `error`; it retries the claim later."""


@dataclass(frozen=True)
class ClaimRef:
    namespace: str
    name: str
    uid: str


def configs_for(result: dict[str, Any], configs: list[dict[str, Any]], driver: str) -> list[dict[str, Any]]:
    """Opaque configs of `driver` that apply to one result, in allocation order (class before claim).

    A config naming no requests applies to all; one naming `req` applies to `req` and to each of
    its subrequests `req/sub`; one naming `req/sub` applies only when that subrequest was chosen.
    """
    request = result["request"]
    base = request.split("/", 1)[0]
    out = []
    for cfg in configs:
        opaque = cfg.get("opaque") or {}
        if opaque.get("driver") != driver:
            continue
        wanted = cfg.get("requests") or []
        if wanted and request not in wanted and base not in wanted:
            continue
        entry = {"source": cfg.get("source", ""), "parameters": opaque.get("parameters")}
        if wanted:
            entry["requests"] = wanted
        out.append(entry)
    return out


class Preparer:
    def __init__(self, *, driver: str, node: str, claims: ClaimSource, checkpoint: Checkpoint, ledger: Ledger,
                 cdi_root: Path, inventory: Callable[[], Inventory], status: ClaimStatusWriter,
                 metadata: MetadataWriter) -> None:
        self.driver, self.node, self.pool = driver, node, node
        self.claims, self.checkpoint, self.ledger, self.cdi_root = claims, checkpoint, ledger, cdi_root
        self.inventory, self.status, self.metadata = inventory, status, metadata
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def prepare(self, ref: ClaimRef) -> list[dict[str, Any]]:
        """Device records ({requestNames, poolName, deviceName, cdiDeviceIDs, shareID?}); idempotent."""
        with self._locks[ref.uid]:
            record = self.checkpoint.get(ref.uid)
            if record is not None:
                if not cdi.spec_path(self.cdi_root, self.driver, ref.uid).exists():
                    cdi.write_spec(self.cdi_root, self.driver, ref.uid, record["cdiEnv"])
                if self.metadata.specs_missing(ref.uid, record.get("metadata", [])):
                    self.metadata.write_specs(ref.uid, record["metadata"])
                self.ledger.count(ref.uid, "reused")
                return record["devices"]
            claim = self._lookup(ref)
            results, configs = self._results(claim)
            inv = self.inventory()
            devices, envs, status_entries = [], [], []
            described: dict[str, list[dict[str, Any]]] = {}  # request -> its devices' metadata
            for i, r in enumerate(results):
                applied = configs_for(r, configs, self.driver)
                for cfg in applied:
                    try:
                        device_config.decode(cfg["parameters"])
                    except device_config.ConfigError as exc:
                        raise PrepareError(f"claim {ref.namespace}/{ref.name}, request {r['request']}: "
                                           f"config {cfg['source'] or 'of the claim'} refused: {exc}") from None
                fake = inv.device(r["device"])
                if fake is None:
                    raise PrepareError(f"claim {ref.namespace}/{ref.name}: device {r['device']!r} is not in "
                                       f"this node's inventory")
                envs.append(cdi.device_env(driver=self.driver, node=self.node, claim=claim, result=r,
                                           configs=applied))
                dev = {"requestNames": [r["request"]], "poolName": r["pool"], "deviceName": r["device"],
                       "cdiDeviceIDs": [cdi.device_id(self.driver, ref.uid, i)]}
                if r.get("shareID"):
                    dev["shareID"] = r["shareID"]
                devices.append(dev)
                status_entries.append({"pool": r["pool"], "device": r["device"], "shareID": r.get("shareID"),
                                       **fake.status})
                described.setdefault(r["request"], []).append(device_entry(self.driver, r["pool"], fake.spec,
                                                                           fake.status))
            cdi.write_spec(self.cdi_root, self.driver, ref.uid, envs)
            mounts = self.metadata.write(claim, described)
            for m in mounts:  # on the request's first device, as the kubelet gives it per request
                first = next(d for d in devices if d["requestNames"][0].split("/", 1)[0] == m["request"])
                first["cdiDeviceIDs"].append(m["cdiDeviceID"])
            self.checkpoint.put(ref.uid, {"namespace": ref.namespace, "name": ref.name, "devices": devices,
                                          "cdiEnv": envs, "metadata": mounts})
            self.status.write(claim, status_entries)
            self.ledger.count(ref.uid, "prepared")
            return devices

    def unprepare(self, ref: ClaimRef) -> None:
        """Remove the CDI spec even for claims the checkpoint does not know (e.g. a lost checkpoint)."""
        with self._locks[ref.uid]:
            cdi.remove_spec(self.cdi_root, self.driver, ref.uid)
            self.metadata.remove(ref.namespace, ref.name, ref.uid)
            known = self.checkpoint.get(ref.uid) is not None
            if known:
                self.status.clear(ref.namespace, ref.name, ref.uid)
                self.checkpoint.remove(ref.uid)
            self.ledger.count(ref.uid, "unprepared" if known else "unknown")

    def _lookup(self, ref: ClaimRef) -> dict[str, Any]:
        try:
            claim = self.claims.get(ref.namespace, ref.name)
        except ClaimNotFound as exc:
            raise PrepareError(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - API trouble is the claim's error, the kubelet retries
            raise PrepareError(f"reading ResourceClaim {ref.namespace}/{ref.name}: {exc}") from exc
        uid = claim.get("metadata", {}).get("uid")
        if uid != ref.uid:
            raise PrepareError(f"ResourceClaim {ref.namespace}/{ref.name} has UID {uid}, the kubelet asked "
                               f"for {ref.uid} (claim was replaced)")
        return claim

    def _results(self, claim: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        meta = claim["metadata"]
        alloc = (claim.get("status") or {}).get("allocation")
        if not alloc:
            raise PrepareError(f"ResourceClaim {meta['namespace']}/{meta['name']} is not allocated")
        devices = alloc.get("devices") or {}
        results = [r for r in devices.get("results") or [] if r.get("driver") == self.driver]
        if not results:
            raise PrepareError(f"ResourceClaim {meta['namespace']}/{meta['name']} has no devices of driver "
                               f"{self.driver}")
        foreign = sorted({r["pool"] for r in results} - {self.pool})
        if foreign:
            raise PrepareError(f"ResourceClaim {meta['namespace']}/{meta['name']} is allocated from pool(s) "
                               f"{foreign}, this node serves pool {self.pool!r}")
        return results, devices.get("config") or []
