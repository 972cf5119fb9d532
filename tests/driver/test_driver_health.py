from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from dra_conformance.waiting import timeout, wait_for
from drivers.fake_gpu.control_client import ControlError
from tests.driver.rig import Rig

T = timeout("grpc_call")  # each awaited message was sent before the control call returned


@pytest.mark.parametrize("version", ["v1alpha1", "v1"])
def test_health_changes_are_streamed_as_complete_lists(rig: Rig, version: str) -> None:
    watch = rig.kubelet.watch_health(version)
    first = watch.next()
    assert sorted(first) == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]
    assert {d["health"] for d in first.values()} == {"HEALTHY"}
    assert {(d["pool"], d["timeoutSeconds"]) for d in first.values()} == {("node-a", 30)}

    reply = rig.control.set_health("gpu-1", "Unhealthy", "ECC error", timeout_seconds=45)
    assert reply["streams"] == 1
    msg = watch.next(timeout=T)  # already sent when set_health returned
    assert sorted(msg) == sorted(first)
    assert msg["gpu-1"] == {**msg["gpu-1"], "health": "UNHEALTHY", "message": "ECC error", "timeoutSeconds": 45}
    assert msg["gpu-0"]["health"] == "HEALTHY"

    rig.control.set_health("gpu-1", "healthy")
    assert watch.next(timeout=T)["gpu-1"]["health"] == "HEALTHY"
    rig.control.set_health("gpu-2", "Unknown", "x" * 2000)
    assert watch.next(timeout=T)["gpu-2"] == {**first["gpu-2"], "health": "UNKNOWN", "message": "x" * 1024,
                                              "updated": watch_updated(rig)}
    watch.cancel()
    assert rig.control.state()["healthStreams"]["opened"] == {version: 1}


def watch_updated(rig: Rig) -> int:
    return rig.driver.hub.snapshot()["gpu-2"]["updated"]


def test_every_open_stream_gets_the_change_and_inventory_changes_too(rig: Rig) -> None:
    old, new = rig.kubelet.watch_health("v1alpha1"), rig.kubelet.watch_health("v1")
    old.next(), new.next()
    assert rig.control.wait_health_streams(2) == 2
    rig.control.set_health("gpu-3", "Unhealthy")
    assert old.next(timeout=T)["gpu-3"]["health"] == new.next(timeout=T)["gpu-3"]["health"] == "UNHEALTHY"
    rig.control.set_inventory(options={"gpu": {"count": 2}})
    assert sorted(old.next(timeout=T)) == sorted(new.next(timeout=T)) == ["gpu-0", "gpu-1"]


def test_heartbeat_resends_the_list_without_changes(rig_factory) -> None:
    rig = rig_factory(health_interval=0.2).start()
    watch = rig.kubelet.watch_health()
    a, b = watch.next(), watch.next(timeout=T)
    assert sorted(a) == sorted(b)


def test_bad_health_requests_are_rejected(rig: Rig) -> None:
    with pytest.raises(ControlError) as err:
        rig.control.set_health("gpu-9", "Unhealthy")
    assert err.value.status == 400 and "gpu-9" in str(err.value)
    with pytest.raises(ControlError):
        rig.control.set_health("gpu-0", "Broken")


def test_stopped_serving_ends_streams_and_removes_sockets_until_served_again(rig: Rig) -> None:
    """POST /serving false is a stopped plugin to the kubelet; true brings it back once registered."""
    watch = rig.kubelet.watch_health("v1")
    watch.next()
    assert rig.control.stop_serving()["serving"] is False
    with pytest.raises((EOFError, grpc.RpcError)):  # the kubelet's cue that health is now unknown
        while True:
            watch.next(timeout=T)
    assert not rig.cfg.registration_socket.exists() and not rig.cfg.dra_socket.exists()
    assert rig.control.state()["registration"]["registered"] is None

    assert _serve_again(rig)["registration"]["registered"] is True
    assert rig.kubelet.watch_health("v1").next()["gpu-0"]["health"] == "HEALTHY"


def _serve_again(rig: Rig) -> dict:
    """POST /serving true, which returns once registered, while the test's "kubelet" registers."""
    with ThreadPoolExecutor(1) as pool:
        served = pool.submit(rig.control.start_serving, T)
        wait_for("the registration socket", lambda: (rig.cfg.registration_socket.exists(), "absent"),
                 "grpc_call")
        rig.kubelet.register()
        return served.result(timeout=T)


def test_health_changes_while_stopped_are_kept_for_the_next_stream(rig: Rig) -> None:
    rig.kubelet.watch_health("v1").next()
    rig.control.stop_serving()
    assert rig.control.set_health("gpu-2", "Unhealthy", "while stopped")["streams"] == 0
    _serve_again(rig)
    assert rig.kubelet.watch_health("v1").next()["gpu-2"]["message"] == "while stopped"
