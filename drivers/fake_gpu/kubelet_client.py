"""The kubelet's side of the plugin sockets, for tests and benchmarks that play the kubelet.

Speaks the same gRPC as the kubelet: GetInfo/NotifyRegistrationStatus on the registration socket,
then DRAPlugin (v1 or v1beta1) and DRAResourceHealth (v1alpha1 or v1) on the advertised endpoint.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc

from drivers.fake_gpu.stubs import Stubs, load


class HealthWatch:
    """One NodeWatchResources stream, read by a background thread into a queue."""

    def __init__(self, stub: Any, request: Any, health_enum: Any) -> None:
        self._call = stub.NodeWatchResources(request)
        self._enum = health_enum
        self.messages: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for msg in self._call:
                self.messages.put(msg)
            self.messages.put(EOFError("the driver ended the stream"))
        except grpc.RpcError as exc:
            self.messages.put(exc)

    def next(self, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
        """The next message as {device: {health, message, timeoutSeconds, pool, updated}}."""
        msg = self.messages.get(timeout=timeout)
        if isinstance(msg, Exception):
            raise msg
        return {d.device.device_name: {"health": self._enum.Name(d.health), "message": d.message,
                                       "timeoutSeconds": d.health_check_timeout_seconds,
                                       "pool": d.device.pool_name, "updated": d.last_updated_time}
                for d in msg.devices}

    def drain(self) -> None:
        while not self.messages.empty():
            self.messages.get_nowait()

    def cancel(self) -> None:
        self._call.cancel()
        self._thread.join(timeout=5)


class KubeletClient:
    def __init__(self, registration_socket: Path | str, stubs: Stubs | None = None) -> None:
        self.stubs = stubs or load()
        self.registration_socket = str(registration_socket)
        self._reg_channel = grpc.insecure_channel(f"unix://{self.registration_socket}")
        self._reg = self.stubs.reg_grpc.RegistrationStub(self._reg_channel)
        self._channel: grpc.Channel | None = None
        self.endpoint = ""

    def get_info(self, timeout: float = 10.0) -> Any:
        return self._reg.GetInfo(self.stubs.reg.InfoRequest(), timeout=timeout)

    def notify(self, registered: bool = True, error: str = "", timeout: float = 10.0) -> None:
        self._reg.NotifyRegistrationStatus(
            self.stubs.reg.RegistrationStatus(plugin_registered=registered, error=error), timeout=timeout)

    def register(self) -> Any:
        """What the plugin watcher does: GetInfo, connect to the endpoint, report success."""
        info = self.get_info()
        self.endpoint = info.endpoint
        self._channel = grpc.insecure_channel(f"unix://{info.endpoint}")
        self.notify(True)
        return info

    @property
    def channel(self) -> grpc.Channel:
        if self._channel is None:
            raise RuntimeError("call register() first")
        return self._channel

    def _dra(self, version: str) -> tuple[Any, Any]:
        pb, mod = {"v1": (self.stubs.dra_v1, self.stubs.dra_v1_grpc),
                   "v1beta1": (self.stubs.dra_v1beta1, self.stubs.dra_v1beta1_grpc)}[version]
        return pb, mod.DRAPluginStub(self.channel)

    def prepare(self, claims: Iterable[tuple[str, str, str]], version: str = "v1",
                timeout: float | None = 10.0) -> Any:
        """claims: (namespace, name, uid). Returns NodePrepareResourcesResponse."""
        pb, stub = self._dra(version)
        req = pb.NodePrepareResourcesRequest(claims=[pb.Claim(namespace=n, name=m, uid=u) for n, m, u in claims])
        return stub.NodePrepareResources(req, timeout=timeout)

    def prepare_future(self, claims: Iterable[tuple[str, str, str]], version: str = "v1",
                       timeout: float | None = 30.0) -> grpc.Future:
        pb, stub = self._dra(version)
        req = pb.NodePrepareResourcesRequest(claims=[pb.Claim(namespace=n, name=m, uid=u) for n, m, u in claims])
        return stub.NodePrepareResources.future(req, timeout=timeout)

    def unprepare(self, claims: Iterable[tuple[str, str, str]], version: str = "v1",
                  timeout: float | None = 10.0) -> Any:
        pb, stub = self._dra(version)
        req = pb.NodeUnprepareResourcesRequest(claims=[pb.Claim(namespace=n, name=m, uid=u) for n, m, u in claims])
        return stub.NodeUnprepareResources(req, timeout=timeout)

    def watch_health(self, version: str = "v1alpha1") -> HealthWatch:
        pb, mod = {"v1alpha1": (self.stubs.health_v1alpha1, self.stubs.health_v1alpha1_grpc),
                   "v1": (self.stubs.health_v1, self.stubs.health_v1_grpc)}[version]
        return HealthWatch(mod.DRAResourceHealthStub(self.channel), pb.NodeWatchResourcesRequest(),
                           pb.HealthStatus)

    def close(self) -> None:
        self._reg_channel.close()
        if self._channel is not None:
            self._channel.close()
