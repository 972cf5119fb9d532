"""Derived attributes (KEP-6080): a request computes an attribute per candidate device with CEL, for
its matchAttribute and distinctAttribute constraints to compare, e.g. the NUMA node of devices from
two drivers that name it differently.

The allocator alone decides, so the tests publish the pools themselves (fixtures/synthetic_driver.py);
the pods are scheduled and never run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures.kubeapi import rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("derived_attributes")
DERIVED = "derived.dra-conformance.io/numa"


def _driver(kit: Kit, attribute: str, values: list[str]) -> SyntheticDriver:
    drv = SyntheticDriver(kit, "derived")
    drv.publish("numa", [{"name": f"dev-{i}", "attributes": {attribute: {"string": v}}} for i, v in enumerate(values)])
    return drv


def _request(name: str, drv: SyntheticDriver, attribute: str) -> dict[str, Any]:
    req = b.request(name, drv.device_class)
    req["exactly"]["derivedAttributes"] = [{"name": DERIVED, "expression": drv.attr(attribute)}]
    return req


def test_match_on_an_attribute_derived_from_differently_named_ones(kit) -> None:
    """Only numa-1 is on both drivers: devices a/dev-1 and b/dev-0."""
    a, c = _driver(kit, "numa", ["numa-0", "numa-1"]), _driver(kit, "numaNode", ["numa-1", "numa-2"])
    spec = b.claim_spec([_request("a", a, "numa"), _request("b", c, "numaNode")],
                        constraints=[{"requests": ["a", "b"], "matchAttribute": DERIVED}])
    created = kit.create(b.resource_claim(kit.name("claim"), kit.ns, spec))
    if not created["spec"]["devices"]["requests"][0]["exactly"].get("derivedAttributes"):
        pytest.skip("the apiserver dropped derivedAttributes: DRADerivedAttributes is off there")
    claim = created["metadata"]["name"]
    kit.pod({"dev": b.from_claim(claim)})
    results = kit.allocated(claim)["status"]["allocation"]["devices"]["results"]
    assert {r["request"]: (r["driver"], r["device"]) for r in results} == \
        {"a": (a.name, "dev-1"), "b": (c.name, "dev-0")}, results


def test_a_derived_attribute_no_constraint_uses_is_rejected(kit) -> None:
    a = _driver(kit, "numa", ["numa-0"])
    claim = b.resource_claim(kit.name("claim"), kit.ns, b.claim_spec([_request("a", a, "numa")]))
    rejected(lambda: kit.api.create(claim, dry_run=True), "must be referenced by at least one matchAttribute")
