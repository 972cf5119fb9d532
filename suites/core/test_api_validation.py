"""CRUD and validation of DeviceClass, ResourceClaim, ResourceClaimTemplate and ResourceSlice (resource.k8s.io/v1).

Mirrors upstream's "CRUD Tests" (conformance since v1.35) plus negative cases with the limits of
resource/v1 types.go. Invalid objects are plain dicts (the typed client would refuse to build them).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import rejected

pytestmark = pytest.mark.feature("core")


def test_device_class_crud(api, kit) -> None:
    name = kit.name("crud-dc")
    created = kit.create(b.device_class(name, selectors=[b.cel('device.driver == "crud.example.com"')]))
    assert created["spec"]["selectors"][0]["cel"]["expression"] == 'device.driver == "crud.example.com"'
    assert api.get("DeviceClass", name)["metadata"]["uid"] == created["metadata"]["uid"]
    listed = api.list("DeviceClass", labels=f"dra-conformance.io/run={kit.run_id}")
    assert name in [c["metadata"]["name"] for c in listed]
    patched = api.patch("DeviceClass", name, {"metadata": {"labels": {"patched": "yes"}},
                                              "spec": {"selectors": [b.cel("true")]}})
    assert patched["metadata"]["labels"]["patched"] == "yes"
    assert patched["spec"]["selectors"] == [b.cel("true")]  # DeviceClass spec is mutable
    assert api.delete("DeviceClass", name)
    waits.gone(api, "DeviceClass", name)


@pytest.mark.parametrize(("expression", "needle"), [
    ("device.driver ==", "compilation failed"),
    ('device.attributes["x"]', "must evaluate to bool"),
])
def test_device_class_invalid_celrejected(api, kit, expression: str, needle: str) -> None:
    obj = b.device_class(kit.name("bad-dc"), selectors=[b.cel(expression)])
    rejected(lambda: api.create(obj, dry_run=True), "spec.selectors[0].cel.expression", needle)


def test_resource_claim_crud(api, kit) -> None:
    cls = kit.driver.class_name("gpu")
    name = kit.claim([b.request("gpu", cls)])
    claim = api.get("ResourceClaim", name, kit.ns)
    assert claim["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] == cls
    assert claim["spec"]["devices"]["requests"][0]["exactly"]["allocationMode"] == "ExactCount"  # defaulted
    assert claim["spec"]["devices"]["requests"][0]["exactly"]["count"] == 1
    assert not (claim.get("status") or {}).get("allocation"), "nothing uses the claim: it must stay unallocated"
    assert name in [c["metadata"]["name"] for c in api.list("ResourceClaim", kit.ns)]
    api.patch("ResourceClaim", name, {"metadata": {"labels": {"patched": "yes"}}}, kit.ns)
    assert api.get("ResourceClaim", name, kit.ns)["metadata"]["labels"]["patched"] == "yes"
    assert api.delete("ResourceClaim", name, kit.ns)
    waits.gone(api, "ResourceClaim", name, kit.ns)


def test_resource_claim_spec_is_immutable(api, kit) -> None:
    name = kit.claim([b.request("gpu", kit.driver.class_name("gpu"))])
    claim = api.get("ResourceClaim", name, kit.ns)
    claim["spec"]["devices"]["requests"][0]["exactly"]["count"] = 2
    rejected(lambda: api.replace(claim), "field is immutable")


def _claim_case(case: str, cls: str) -> dict[str, Any]:
    req: dict[str, Any] = {"name": "gpu", "exactly": {"deviceClassName": cls}}
    if case == "no-request-name":
        req.pop("name")
    elif case == "exactly-and-firstAvailable":
        req["firstAvailable"] = [{"name": "a", "deviceClassName": cls}]
    elif case == "count-negative":
        req["exactly"]["count"] = -1  # 0 would read as unset and default to 1
    elif case == "unknown-allocation-mode":
        req["exactly"]["allocationMode"] = "Some"
    elif case == "missing-class":
        req["exactly"].pop("deviceClassName")
    elif case == "duplicate-request-names":
        return b.claim_spec([req, copy.deepcopy(req)])
    elif case == "constraint-unknown-request":
        return b.claim_spec([req], constraints=[{"requests": ["nope"], "matchAttribute": "example.com/model"}])
    elif case == "too-many-requests":
        return b.claim_spec([{"name": f"r{i}", "exactly": {"deviceClassName": cls}} for i in range(33)])
    return b.claim_spec([req])


CLAIM_CASES = {
    "no-request-name": "spec.devices.requests[0].name",
    "exactly-and-firstAvailable": "spec.devices.requests[0]",
    "count-negative": "spec.devices.requests[0].exactly.count",
    "unknown-allocation-mode": "spec.devices.requests[0].exactly.allocationMode",
    "missing-class": "spec.devices.requests[0].exactly.deviceClassName",
    # 1.34 names the field (requests[1].name), 1.37's declarative validation the list item.
    "duplicate-request-names": "spec.devices.requests[1]",
    "constraint-unknown-request": "spec.devices.constraints[0].requests[0]",
    "too-many-requests": "spec.devices.requests",
}


@pytest.mark.parametrize("case", list(CLAIM_CASES))
def test_resource_claim_invalidrejected(api, kit, case: str) -> None:
    obj = b.resource_claim(kit.name("bad"), kit.ns, _claim_case(case, "any-class"))
    rejected(lambda: api.create(obj, dry_run=True), CLAIM_CASES[case])


def test_resource_claim_template_crud(api, kit) -> None:
    cls = kit.driver.class_name("gpu")
    name = kit.template([b.request("gpu", cls, count=1)])
    tmpl = api.get("ResourceClaimTemplate", name, kit.ns)
    assert tmpl["spec"]["spec"]["devices"]["requests"][0]["exactly"]["deviceClassName"] == cls
    assert name in [t["metadata"]["name"] for t in api.list("ResourceClaimTemplate", kit.ns)]
    tmpl["spec"]["spec"]["devices"]["requests"][0]["exactly"]["count"] = 2
    rejected(lambda: api.replace(tmpl), "field is immutable")
    assert api.delete("ResourceClaimTemplate", name, kit.ns)
    waits.gone(api, "ResourceClaimTemplate", name, kit.ns)


def test_resource_claim_template_invalidrejected(api, kit) -> None:
    obj = b.claim_template(kit.name("bad"), kit.ns, _claim_case("count-negative", "any-class"))
    rejected(lambda: api.create(obj, dry_run=True), "spec.spec.devices.requests[0].exactly.count")


def _slice(kit: Any, devices: list[dict[str, Any]]) -> dict[str, Any]:
    # A driver name nobody else uses and allNodes: no kubelet or scheduler ever acts on it.
    name = kit.name("crud-slice")
    obj = b.slice_(name, f"{name}.example.com", "unused", devices)
    del obj["spec"]["nodeName"]
    obj["spec"]["allNodes"] = True
    return obj


def test_resource_slice_crud(api, kit) -> None:
    obj = _slice(kit, [{"name": "dev-0", "attributes": {"model": {"string": "crud"}},
                        "capacity": {"memory": {"value": "1Gi"}}}])
    created = kit.create(obj)
    name = created["metadata"]["name"]
    assert created["spec"]["devices"][0]["capacity"]["memory"]["value"] == "1Gi"
    by_driver = api.list("ResourceSlice", fields=f"spec.driver={obj['spec']['driver']}")
    assert [s["metadata"]["name"] for s in by_driver] == [name]
    updated = api.patch("ResourceSlice", name, {"spec": {"pool": {"generation": 2}}})
    assert updated["spec"]["pool"]["generation"] == 2
    assert api.delete("ResourceSlice", name)
    waits.gone(api, "ResourceSlice", name)


SLICE_CASES = {
    "too-many-devices": ([{"name": f"d{i}"} for i in range(129)], "spec.devices"),
    "long-attribute-string": ([{"name": "d", "attributes": {"model": {"string": "x" * 65}}}],
                              "spec.devices[0].attributes[model].string"),
    "attribute-two-values": ([{"name": "d", "attributes": {"model": {"string": "a", "int": 1}}}],
                             "spec.devices[0].attributes[model]"),
    "duplicate-device-names": ([{"name": "d"}, {"name": "d"}], "spec.devices[1]"),  # as above
    "bad-device-name": ([{"name": "Not_A_DNS_Label"}], "spec.devices[0].name"),
}


@pytest.mark.parametrize("case", list(SLICE_CASES))
def test_resource_slice_invalidrejected(api, kit, case: str) -> None:
    devices, needle = SLICE_CASES[case]
    obj = _slice(kit, devices)
    rejected(lambda: api.create(obj, dry_run=True), needle)


def test_resource_slice_without_node_selectionrejected(api, kit) -> None:
    obj = _slice(kit, [{"name": "d"}])
    del obj["spec"]["allNodes"]
    rejected(lambda: api.create(obj, dry_run=True), "spec")
