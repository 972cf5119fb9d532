"""List-type attributes (KEP-5491): an attribute may hold a list of ints, bools, strings or versions.

CEL sees the list (`in`, `exists`), matchAttribute needs a value common to every chosen device, and
distinctAttribute lists that share none. The allocator alone decides, so the tests publish the pools
themselves (fixtures/synthetic_driver.py); the pods are scheduled and never run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from fixtures import builders as b
from fixtures import waits
from fixtures.kubeapi import ApiError, rejected
from fixtures.synthetic_driver import SyntheticDriver

if TYPE_CHECKING:
    from fixtures.objects import Kit

pytestmark = pytest.mark.feature("list_type_attributes")
# Only dev-0 and dev-1 share a model; only dev-1 and dev-2 share no NUMA node.
DEVICES = [
    {"name": "dev-0", "attributes": {"models": {"strings": ["a100", "h100"]}, "numa": {"ints": [0, 1]}}},
    {"name": "dev-1", "attributes": {"models": {"strings": ["h100", "l4"]}, "numa": {"ints": [1]}}},
    {"name": "dev-2", "attributes": {"models": {"strings": ["t4"]}, "numa": {"ints": [0]}}},
]


def _pool(kit: Kit) -> SyntheticDriver:
    drv = SyntheticDriver(kit, "list")
    try:
        drv.publish("list", DEVICES)
    except ApiError as exc:
        # With the gate off the server strips the list and then finds the attribute empty.
        if exc.status == 422 and "exactly one value must be specified" in exc.message:
            pytest.skip("the apiserver strips list-type attributes: DRAListTypeAttributes is off there")
        raise
    return drv


def _allocated(kit: Kit, requests: list[dict[str, Any]], **kw: Any) -> list[str]:
    """The devices the claim got, once its pod is scheduled; fails at the first "unschedulable"."""
    claim = kit.claim(requests, **kw)
    pod = kit.pod({"dev": b.from_claim(claim)})
    p = waits.pod(kit.api, kit.ns, pod, lambda p: bool(p["spec"].get("nodeName")) or (
        waits.scheduled_condition(p) or {}).get("reason") == "Unschedulable", "to be scheduled", "pod_pending_reason")
    assert p["spec"].get("nodeName"), f"the claim was not allocated: {waits.scheduled_condition(p)}"
    return sorted(r["device"] for r in kit.allocated(claim)["status"]["allocation"]["devices"]["results"])


@pytest.mark.parametrize("expression", ['"a100" in {models}', '{models}.exists(m, m == "a100")'],
                         ids=["in", "exists"])
def test_cel_selects_by_a_member_of_the_list(kit, expression: str) -> None:
    drv = _pool(kit)
    selector = b.cel(expression.format(models=drv.attr("models")))
    assert _allocated(kit, [b.request("dev", drv.device_class, selectors=[selector])]) == ["dev-0"]


def test_match_attribute_needs_a_value_every_device_has(kit) -> None:
    drv = _pool(kit)
    match = [{"requests": ["dev"], "matchAttribute": drv.qualified("models")}]
    assert _allocated(kit, [b.request("dev", drv.device_class, count=2)], constraints=match) == ["dev-0", "dev-1"]


def test_distinct_attribute_needs_lists_that_share_nothing(kit) -> None:
    drv = _pool(kit)
    distinct = [{"requests": ["dev"], "distinctAttribute": drv.qualified("numa")}]
    assert _allocated(kit, [b.request("dev", drv.device_class, count=2)], constraints=distinct) == ["dev-1", "dev-2"]


def test_no_value_common_to_all_leaves_the_claim_unallocated(kit) -> None:
    drv = _pool(kit)
    match = [{"requests": ["dev"], "matchAttribute": drv.qualified("models")}]
    claim = kit.claim([b.request("dev", drv.device_class, count=3)], constraints=match)
    pod = kit.pod({"dev": b.from_claim(claim)})
    waits.pod_unschedulable(kit.api, kit.ns, pod, "cannot allocate all claims")
    assert not kit.api.get("ResourceClaim", claim, kit.ns).get("status", {}).get("allocation")


def test_more_than_48_values_on_a_device_are_rejected(kit) -> None:
    drv = _pool(kit)
    big = [{"name": "dev-0", "attributes": {"numbers": {"ints": list(range(49))}}}]
    rejected(lambda: drv.publish("big", big), "48")
