"""The test-facing control surface: a small HTTP/JSON server inside the driver process.

Reached on localhost, or in a cluster through the API server's pod proxy
(/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/<path>), so tests need no port-forward.
Every mutating call returns only after the change is applied (health: sent on every open
stream; inventory: slices written). Unauthenticated by design: test clusters only.

  GET  /healthz | /state | /claims (the ledger: per-claim calls and outcomes)
  POST /health          {device, health, message?, timeoutSeconds?}
  POST /faults          {rpc, action, count?, message?, code?, scope?, seconds?, namespace?, claim?}
  POST /faults/release  {rpc?, namespace?}          POST /faults/clear {rpc?, namespace?}
  POST /wait            {rpc, counter, atLeast, timeout?}   (408 when not reached)
  POST /wait/streams    {count, timeout?}
  POST /inventory       {profile?, options?} | {devices, counterSets?}
  POST /taints          {device, taints: [{key, value?, effect, timeAdded?}]}   ([] untaints)
  POST /binding         {device, outcome: hold|ready|fail, conditions?, failureConditions?, bindsToNode?}
                        | {device, clear: true}
  POST /crash           {exitCode?, restart?}
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from drivers.fake_gpu.faults import Fault
from drivers.fake_gpu.kubeapi import ApiError
from drivers.fake_gpu.metadata import check_versions
from drivers.fake_gpu.taints import tainted

if TYPE_CHECKING:
    from drivers.fake_gpu.driver import FakeDriver

log = logging.getLogger(__name__)
PUSH_TIMEOUT = 10.0  # seconds a control call waits for open health streams to send a change
REGISTER_TIMEOUT = 60.0  # seconds POST /serving waits for the kubelet to register the plugin again


class _Reply(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", ""))
        self.status, self.body = status, body


class ControlServer:
    def __init__(self, driver: FakeDriver, host: str, port: int) -> None:
        self.driver = driver
        handler = type("Handler", (_Handler,), {"driver": driver})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="control", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    driver: FakeDriver
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("control: " + fmt, *args)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch({"/healthz": lambda _: {"ok": True}, "/state": lambda _: self.driver.state(),
                        "/claims": lambda _: self.driver.ledger.snapshot()})

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch({
            "/health": self._health, "/faults": self._faults, "/faults/release": self._release,
            "/faults/clear": self._clear, "/wait": self._wait, "/wait/streams": self._wait_streams,
            "/inventory": self._inventory, "/taints": self._taints, "/binding": self._binding,
            "/serving": self._serving, "/metadata": self._metadata,
            "/crash": self._crash,
        })

    def _dispatch(self, routes: dict[str, Any]) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        route = routes.get(path)
        try:
            if route is None:
                raise _Reply(404, {"error": f"no route {self.command} {path}"})
            body = route(self._body())
            if body is not None:  # None: the route already answered (crash)
                self._send(200, body)
        except _Reply as r:
            self._send(r.status, r.body)
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
        except ApiError as exc:
            self._send(502, {"error": str(exc)})

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("request body must be a JSON object")
        return data

    def _send(self, status: int, body: dict[str, Any], close: bool = False) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()

    # --- routes ----------------------------------------------------------------------------
    def _health(self, b: dict[str, Any]) -> dict[str, Any]:
        hub = self.driver.hub
        version = hub.set_health(b["device"], b["health"], b.get("message", ""), b.get("timeoutSeconds"))
        delivered = hub.wait_delivered(version, float(b.get("timeout", PUSH_TIMEOUT)))
        if not delivered:
            raise _Reply(504, {"error": "health change not sent on every open stream in time",
                               "version": version})
        return {"version": version, "streams": hub.open_streams(), "device": hub.snapshot()[b["device"]]}

    def _faults(self, b: dict[str, Any]) -> dict[str, Any]:
        fields = {k: b[k] for k in ("action", "count", "message", "code", "scope", "seconds", "namespace", "claim")
                  if k in b}
        self.driver.faults.add(b["rpc"], Fault(**fields))
        return self.driver.faults.snapshot()

    def _release(self, b: dict[str, Any]) -> dict[str, Any]:
        return {"released": self.driver.faults.release(b.get("rpc"), b.get("namespace"))}

    def _clear(self, b: dict[str, Any]) -> dict[str, Any]:
        self.driver.faults.clear(b.get("rpc"), b.get("namespace"))
        return self.driver.faults.snapshot()

    def _wait(self, b: dict[str, Any]) -> dict[str, Any]:
        ok = self.driver.faults.wait(b["rpc"], b["counter"], int(b["atLeast"]), float(b.get("timeout", 10)))
        snap = self.driver.faults.snapshot()
        if not ok:
            raise _Reply(408, {"error": f"{b['rpc']}.{b['counter']} did not reach {b['atLeast']}", **snap})
        return snap

    def _wait_streams(self, b: dict[str, Any]) -> dict[str, Any]:
        hub = self.driver.hub
        if not hub.wait_streams(int(b.get("count", 1)), float(b.get("timeout", 10))):
            raise _Reply(408, {"error": "not enough health streams open", "open": hub.open_streams()})
        return {"open": hub.open_streams()}

    def _inventory(self, b: dict[str, Any]) -> dict[str, Any]:
        inv = self.driver.set_inventory(profile=b.get("profile"), options=b.get("options"),
                                        devices=b.get("devices"), counter_sets=b.get("counterSets"))
        hub = self.driver.hub
        hub.wait_delivered(hub.version(), PUSH_TIMEOUT)
        return {"devices": [d.name for d in inv.devices], "generation": self.driver.publisher.generation}

    def _taints(self, b: dict[str, Any]) -> dict[str, Any]:
        device, wanted = b["device"], b.get("taints") or []
        if self.driver.inventory().device(device) is None:
            raise _Reply(404, {"error": f"no device {device!r}"})
        self.driver.update_inventory(lambda inv: tainted(inv, device, wanted))
        return {"device": device, "taints": wanted, "generation": self.driver.publisher.generation}

    def _binding(self, b: dict[str, Any]) -> dict[str, Any]:
        device = b["device"]
        if self.driver.inventory().device(device) is None:
            raise _Reply(404, {"error": f"no device {device!r}"})
        if b.get("clear"):
            self.driver.binding.clear(device)
        else:
            self.driver.binding.set(device, b["outcome"], b.get("conditions"), b.get("failureConditions"),
                                    bool(b.get("bindsToNode", True)))
        return self.driver.binding.snapshot()

    def _serving(self, b: dict[str, Any]) -> dict[str, Any]:
        if b["serving"]:
            self.driver.serve()
            registered = self.driver.registration.wait_registered(float(b.get("timeout", REGISTER_TIMEOUT)))
            if not registered:
                raise _Reply(504, {"error": "serving again, but the kubelet has not registered the plugin",
                                   "registration": self.driver.registration.to_json()})
        else:
            self.driver.unserve()
        return {"serving": self.driver.serving(), "registration": self.driver.registration.to_json()}

    def _metadata(self, b: dict[str, Any]) -> dict[str, Any]:
        """Which DeviceMetadata versions claims prepared from now on get ([]: none)."""
        versions = list(b["versions"])
        try:
            check_versions(versions)
        except ValueError as exc:
            raise _Reply(400, {"error": str(exc)}) from None
        self.driver.preparer.metadata.versions = versions
        return {"versions": versions}

    def _crash(self, b: dict[str, Any]) -> None:
        code, restart = int(b.get("exitCode", 1)), bool(b.get("restart", False))
        self._send(200, {"crashing": True, "exitCode": code, "restart": restart}, close=True)
        self.close_connection = True
        self.driver.crash(code, restart)  # a real driver never comes back from this
