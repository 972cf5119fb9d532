"""Client for the driver's control surface, over localhost or through the API server's pod proxy.

    ControlClient.local("http://127.0.0.1:8470")
    ControlClient.for_node(api_client, namespace, node, app=<instance>)   # finds the node's driver pod
    ControlClient.via_pod_proxy(api_client, namespace, pod, port)

Every mutating call returns after the driver applied the change (see control.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from drivers.fake_gpu.cdi import parse_env
from drivers.fake_gpu.config import DEFAULT_CONTROL_PORT

__all__ = ["ControlClient", "ControlError", "parse_env"]

Transport = Callable[[str, str, dict[str, Any] | None, float], tuple[int, Any]]


class ControlError(Exception):
    def __init__(self, status: int, method: str, path: str, body: Any) -> None:
        msg = body.get("error") if isinstance(body, dict) else body
        super().__init__(f"{method} {path}: HTTP {status}: {msg}")
        self.status, self.body = status, body


class ControlClient:
    def __init__(self, transport: Transport, where: str) -> None:
        self._transport, self.where = transport, where

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def local(cls, base_url: str) -> ControlClient:
        base = base_url.rstrip("/")

        def send(method: str, path: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.status, _decode(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, _decode(exc.read())

        return cls(send, base)

    @classmethod
    def via_pod_proxy(cls, api_client: Any, namespace: str, pod: str | Callable[[], str],
                      port: int = DEFAULT_CONTROL_PORT) -> ControlClient:
        """Through /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/ with the ApiClient's credentials.

        `pod` may be a function naming the pod at each call: the driver on a node, whichever pod
        serves it after a restart.
        """
        def send(method: str, path: str, body: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
            name = pod() if callable(pod) else pod
            prefix = f"/api/v1/namespaces/{namespace}/pods/{name}:{port}/proxy"
            headers = {"Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            m, url, hdrs, data, _ = api_client.param_serialize(
                method=method, resource_path=prefix + path, header_params=headers, body=body,
                auth_settings=["BearerToken"])
            resp = api_client.call_api(m, url, header_params=hdrs, body=data, _request_timeout=timeout)
            return resp.status, _decode(resp.read())

        return cls(send, f"{namespace}/{pod if isinstance(pod, str) else 'pod'}:{port}")

    @classmethod
    def for_node(cls, api_client: Any, namespace: str, node: str, *, app: str,
                 port: int = DEFAULT_CONTROL_PORT) -> ControlClient:
        """The running driver pod (label app=<app>) on `node`; see deploy.manifests.render()."""
        from kubernetes import client

        pods = client.CoreV1Api(api_client).list_namespaced_pod(
            namespace, label_selector=f"app={app}", field_selector=f"spec.nodeName={node}")
        running = [p for p in pods.items if p.status and p.status.phase == "Running"]
        if not running:
            raise ControlError(404, "GET", "pods", f"no running pod app={app} on node {node} in {namespace}")
        return cls.via_pod_proxy(api_client, namespace, running[0].metadata.name, port)

    # --- calls -----------------------------------------------------------------------------
    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
        status, data = self._transport(method, path, body, timeout)
        if not 200 <= status < 300:
            raise ControlError(status, method, path, data)
        return data

    def state(self) -> dict[str, Any]:
        return self.call("GET", "/state")

    def healthy(self) -> bool:
        try:
            return bool(self.call("GET", "/healthz", timeout=5).get("ok"))
        except (ControlError, OSError):
            return False

    def set_health(self, device: str, health: str, message: str = "",
                   timeout_seconds: int | None = None) -> dict[str, Any]:
        """Returns after every open NodeWatchResources stream has sent the change."""
        body: dict[str, Any] = {"device": device, "health": health, "message": message}
        if timeout_seconds is not None:
            body["timeoutSeconds"] = timeout_seconds
        return self.call("POST", "/health", body)

    def claims(self) -> dict[str, dict[str, Any]]:
        """The ledger: claim UID -> calls and outcomes (see ledger.py)."""
        return self.call("GET", "/claims")

    def fail(self, rpc: str, count: int = 1, message: str = "injected failure", *, scope: str = "call",
             code: str = "INTERNAL", namespace: str | None = None, claim: str | None = None) -> dict[str, Any]:
        """The next `count` calls of rpc (prepare|unprepare|getinfo) fail; -1: until cleared.
        `namespace`/`claim`: only calls naming such a claim (see faults.py)."""
        return self._fault(rpc, {"action": "fail", "count": count, "message": message, "scope": scope,
                                 "code": code}, namespace, claim)

    def hang(self, rpc: str, count: int = 1, *, namespace: str | None = None,
             claim: str | None = None) -> dict[str, Any]:
        """The next `count` calls block until release() (or until the caller gives up)."""
        return self._fault(rpc, {"action": "hang", "count": count}, namespace, claim)

    def delay(self, rpc: str, seconds: float, count: int = -1, *, namespace: str | None = None,
              claim: str | None = None) -> dict[str, Any]:
        return self._fault(rpc, {"action": "delay", "seconds": seconds, "count": count}, namespace, claim)

    def _fault(self, rpc: str, body: dict[str, Any], namespace: str | None, claim: str | None) -> dict[str, Any]:
        return self.call("POST", "/faults", {"rpc": rpc, **body, **_given(namespace=namespace, claim=claim)})

    def release(self, rpc: str | None = None, *, namespace: str | None = None) -> int:
        return self.call("POST", "/faults/release", _given(rpc=rpc, namespace=namespace))["released"]

    def clear_faults(self, rpc: str | None = None, *, namespace: str | None = None) -> None:
        self.call("POST", "/faults/clear", _given(rpc=rpc, namespace=namespace))

    def wait_calls(self, rpc: str, counter: str = "calls", at_least: int = 1, timeout: float = 30.0
                   ) -> dict[str, Any]:
        """Block in the driver until faults.stats[rpc][counter] >= at_least (e.g. 'hanging')."""
        return self.call("POST", "/wait", {"rpc": rpc, "counter": counter, "atLeast": at_least,
                                           "timeout": timeout}, timeout=timeout + 10)

    def wait_health_streams(self, count: int = 1, timeout: float = 30.0) -> int:
        return self.call("POST", "/wait/streams", {"count": count, "timeout": timeout},
                         timeout=timeout + 10)["open"]

    def set_inventory(self, *, profile: str | None = None, options: dict[str, dict[str, Any]] | None = None,
                      devices: list[dict[str, Any]] | None = None,
                      counter_sets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Swap the fake hardware; returns after the slices are republished."""
        body: dict[str, Any] = {}
        for key, value in (("profile", profile), ("options", options), ("devices", devices),
                           ("counterSets", counter_sets)):
            if value is not None:
                body[key] = value
        return self.call("POST", "/inventory", body)

    def set_taints(self, device: str, taints: list[dict[str, Any]]) -> dict[str, Any]:
        """Publish `taints` on `device` ([] removes them); returns after the slices are republished."""
        return self.call("POST", "/taints", {"device": device, "taints": taints})

    def set_binding(self, device: str, outcome: str, **kw: Any) -> dict[str, Any]:
        """Publish `device` with binding conditions; answer claims for it with `outcome`
        (hold|ready|fail). kw: conditions, failureConditions, bindsToNode."""
        return self.call("POST", "/binding", {"device": device, "outcome": outcome, **kw})

    def clear_binding(self, device: str) -> dict[str, Any]:
        return self.call("POST", "/binding", {"device": device, "clear": True})

    def set_metadata_versions(self, versions: list[str]) -> dict[str, Any]:
        """DeviceMetadata versions for claims prepared from now on, v1beta1 first ([]: no metadata)."""
        return self.call("POST", "/metadata", {"versions": versions})

    def stop_serving(self) -> dict[str, Any]:
        """The kubelet-facing sockets go away (the kubelet sees the plugin stop); control stays up."""
        return self.call("POST", "/serving", {"serving": False})

    def start_serving(self, timeout: float = 60.0) -> dict[str, Any]:
        """Serve again; returns once the kubelet has registered the plugin."""
        return self.call("POST", "/serving", {"serving": True, "timeout": timeout}, timeout=timeout + 10)

    def crash(self, exit_code: int = 1, restart: bool = False) -> None:
        """The driver process exits (or re-execs itself) right after answering."""
        self.call("POST", "/crash", {"exitCode": exit_code, "restart": restart})


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
