"""Per-claim accounting of what the kubelet asked and what the driver did, kept across restarts.

Tests prove idempotency with it: a claim is prepared (devices set up, CDI spec written) exactly once
however often the kubelet calls NodePrepareResources for it, and unprepared once. The file lives
next to the checkpoint, on the node, so a crashed or upgraded plugin keeps counting.

    calls.prepare / calls.unprepare      gRPC calls that named the claim
    prepared / reused                    prepares that set it up / answered from the checkpoint
    unprepared / unknown                 unprepares that tore it down / found nothing to tear down
    errors.prepare / errors.unprepare    calls that answered the claim with an error (injected or real)
    inflight                             calls naming it that have not answered yet (e.g. hanging)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from drivers.fake_gpu.checkpoint import atomic_write

EVENTS = ("prepared", "reused", "unprepared", "unknown")


def _blank(namespace: str, name: str) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "calls": {"prepare": 0, "unprepare": 0},
            "errors": {"prepare": 0, "unprepare": 0}, "inflight": 0, **dict.fromkeys(EVENTS, 0)}


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.claims: dict[str, dict[str, Any]] = {}
        if path.exists():
            self.claims = json.loads(path.read_text()).get("claims", {})
            for entry in self.claims.values():
                entry["inflight"] = 0  # calls of a process that is gone have ended

    def begin(self, rpc: str, uid: str, namespace: str, name: str) -> None:
        with self._lock:
            entry = self.claims.setdefault(uid, _blank(namespace, name))
            entry["calls"][rpc] += 1
            entry["inflight"] += 1
            self._save()

    def end(self, rpc: str, uid: str, ok: bool) -> None:
        with self._lock:
            entry = self.claims[uid]
            entry["inflight"] -= 1
            if not ok:
                entry["errors"][rpc] += 1
            self._save()

    def count(self, uid: str, event: str) -> None:
        with self._lock:
            if uid in self.claims:  # only claims a call named: begin() came first
                self.claims[uid][event] += 1
                self._save()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self.claims))

    def _save(self) -> None:
        # Not fsynced: counts for tests, lost only with the node's power, unlike the checkpoint.
        atomic_write(self.path, json.dumps({"claims": self.claims}, sort_keys=True).encode(), durable=False)
