"""Keep this node's ResourceSlices equal to the inventory: create/update/delete, withdraw on exit."""

from __future__ import annotations

import logging
import threading
from typing import Any

from drivers.fake_gpu import slices
from drivers.fake_gpu.capabilities import Capabilities
from drivers.fake_gpu.kubeapi import ApiError, KubeApi
from drivers.fake_gpu.profiles import Inventory

log = logging.getLogger(__name__)
SLICES = "/apis/resource.k8s.io/v1/resourceslices"


class Publisher:
    """Without an API (socket-level tests) it only computes the slices it would publish."""

    def __init__(self, api: KubeApi | None, driver: str, node: str, caps: Capabilities) -> None:
        self.api, self.driver, self.node, self.caps = api, driver, node, caps
        self.generation = 0
        self.desired: list[dict[str, Any]] = []
        self.last_error = ""
        self._lock = threading.Lock()
        self._owner: dict[str, Any] | None = None

    def publish(self, inv: Inventory) -> list[dict[str, Any]]:
        """Make the pool match `inv`; returns the slices as written. Raises on API errors."""
        with self._lock:
            existing = self._existing()
            gen = max([self.generation, *(s["spec"]["pool"]["generation"] for s in existing)])
            want = slices.build(self.driver, self.node, inv, self.caps, gen, self._node_owner())
            by_name = {s["metadata"]["name"]: s for s in existing}
            if self._same(want, by_name):
                self.desired, self.generation = want, gen
                return want
            gen += 1  # a new generation tells consumers to ignore the old slices of the pool
            want = slices.build(self.driver, self.node, inv, self.caps, gen, self._node_owner())
            try:
                written = [self._write(s, by_name.get(s["metadata"]["name"])) for s in want]
                for name in set(by_name) - {s["metadata"]["name"] for s in want}:
                    self._delete(name)
                self.last_error = ""
            except ApiError as exc:
                self.last_error = str(exc)
                raise
            self.desired, self.generation = written, gen
            return written

    def withdraw(self) -> None:
        """Delete every slice of this node's pool (graceful shutdown)."""
        with self._lock:
            for s in self._existing():
                self._delete(s["metadata"]["name"])
            self.desired = []

    def _existing(self) -> list[dict[str, Any]]:
        if self.api is None:
            return list(self.desired)
        sel = f"spec.nodeName={self.node},spec.driver={self.driver}"
        return self.api.get(SLICES, query={"fieldSelector": sel}).get("items") or []

    def _same(self, want: list[dict[str, Any]], have: dict[str, dict[str, Any]]) -> bool:
        if len(want) != len(have):
            return False
        for w in want:
            h = have.get(w["metadata"]["name"])
            if h is None or _comparable(h["spec"]) != _comparable(w["spec"]):
                return False
        return True

    def _write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        if self.api is None:
            return obj
        if old is None:
            return self.api.request("POST", SLICES, body=obj)[1]
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self.api.request("PUT", f"{SLICES}/{obj['metadata']['name']}", body=obj)[1]

    def _delete(self, name: str) -> None:
        if self.api is None:
            return
        status, body = self.api.request("DELETE", f"{SLICES}/{name}", check=False)
        if status >= 300 and status != 404:
            raise ApiError(status, "DELETE", f"{SLICES}/{name}", body)

    def _node_owner(self) -> dict[str, Any] | None:
        """Owned by the Node so that deleting the node garbage-collects the slices (like upstream)."""
        if self._owner is None and self.api is not None:
            try:
                node = self.api.get(f"/api/v1/nodes/{self.node}")
                self._owner = {"apiVersion": "v1", "kind": "Node", "name": self.node,
                               "uid": node["metadata"]["uid"], "controller": True}
            except ApiError as exc:
                log.warning("no owner reference to node %s: %s", self.node, exc)
                self._owner = {}
        return self._owner or None


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """Spec without the generation, so an unchanged inventory does not bump it."""
    out = {k: v for k, v in spec.items() if k != "pool"}
    out["pool"] = {k: v for k, v in spec.get("pool", {}).items() if k != "generation"}
    return out
