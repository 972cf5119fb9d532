from __future__ import annotations

from drivers.fake_gpu.stubs import load


def test_wire_names_are_the_upstream_ones() -> None:
    s = load()
    services = {
        s.reg: "pluginregistration.Registration",
        s.dra_v1: "k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin",
        s.dra_v1beta1: "k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin",
        s.health_v1alpha1: "v1alpha1.DRAResourceHealth",
        s.health_v1: "v1.DRAResourceHealth",
        s.podresources_v1: "v1.PodResourcesLister",
    }
    for mod, full in services.items():
        (svc,) = mod.DESCRIPTOR.services_by_name.values()
        assert svc.full_name == full
    assert [m.name for m in s.podresources_v1.DESCRIPTOR.services_by_name["PodResourcesLister"].methods] == [
        "List", "GetAllocatableResources", "Get"]
    # descriptor file names are unique although every upstream file is called api.proto
    assert len({m.DESCRIPTOR.name for m in services}) == len(services)


def test_field_numbers_of_the_messages_we_rely_on() -> None:
    s = load()
    dev = s.dra_v1.Device.DESCRIPTOR.fields_by_name
    assert {n: f.number for n, f in dev.items()} == {
        "request_names": 1, "pool_name": 2, "device_name": 3, "cdi_device_ids": 4, "share_id": 5}
    assert "share_id" not in s.dra_v1beta1.Device.DESCRIPTOR.fields_by_name
    health = s.health_v1.DeviceHealth.DESCRIPTOR.fields_by_name
    assert health["message"].number == 5 and health["health_check_timeout_seconds"].number == 4
    claim_res = s.podresources_v1.ClaimResource.DESCRIPTOR.fields_by_name
    assert claim_res["share_id"].number == 5 and claim_res["device_name"].number == 4
    assert s.podresources_v1.ContainerResources.DESCRIPTOR.fields_by_name["dynamic_resources"].number == 5
