"""The DRA node service (DRAPlugin v1 and v1beta1): gRPC in, Preparer calls, gRPC out.

Faults apply per call: scope "call" fails the whole RPC with a gRPC status, scope "claim" puts the
message into every claim's `error` (both make the kubelet retry).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import grpc

from drivers.fake_gpu.faults import Fault, Faults
from drivers.fake_gpu.preparer import ClaimRef, PrepareError, Preparer


def _begin(faults: Faults, rpc: str, context: grpc.ServicerContext) -> Fault | None:
    context.add_callback(faults.wake)  # a hung call notices the kubelet giving up
    fault = faults.enter(rpc, context.is_active)
    if fault is not None and fault.scope == "call":
        faults.leave(rpc, ok=False)
        context.abort(getattr(grpc.StatusCode, fault.code, grpc.StatusCode.INTERNAL), fault.message)
    return fault


def servicer(pb_grpc: ModuleType, pb: ModuleType, *, preparer: Preparer, faults: Faults,
             with_share_id: bool) -> Any:
    class Servicer(pb_grpc.DRAPluginServicer):  # type: ignore[name-defined,misc]
        def NodePrepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            fault = _begin(faults, "prepare", context)
            resp = pb.NodePrepareResourcesResponse()
            ok = True
            for c in request.claims:
                out = resp.claims[c.uid]
                if fault is not None:
                    out.error, ok = fault.message, False
                    continue
                try:
                    for d in preparer.prepare(ClaimRef(c.namespace, c.name, c.uid)):
                        dev = out.devices.add(request_names=d["requestNames"], pool_name=d["poolName"],
                                              device_name=d["deviceName"], cdi_device_ids=d["cdiDeviceIDs"])
                        if with_share_id and d.get("shareID"):
                            dev.share_id = d["shareID"]
                except PrepareError as exc:
                    out.error, ok = str(exc), False
            faults.leave("prepare", ok)
            return resp

        def NodeUnprepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            fault = _begin(faults, "unprepare", context)
            resp = pb.NodeUnprepareResourcesResponse()
            ok = True
            for c in request.claims:
                out = resp.claims[c.uid]
                if fault is not None:
                    out.error, ok = fault.message, False
                    continue
                try:
                    preparer.unprepare(ClaimRef(c.namespace, c.name, c.uid))
                except OSError as exc:
                    out.error, ok = f"unprepare {c.namespace}/{c.name}: {exc}", False
            faults.leave("unprepare", ok)
            return resp

    return Servicer()
