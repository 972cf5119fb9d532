"""The DRA node service (DRAPlugin v1 and v1beta1): gRPC in, Preparer calls, gRPC out.

Faults apply per call: scope "call" fails the whole RPC with a gRPC status, scope "claim" puts the
message into the `error` of every claim it targets (both make the kubelet retry). Every claim a
call names is counted in the ledger, with its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import grpc

from drivers.fake_gpu.faults import Faults
from drivers.fake_gpu.ledger import Ledger
from drivers.fake_gpu.preparer import ClaimRef, PrepareError, Preparer


def servicer(pb_grpc: ModuleType, pb: ModuleType, *, preparer: Preparer, faults: Faults, ledger: Ledger,
             with_share_id: bool) -> Any:
    def prepare(ref: ClaimRef, out: Any) -> None:
        for d in preparer.prepare(ref):
            dev = out.devices.add(request_names=d["requestNames"], pool_name=d["poolName"],
                                  device_name=d["deviceName"], cdi_device_ids=d["cdiDeviceIDs"])
            if with_share_id and d.get("shareID"):
                dev.share_id = d["shareID"]

    class Servicer(pb_grpc.DRAPluginServicer):  # type: ignore[name-defined,misc]
        def NodePrepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            return _each_claim(faults, ledger, "prepare", request, context, pb.NodePrepareResourcesResponse(),
                               prepare)

        def NodeUnprepareResources(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
            return _each_claim(faults, ledger, "unprepare", request, context, pb.NodeUnprepareResourcesResponse(),
                               lambda ref, _out: preparer.unprepare(ref))

    return Servicer()


def _each_claim(faults: Faults, ledger: Ledger, rpc: str, request: Any, context: grpc.ServicerContext,
                resp: Any, handle: Callable[[ClaimRef, Any], None]) -> Any:
    """`handle(claim, answer)` per claim; a queued fault or a failure becomes that claim's error
    (the kubelet retries claims with errors), the others still succeed."""
    refs = [ClaimRef(c.namespace, c.name, c.uid) for c in request.claims]
    outcome = dict.fromkeys((r.uid for r in refs), False)
    for r in refs:
        ledger.begin(rpc, r.uid, r.namespace, r.name)
    try:
        context.add_callback(faults.wake)  # a hung call notices the kubelet giving up
        fault = faults.enter(rpc, context.is_active, [(r.namespace, r.name) for r in refs])
        if fault is not None and fault.scope == "call":
            faults.leave(rpc, ok=False)
            context.abort(getattr(grpc.StatusCode, fault.code, grpc.StatusCode.INTERNAL), fault.message)
        ok = True
        for r in refs:
            out = resp.claims[r.uid]
            if fault is not None and fault.targets(r.namespace, r.name):
                out.error, ok = fault.message, False
                continue
            try:
                handle(r, out)
                outcome[r.uid] = True
            except PrepareError as exc:
                out.error, ok = str(exc), False
            except OSError as exc:
                out.error, ok = f"{rpc} {r.namespace}/{r.name}: {exc}", False
        faults.leave(rpc, ok)
        return resp
    finally:
        for r in refs:
            ledger.end(rpc, r.uid, outcome[r.uid])
