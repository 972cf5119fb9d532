from __future__ import annotations

import grpc
import pytest

from tests.driver.rig import Rig, ref


def test_get_info_advertises_dra_plugin_and_its_services(rig: Rig) -> None:
    info = rig.kubelet.get_info()
    assert info.type == "DRAPlugin"
    assert info.name == rig.driver_name
    assert info.endpoint == str(rig.cfg.plugin_root / "plugins" / rig.driver_name / "dra.sock")
    assert list(info.supported_versions) == ["v1.DRAPlugin", "v1beta1.DRAPlugin",
                                             "v1alpha1.DRAResourceHealth", "v1.DRAResourceHealth"]
    assert rig.cfg.registration_socket.name == f"{rig.driver_name}-reg.sock"
    assert rig.cfg.registration_socket.parent.name == "plugins_registry"


def test_registration_status_is_recorded(rig: Rig) -> None:
    rig.kubelet.notify(False, "version mismatch")
    assert rig.control.state()["registration"] == {"getInfoCalls": 1, "registered": False,
                                                  "error": "version mismatch"}
    rig.kubelet.notify(True)
    assert rig.control.state()["registration"]["registered"] is True


def test_only_configured_api_versions_are_served(rig_factory) -> None:
    rig = rig_factory(dra_versions=["v1beta1"], health_versions=["v1"]).start()
    info = rig.kubelet.get_info()
    assert list(info.supported_versions) == ["v1beta1.DRAPlugin", "v1.DRAResourceHealth"]
    claim = rig.add("c", ["gpu-0"])
    assert not rig.kubelet.prepare([ref(claim)], version="v1beta1").claims[claim["metadata"]["uid"]].error
    with pytest.raises(grpc.RpcError) as err:
        rig.kubelet.prepare([ref(claim)], version="v1")
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as err:
        rig.kubelet.watch_health("v1alpha1").next()
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_get_info_failure_then_recovery(rig: Rig) -> None:
    rig.control.fail("getinfo", count=1, message="not ready", code="UNAVAILABLE")
    with pytest.raises(grpc.RpcError) as err:
        rig.kubelet.get_info()
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE and err.value.details() == "not ready"
    assert rig.kubelet.get_info().name == rig.driver_name
