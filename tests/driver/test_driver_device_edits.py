"""Taints and binding conditions set through the control surface reach the published slices."""

from __future__ import annotations

import pytest

from drivers.fake_gpu import profiles, slices
from drivers.fake_gpu.binding import ATTACH_FAILED, ATTACHED
from drivers.fake_gpu.capabilities import Capabilities
from drivers.fake_gpu.control_client import ControlError
from drivers.fake_gpu.taints import tainted
from tests.driver.rig import Rig


def _device(rig: Rig, name: str) -> dict:
    published = rig.control.state()["slices"]["published"]
    return next(d for s in published for d in s["spec"].get("devices") or [] if d["name"] == name)


def test_taints_are_published_with_a_fixed_time_added(rig: Rig) -> None:
    taint = {"key": "example.com/broken", "value": "yes", "effect": "NoExecute"}
    rig.control.set_taints("gpu-1", [taint])
    [shown] = _device(rig, "gpu-1")["taints"]
    assert {k: shown[k] for k in taint} == taint and shown["timeAdded"].endswith("Z"), shown
    generation = rig.control.state()["slices"]["generation"]
    rig.driver.publisher.publish(rig.driver.inventory())  # the reconciler's republish changes nothing
    assert rig.control.state()["slices"]["generation"] == generation
    assert "taints" not in _device(rig, "gpu-0")
    rig.control.set_taints("gpu-1", [])
    assert "taints" not in _device(rig, "gpu-1")


def test_bad_taints_are_refused(rig: Rig) -> None:
    with pytest.raises(ControlError) as err:
        rig.control.set_taints("gpu-1", [{"key": "example.com/x", "effect": "Sometimes"}])
    assert err.value.status == 400
    with pytest.raises(ControlError) as err:
        rig.control.set_taints("no-such-device", [])
    assert err.value.status == 404


def test_binding_conditions_are_published_and_cleared(rig: Rig) -> None:
    rig.control.set_binding("gpu-2", "hold")
    shown = _device(rig, "gpu-2")
    assert (shown["bindsToNode"], shown["bindingConditions"], shown["bindingFailureConditions"]) == \
        (True, [ATTACHED], [ATTACH_FAILED])
    assert rig.control.state()["binding"]["devices"]["gpu-2"]["outcome"] == "hold"
    with pytest.raises(ControlError) as err:
        rig.control.set_binding("gpu-2", "maybe")
    assert err.value.status == 400
    rig.control.clear_binding("gpu-2")
    assert not {"bindsToNode", "bindingConditions", "bindingFailureConditions"} & set(_device(rig, "gpu-2"))
    assert rig.control.state()["binding"]["devices"] == {}


def test_fields_of_gates_that_are_off_are_not_published() -> None:
    inv = tainted(profiles.build("gpu", "node-a", {"gpu": {"count": 1}}), "gpu-0",
                  [{"key": "example.com/x", "effect": "NoSchedule"}])
    off = Capabilities(device_taints=False, binding_conditions=False)
    [only] = slices.build("d.example.com", "node-a", inv, off, generation=1)
    assert "taints" not in only["spec"]["devices"][0]
    [on] = slices.build("d.example.com", "node-a", inv, Capabilities(), generation=1)
    assert on["spec"]["devices"][0]["taints"][0]["key"] == "example.com/x"
