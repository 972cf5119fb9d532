"""Device health (KEP-4680): the DRAResourceHealth NodeWatchResources streams, v1alpha1 and v1.

Every message carries the complete device list. A message goes out on every change and, as a
heartbeat, every `interval` seconds (the kubelet marks devices Unknown when reports stop).
set_health() returns a version; wait_delivered(version) blocks until every open stream has sent
it, which is what lets a control call return only once the change is on the wire.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import grpc

HEALTH_VALUES = ("Healthy", "Unhealthy", "Unknown")
_ENUM = {"Healthy": "HEALTHY", "Unhealthy": "UNHEALTHY", "Unknown": "UNKNOWN"}
MAX_MESSAGE = 1024


def normalize(health: str) -> str:
    for value in HEALTH_VALUES:
        if health.lower() == value.lower():
            return value
    raise ValueError(f"health must be one of {HEALTH_VALUES}, not {health!r}")


class HealthHub:
    def __init__(self, pool: str, interval: float = 10.0) -> None:
        self.pool, self.interval = pool, interval
        self._cond = threading.Condition()
        self._version = 0
        self._devices: dict[str, dict[str, Any]] = {}
        self._delivered: dict[int, int] = {}   # stream id -> last version sent
        self._ids = itertools.count()
        self._stopped = False
        self.streams_opened: dict[str, int] = {}  # per API version, for GET /state

    def set_inventory(self, names: list[str], timeout_seconds: int) -> int:
        """New devices start Healthy; known ones keep their state; removed ones disappear."""
        with self._cond:
            now = int(time.time())
            self._devices = {
                n: self._devices.get(n) or {"health": "Healthy", "message": "", "updated": now,
                                            "timeoutSeconds": timeout_seconds}
                for n in names
            }
            return self._bump()

    def set_health(self, device: str, health: str, message: str = "",
                   timeout_seconds: int | None = None) -> int:
        with self._cond:
            if device not in self._devices:
                raise KeyError(f"no device {device!r}; devices: {sorted(self._devices)}")
            entry = self._devices[device]
            entry.update(health=normalize(health), message=message[:MAX_MESSAGE], updated=int(time.time()))
            if timeout_seconds is not None:
                entry["timeoutSeconds"] = int(timeout_seconds)
            return self._bump()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return {n: dict(d) for n, d in self._devices.items()}

    def version(self) -> int:
        with self._cond:
            return self._version

    def open_streams(self) -> int:
        with self._cond:
            return len(self._delivered)

    def wait_delivered(self, version: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: all(v >= version for v in self._delivered.values()),
                                       timeout=timeout)

    def wait_streams(self, count: int, timeout: float) -> bool:
        """Block until at least `count` streams are open (the kubelet subscribed)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._delivered) >= count, timeout=timeout)

    def stop(self) -> None:
        """End every open stream. They count as closed now: a stream the gRPC server cancelled
        while its generator waited to send may never run its clean-up."""
        with self._cond:
            self._stopped = True
            self._delivered.clear()
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._stopped = False

    def stream(self, pb: ModuleType, api_version: str, context: grpc.ServicerContext) -> Iterator[Any]:
        with self._cond:
            sid = next(self._ids)
            self._delivered[sid] = -1
            self.streams_opened[api_version] = self.streams_opened.get(api_version, 0) + 1
            self._cond.notify_all()
        context.add_callback(self._wake)
        try:
            sent = [-1]  # a cell, so the wait predicate sees the current value
            while True:
                with self._cond:
                    self._cond.wait_for(
                        lambda: self._version != sent[0] or self._stopped or not context.is_active(),
                        timeout=self.interval)
                    if self._stopped or not context.is_active():
                        return
                    version, devices = self._version, {n: dict(d) for n, d in self._devices.items()}
                yield self._message(pb, devices)
                # grpc asks for the next message only after sending this one: it is on the wire
                sent[0] = version
                with self._cond:
                    if sid in self._delivered:  # not if stop() closed it meanwhile
                        self._delivered[sid] = version
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._delivered.pop(sid, None)
                self._cond.notify_all()

    def _message(self, pb: ModuleType, devices: dict[str, dict[str, Any]]) -> Any:
        now = int(time.time())
        return pb.NodeWatchResourcesResponse(devices=[
            pb.DeviceHealth(
                device=pb.DeviceIdentifier(pool_name=self.pool, device_name=name),
                health=pb.HealthStatus.Value(_ENUM[d["health"]]),
                last_updated_time=now,  # when this report was made: the heartbeat keeps it fresh
                health_check_timeout_seconds=d["timeoutSeconds"],
                message=d["message"],
            )
            for name, d in sorted(devices.items())
        ])

    def _bump(self) -> int:
        self._version += 1
        self._cond.notify_all()
        return self._version

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


def servicer(pb_grpc: ModuleType, pb: ModuleType, api_version: str, hub: HealthHub) -> Any:
    """A DRAResourceHealth servicer for one API version's generated modules."""

    class Servicer(pb_grpc.DRAResourceHealthServicer):  # type: ignore[name-defined,misc]
        def NodeWatchResources(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:  # noqa: N802
            yield from hub.stream(pb, api_version, context)

    return Servicer()
