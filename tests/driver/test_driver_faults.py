from __future__ import annotations

import time

import grpc
import pytest

from dra_conformance.waiting import timeout
from tests.driver.rig import Rig, ref


@pytest.mark.parametrize("rpc", ["prepare", "unprepare"])
def test_fail_next_n_calls_then_succeed(rig: Rig, rpc: str) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    call = rig.kubelet.prepare if rpc == "prepare" else rig.kubelet.unprepare
    rig.control.fail(rpc, count=2, message="boom")
    for _ in range(2):
        with pytest.raises(grpc.RpcError) as err:
            call([ref(claim)])
        assert err.value.code() == grpc.StatusCode.INTERNAL and err.value.details() == "boom"
    assert call([ref(claim)]).claims[uid].error == ""
    stats = rig.control.state()["faults"]["stats"][rpc]
    assert (stats["calls"], stats["failed"], stats["ok"]) == (3, 2, 1)


def test_fail_as_claim_error_prepares_nothing(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    rig.control.fail("prepare", scope="claim", message="device busy")
    assert rig.kubelet.prepare([ref(claim)]).claims[uid].error == "device busy"
    assert not rig.spec_file(claim).exists()
    assert rig.kubelet.prepare([ref(claim)]).claims[uid].devices[0].device_name == "gpu-0"


def test_hang_until_released(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    rig.control.hang("prepare")
    fut = rig.kubelet.prepare_future([ref(claim)])
    rig.control.wait_calls("prepare", "hanging", 1, timeout=timeout("grpc_call"))
    assert not fut.done() and not rig.spec_file(claim).exists()
    assert rig.control.release("prepare") == 1
    assert fut.result(timeout=timeout("grpc_call")).claims[uid].devices[0].device_name == "gpu-0"
    assert rig.control.state()["faults"]["stats"]["prepare"]["hanging"] == 0


def test_hung_call_ends_when_the_kubelet_gives_up(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    rig.control.hang("unprepare", count=-1)
    with pytest.raises(grpc.RpcError) as err:
        rig.kubelet.unprepare([ref(claim)], timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    rig.control.wait_calls("unprepare", "failed", 1, timeout=timeout("grpc_call"))  # the server side let go as well
    assert rig.control.state()["faults"]["stats"]["unprepare"]["hanging"] == 0


def test_delay_applies_until_cleared(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    rig.control.delay("prepare", 0.3)
    for _ in range(2):
        start = time.monotonic()
        rig.kubelet.prepare([ref(claim)])
        assert time.monotonic() - start >= 0.3
    rig.control.clear_faults("prepare")
    start = time.monotonic()
    rig.kubelet.prepare([ref(claim)])
    assert time.monotonic() - start < 0.3


def test_faults_run_in_order(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    rig.control.fail("prepare", count=1, message="first")
    rig.control.fail("prepare", count=1, message="second", code="UNAVAILABLE")
    codes = []
    for _ in range(2):
        with pytest.raises(grpc.RpcError) as err:
            rig.kubelet.prepare([ref(claim)])
        codes.append((err.value.code(), err.value.details()))
    assert codes == [(grpc.StatusCode.INTERNAL, "first"), (grpc.StatusCode.UNAVAILABLE, "second")]
    assert rig.control.state()["faults"]["pending"]["prepare"] == []


def test_targeted_fault_spares_other_namespaces_and_claims(rig: Rig) -> None:
    ours, other = rig.add("c", ["gpu-0"]), rig.add("d", ["gpu-1"])
    rig.control.fail("prepare", scope="claim", message="only c", namespace=ours["metadata"]["namespace"],
                     claim="c")
    both = rig.kubelet.prepare([ref(other), ref(ours)])
    assert both.claims[other["metadata"]["uid"]].error == ""
    assert both.claims[ours["metadata"]["uid"]].error == "only c"
    assert rig.kubelet.prepare([ref(ours)]).claims[ours["metadata"]["uid"]].error == ""  # consumed
    rig.control.hang("prepare", namespace="elsewhere")  # names no claim of these calls: never taken
    assert rig.kubelet.prepare([ref(other)], timeout=timeout("grpc_call")).claims[other["metadata"]["uid"]].error == ""
    assert rig.control.state()["faults"]["pending"]["prepare"][0]["namespace"] == "elsewhere"


def test_ledger_counts_calls_and_outcomes_per_claim_across_restarts(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0"])
    uid = claim["metadata"]["uid"]
    rig.control.fail("prepare", message="once")
    with pytest.raises(grpc.RpcError):
        rig.kubelet.prepare([ref(claim)])
    rig.kubelet.prepare([ref(claim)])
    rig.kubelet.prepare([ref(claim)])  # the kubelet asking again: answered from the checkpoint
    rig.restart()
    rig.kubelet.unprepare([ref(claim)])
    rig.kubelet.unprepare([ref(claim)])
    entry = rig.control.claims()[uid]
    assert entry["calls"] == {"prepare": 3, "unprepare": 2} and entry["errors"] == {"prepare": 1, "unprepare": 0}
    counts = (entry["prepared"], entry["reused"], entry["unprepared"], entry["unknown"], entry["inflight"])
    assert counts == (1, 1, 1, 1, 0)


def test_targeted_release_and_clear_leave_other_tests_faults(rig: Rig) -> None:
    a, other = rig.add("a", ["gpu-0"]), rig.add("b", ["gpu-1"], namespace="other")
    for claim in (a, other):
        rig.control.hang("prepare", count=-1, namespace=claim["metadata"]["namespace"])
    calls = [rig.kubelet.prepare_future([ref(c)]) for c in (a, other)]
    rig.control.wait_calls("prepare", "hanging", 2, timeout=timeout("grpc_call"))
    rig.control.clear_faults("prepare", namespace=a["metadata"]["namespace"])
    assert rig.control.release("prepare", namespace=a["metadata"]["namespace"]) == 1
    assert calls[0].result(timeout=timeout("grpc_call")).claims[a["metadata"]["uid"]].error == ""
    assert not calls[1].done()
    assert [f["namespace"] for f in rig.control.state()["faults"]["pending"]["prepare"]] == ["other"]
    rig.control.clear_faults()
    assert rig.control.release() == 1
    assert calls[1].result(timeout=timeout("grpc_call")).claims[other["metadata"]["uid"]].error == ""
