"""Kubelet plugin registration: serve pluginregistration.Registration on <driver>-reg.sock.

The kubelet's plugin watcher finds the socket in plugins_registry, calls GetInfo, connects to the
advertised endpoint (our dra.sock), then reports the outcome with NotifyRegistrationStatus.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc

from drivers.fake_gpu.faults import Faults
from drivers.fake_gpu.stubs import Stubs

PLUGIN_TYPE = "DRAPlugin"
DRA_SERVICES = {"v1": "v1.DRAPlugin", "v1beta1": "v1beta1.DRAPlugin"}
HEALTH_SERVICES = {"v1alpha1": "v1alpha1.DRAResourceHealth", "v1": "v1.DRAResourceHealth"}


def supported_versions(dra_versions: list[str], health_versions: list[str]) -> list[str]:
    """The gRPC service names the kubelet may use on our endpoint."""
    return [DRA_SERVICES[v] for v in dra_versions] + [HEALTH_SERVICES[v] for v in health_versions]


class RegistrationState:
    def __init__(self, on_registered: Callable[[], None] | None = None) -> None:
        self._cond = threading.Condition()
        self._on_registered = on_registered
        self.get_info_calls = 0
        self.registered: bool | None = None  # None: the kubelet has not reported yet
        self.error = ""

    def notify(self, registered: bool, error: str) -> None:
        with self._cond:
            self.registered, self.error = registered, error
            self._cond.notify_all()
        if registered and self._on_registered is not None:
            self._on_registered()

    def reset(self) -> None:
        """No longer registered: the registration socket is gone."""
        with self._cond:
            self.registered, self.error = None, ""
            self._cond.notify_all()

    def wait_registered(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.registered is True, timeout=timeout)

    def to_json(self) -> dict[str, Any]:
        with self._cond:
            return {"getInfoCalls": self.get_info_calls, "registered": self.registered, "error": self.error}


def servicer(stubs: Stubs, *, driver: str, endpoint: str, versions: list[str], state: RegistrationState,
             faults: Faults) -> Any:
    pb = stubs.reg

    class Servicer(stubs.reg_grpc.RegistrationServicer):  # type: ignore[name-defined,misc]
        def GetInfo(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            with state._cond:
                state.get_info_calls += 1
            context.add_callback(faults.wake)
            fault = faults.enter("getinfo", context.is_active)
            if fault is not None:
                faults.leave("getinfo", ok=False)
                context.abort(getattr(grpc.StatusCode, fault.code, grpc.StatusCode.INTERNAL), fault.message)
            faults.leave("getinfo", ok=True)
            return pb.PluginInfo(type=PLUGIN_TYPE, name=driver, endpoint=endpoint,
                                 supported_versions=versions)

        def NotifyRegistrationStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            state.notify(request.plugin_registered, request.error)
            return pb.RegistrationStatusResponse()

    return Servicer()
