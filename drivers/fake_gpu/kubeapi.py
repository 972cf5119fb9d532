"""A raw-JSON view of the API server on top of the kubernetes client's ApiClient.

Plain dicts on purpose: the typed models of kubernetes 37 drop fields they don't know, and the
driver must publish and read exactly what the server serves (python-stack.md §2).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from kubernetes import client, config


class ApiError(Exception):
    def __init__(self, status: int, method: str, path: str, body: Any) -> None:
        msg = body.get("message") if isinstance(body, dict) else str(body)[:300]
        super().__init__(f"{method} {path}: HTTP {status}: {msg}")
        self.status = status
        self.body = body


class KubeApi:
    def __init__(self, api_client: client.ApiClient, timeout: float = 30.0) -> None:
        self.api_client = api_client
        self.timeout = timeout

    @classmethod
    def connect(cls, kubeconfig: str | None = None) -> KubeApi:
        """In-cluster credentials when running in a pod, else the kubeconfig (path or default)."""
        cfg = client.Configuration()
        if kubeconfig:
            config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        else:
            try:
                config.load_incluster_config(client_configuration=cfg)
            except config.ConfigException:
                config.load_kube_config(client_configuration=cfg)
        return cls(client.ApiClient(cfg))

    def request(self, method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None,
                content_type: str = "application/json", check: bool = True) -> tuple[int, Any]:
        """Send one request; return (status, decoded body). With `check`, non-2xx raises ApiError."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        m, url, hdrs, data, _ = self.api_client.param_serialize(
            method=method, resource_path=path, query_params=list((query or {}).items()),
            header_params=headers, body=body, auth_settings=["BearerToken"])
        resp = self.api_client.call_api(m, url, header_params=hdrs, body=data, _request_timeout=self.timeout)
        raw = resp.read()
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = raw.decode(errors="replace")
        if check and not 200 <= resp.status < 300:
            raise ApiError(resp.status, method, path, decoded)
        return resp.status, decoded

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)[1]


def claim_path(namespace: str, name: str, sub: str = "") -> str:
    base = f"/apis/resource.k8s.io/v1/namespaces/{quote(namespace)}/resourceclaims/{quote(name)}"
    return f"{base}/{sub}" if sub else base
