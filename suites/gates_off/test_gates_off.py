"""With an alpha gate off (the default profile), its fields are dropped on write or the object is rejected.

Writes are dry runs: the API server applies the same field dropping and validation, and nothing
is left behind. Each test runs only where its gate exists and is off (`feature_off`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fixtures import builders as b
from fixtures.kubeapi import ApiError


def dropped_or_rejected(api: Any, obj: dict[str, Any], field: Callable[[dict[str, Any]], Any],
                        *mentions: str) -> str:
    """Dropped: the stored object lacks the field. Rejected: 422 naming the field (or where it was)."""
    try:
        stored = api.create(obj, dry_run=True)
    except ApiError as exc:
        assert exc.status == 422, f"expected the field to be dropped or the object rejected as invalid: {exc}"
        assert any(m in exc.message for m in mentions), f"rejected, but not for the gated field {mentions}: {exc}"
        return "rejected"
    assert not field(stored), f"gated field survived the write: {field(stored)!r}"
    return "dropped"


def _slice(ns_name: str, device: dict[str, Any], **spec: Any) -> dict[str, Any]:
    obj = b.slice_(f"{ns_name}-gate", "gates-off.example.com", "unused", [device])
    del obj["spec"]["nodeName"]
    obj["spec"].update(allNodes=True, **spec)
    return obj


def _device(obj: dict[str, Any]) -> dict[str, Any]:
    return (obj["spec"].get("devices") or [{}])[0]


@pytest.mark.feature_off("extended_resource")
def test_extended_resource_name_dropped(api, ns) -> None:
    obj = b.device_class(f"{ns}-ext", extended_resource_name="dra-conformance.io/gated")
    dropped_or_rejected(api, obj, lambda o: o["spec"].get("extendedResourceName"),
                        "extendedResourceName")


@pytest.mark.feature_off("consumable_capacity")
def test_allow_multiple_allocations_dropped(api, ns) -> None:
    dev = {"name": "d", "allowMultipleAllocations": True,
           "capacity": {"bw": {"value": "10G", "requestPolicy": {"default": "1G"}}}}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: _device(o).get("allowMultipleAllocations")
                        or _device(o).get("capacity", {}).get("bw", {}).get("requestPolicy"),
                        "allowMultipleAllocations", "requestPolicy")


@pytest.mark.feature_off("consumable_capacity")
def test_capacity_request_in_claim_dropped(api, ns) -> None:
    obj = b.resource_claim("gated", ns, b.claim_spec([b.request("r", "any-class", capacity={"bw": "1G"})]))
    dropped_or_rejected(api, obj, lambda o: o["spec"]["devices"]["requests"][0]["exactly"].get("capacity"),
                        "capacity")


@pytest.mark.feature_off("consumable_capacity")
def test_distinct_attribute_constraint_dropped(api, ns) -> None:
    obj = b.resource_claim("gated", ns, b.claim_spec(
        [b.request("r", "any-class", count=2)], constraints=[{"requests": ["r"], "distinctAttribute": "x.io/a"}]))
    dropped_or_rejected(api, obj, lambda o: (o["spec"]["devices"].get("constraints") or [{}])[0]
                        .get("distinctAttribute"), "distinctAttribute", "constraints[0]")


@pytest.mark.feature_off("partitionable_devices")
def test_shared_counters_dropped(api, ns) -> None:
    dev = {"name": "d", "consumesCounters": [{"counterSet": "s", "counters": {"mem": {"value": "1Gi"}}}]}
    obj = _slice(ns, dev, sharedCounters=[{"name": "s", "counters": {"mem": {"value": "4Gi"}}}])
    dropped_or_rejected(api, obj, lambda o: o["spec"].get("sharedCounters") or _device(o).get("consumesCounters"),
                        "sharedCounters", "consumesCounters")


@pytest.mark.feature_off("device_taints")
def test_device_taints_dropped(api, ns) -> None:
    dev = {"name": "d", "taints": [{"key": "example.com/broken", "value": "yes", "effect": "NoSchedule"}]}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: _device(o).get("taints"), "taints")


@pytest.mark.feature_off("device_taints")
def test_tolerations_in_claim_dropped(api, ns) -> None:
    req = b.request("r", "any-class")
    req["exactly"]["tolerations"] = [{"key": "example.com/broken", "operator": "Exists", "effect": "NoSchedule"}]
    obj = b.resource_claim("gated", ns, b.claim_spec([req]))
    dropped_or_rejected(api, obj, lambda o: o["spec"]["devices"]["requests"][0]["exactly"].get("tolerations"),
                        "tolerations")


@pytest.mark.feature_off("binding_conditions")
def test_binding_conditions_dropped(api, ns) -> None:
    dev = {"name": "d", "bindingConditions": ["example.com/ready"], "bindingFailureConditions": ["example.com/failed"],
           "bindsToNode": True}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: _device(o).get("bindingConditions")
                        or _device(o).get("bindsToNode"), "bindingConditions", "bindsToNode")


@pytest.mark.prepares
@pytest.mark.feature_off("resource_health")
def test_no_health_in_pod_status(kit) -> None:
    pod = kit.pod({"gpu": b.from_template(kit.template([kit.pinned_request()]))})
    running = kit.running(pod)
    for cs in running["status"].get("containerStatuses") or []:
        assert not cs.get("allocatedResourcesStatus"), cs


@pytest.mark.feature_off("optional_node_operations")
def test_skip_node_operations_dropped(api, ns) -> None:
    dropped_or_rejected(api, _slice(ns, {"name": "d"}, skipNodeOperations=["*"]),
                        lambda o: o["spec"].get("skipNodeOperations"), "skipNodeOperations")


@pytest.mark.feature_off("compatibility_groups")
def test_compatibility_groups_dropped(api, ns) -> None:
    dev = {"name": "d", "consumesCounters": [{"counterSet": "s", "counters": {"mem": {"value": "1"}},
                                              "compatibilityGroups": ["mig"]}]}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: any(
        u.get("compatibilityGroups") for u in _device(o).get("consumesCounters") or []), "compatibilityGroups")


@pytest.mark.feature_off("list_type_attributes")
def test_list_type_attribute_rejected(api, ns) -> None:
    """The server strips the list, and an attribute without a value is invalid."""
    dev = {"name": "d", "attributes": {"models": {"strings": ["a100", "h100"]}}}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: _device(o).get("attributes", {}).get("models"),
                        "attributes")


@pytest.mark.feature_off("partitionable_devices_type")
def test_partition_type_attribute_dropped(api, ns) -> None:
    dev = {"name": "d", "attributes": {"profile": {"string": "Full"}},
           "consumesCounters": [{"counterSet": "s", "counters": {"mem": {"value": "1"}}}]}
    dropped_or_rejected(api, _slice(ns, dev, partitionTypeAttribute="gates-off.example.com/profile"),
                        lambda o: o["spec"].get("partitionTypeAttribute"), "partitionTypeAttribute")


@pytest.mark.feature_off("node_allocatable")
def test_node_allocatable_resources_dropped(api, ns) -> None:
    """1.37's field; the server drops 1.36's name as unknown too."""
    dev = {"name": "d", "nodeAllocatableResources": {"cpu": {"mapping": {"deviceMultiplier": "1"}}}}
    dropped_or_rejected(api, _slice(ns, dev), lambda o: _device(o).get("nodeAllocatableResources"),
                        "nodeAllocatableResources")


@pytest.mark.feature_off("derived_attributes")
def test_derived_attributes_dropped(api, ns) -> None:
    req = b.request("r", "any-class")
    req["exactly"]["derivedAttributes"] = [{"name": "derived.example.com/numa", "expression": "1"}]
    obj = b.resource_claim("gated", ns, b.claim_spec([req], constraints=[
        {"requests": ["r"], "matchAttribute": "derived.example.com/numa"}]))
    dropped_or_rejected(api, obj, lambda o: o["spec"]["devices"]["requests"][0]["exactly"].get("derivedAttributes"),
                        "derivedAttributes")
