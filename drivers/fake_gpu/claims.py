"""Where NodePrepareResources reads ResourceClaims from.

The kubelet sends only namespace/name/UID; a real plugin GETs the claim from the API server
(ApiClaimSource). The in-memory source exists for the socket-level tests, which play the kubelet
but have no API server; FileClaimSource is the same for a driver run as a subprocess.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

from drivers.fake_gpu.kubeapi import ApiError, KubeApi, claim_path


class ClaimNotFound(Exception):
    pass


class ClaimSource(Protocol):
    def get(self, namespace: str, name: str) -> dict[str, Any]:
        """The resource.k8s.io/v1 ResourceClaim as a dict; raises ClaimNotFound."""
        ...


class ApiClaimSource:
    def __init__(self, api: KubeApi) -> None:
        self.api = api

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self.api.get(claim_path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                raise ClaimNotFound(f"ResourceClaim {namespace}/{name} not found") from exc
            raise


class MemoryClaimSource:
    def __init__(self) -> None:
        self._claims: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(self, claim: dict[str, Any]) -> None:
        meta = claim["metadata"]
        with self._lock:
            self._claims[(meta["namespace"], meta["name"])] = claim

    def delete(self, namespace: str, name: str) -> None:
        with self._lock:
            self._claims.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            claim = self._claims.get((namespace, name))
        if claim is None:
            raise ClaimNotFound(f"ResourceClaim {namespace}/{name} not found")
        return claim


class FileClaimSource:
    """A JSON list of claims, re-read on every lookup so a test can add claims while the driver runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        claims = json.loads(self.path.read_text()) if self.path.exists() else []
        for claim in claims:
            if (claim["metadata"]["namespace"], claim["metadata"]["name"]) == (namespace, name):
                return claim
        raise ClaimNotFound(f"ResourceClaim {namespace}/{name} not found")
