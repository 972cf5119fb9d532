from __future__ import annotations

import pytest

from drivers.fake_gpu import profiles, slices
from drivers.fake_gpu.capabilities import Capabilities
from tests.driver.rig import Rig

D, N = "gpu.fake.dra-conformance.io", "node-a"


def test_profiles_are_data_files_with_distinct_hardware() -> None:
    assert profiles.available() == ["gpu", "mixed", "nic"]
    gpu = profiles.build("gpu", N).devices[0].spec
    assert gpu["name"] == "gpu-0"
    assert set(gpu["attributes"]) >= {"index", "uuid", "model", "driverVersion"}
    assert gpu["attributes"]["driverVersion"] == {"version": "550.54.15"}
    assert gpu["capacity"]["memory"] == {"value": "80Gi"}
    assert profiles.build("gpu", "node-b").devices[0].spec["attributes"]["uuid"] != gpu["attributes"]["uuid"]
    nic = profiles.build("nic", N).devices[1]
    assert nic.spec["attributes"]["interfaceName"] == {"string": "fnic1"}
    assert nic.spec["attributes"]["pciAddress"] == {"string": "0000:3c:00.0"}
    assert nic.spec["allowMultipleAllocations"] is True
    assert nic.spec["capacity"]["bandwidth"]["requestPolicy"]["validRange"] == {"min": "1G", "step": "1G"}
    assert nic.status["networkData"]["interfaceName"] == "fnic1"
    mixed = profiles.build("mixed", N)
    assert [d.type for d in mixed.devices] == ["gpu", "gpu", "nic", "nic"]
    with pytest.raises(ValueError, match="no device group"):
        profiles.build("gpu", N, {"nic": {"count": 1}})


def test_partitions_consume_a_counter_set_per_gpu() -> None:
    inv = profiles.build("gpu", N, {"gpu": {"count": 2, "partitions": 2}})
    assert [d.name for d in inv.devices] == ["gpu-0", "gpu-0-part-0", "gpu-0-part-1",
                                             "gpu-1", "gpu-1-part-0", "gpu-1-part-1"]
    assert inv.counter_sets[0] == {"name": "gpu-0-counters", "counters": {"memory": {"value": "80Gi"}}}
    part = inv.device("gpu-0-part-1").spec
    assert part["consumesCounters"] == [{"counterSet": "gpu-0-counters", "counters": {"memory": {"value": "40Gi"}}}]
    assert part["attributes"]["type"] == {"string": "gpu-partition"}

    pool = slices.build(D, N, inv, Capabilities(), generation=3)
    # 1.35+ layout: counters alone, then one slice per device type
    assert [bool(s["spec"].get("sharedCounters")) for s in pool] == [True, False, False]
    assert [{d["attributes"]["type"]["string"] for d in s["spec"].get("devices", [])} for s in pool] == [
        set(), {"gpu"}, {"gpu-partition"}]
    assert {(s["spec"]["pool"]["generation"], s["spec"]["pool"]["resourceSliceCount"]) for s in pool} == {(3, 3)}
    same = slices.build(D, N, inv, Capabilities(counters_in_separate_slice=False), generation=1)
    assert len(same) == 1 and same[0]["spec"]["sharedCounters"] and len(same[0]["spec"]["devices"]) == 6


def test_fields_the_server_would_drop_are_not_published() -> None:
    inv = profiles.build("gpu", N, {"gpu": {"count": 1, "consumable": True, "partitions": 4}})
    caps = Capabilities(consumable_capacity=False, partitionable_devices=False)
    (only,) = slices.build(D, N, inv, caps, generation=1)
    (dev,) = only["spec"]["devices"]  # the partitions would double-count the memory
    assert dev["name"] == "gpu-0" and "consumesCounters" not in dev and "sharedCounters" not in only["spec"]
    assert "allowMultipleAllocations" not in dev and dev["capacity"]["memory"] == {"value": "80Gi"}
    assert Capabilities.parse("consumableCapacity=false, deviceStatus=true") == Capabilities(
        consumable_capacity=False)
    with pytest.raises(ValueError):
        Capabilities.parse("sharedCounters=yes")


def test_a_thousand_devices_split_into_valid_slices() -> None:
    inv = profiles.build("gpu", N, {"gpu": {"count": 1000}})
    pool = slices.build(D, N, inv, Capabilities(), generation=1)
    assert [len(s["spec"]["devices"]) for s in pool] == [128] * 7 + [104]
    assert len({s["metadata"]["name"] for s in pool}) == 8
    assert all(s["spec"]["nodeName"] == N and s["spec"]["pool"]["name"] == N and s["spec"]["driver"] == D
               for s in pool)


def test_inventory_change_republishes_with_a_new_generation(rig: Rig) -> None:
    before = rig.control.state()["slices"]
    assert before["generation"] == 1
    assert [d["name"] for d in before["published"][0]["spec"]["devices"]] == ["gpu-0", "gpu-1", "gpu-2", "gpu-3"]
    reply = rig.control.set_inventory(options={"gpu": {"count": 1}})
    assert reply == {"devices": ["gpu-0"], "generation": 2}
    custom = {"name": "odd-0", "attributes": {"type": {"string": "gpu"}}, "capacity": {"memory": {"value": "1Gi"}}}
    rig.control.set_inventory(devices=[custom])
    state = rig.control.state()
    assert state["slices"]["generation"] == 3
    assert state["slices"]["published"][0]["spec"]["devices"] == [custom]
    assert list(state["health"]) == ["odd-0"]
    rig.control.set_inventory(devices=[custom])  # unchanged: no new generation
    assert rig.control.state()["slices"]["generation"] == 3
