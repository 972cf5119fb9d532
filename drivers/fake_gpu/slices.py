"""Turn an Inventory into the ResourceSlice objects (resource.k8s.io/v1 dicts) of this node's pool."""

from __future__ import annotations

import copy
import re
from typing import Any

from drivers.fake_gpu.capabilities import Capabilities
from drivers.fake_gpu.profiles import Inventory

API_VERSION = "resource.k8s.io/v1"
MAX_DEVICES = 128            # per slice (API validation limit)
MAX_DEVICES_COUNTERS = 64    # per slice when devices consume counters
MAX_COUNTER_SETS = 8         # per slice
LABEL_DRIVER = "dra-conformance.io/driver"


def slice_name(node: str, driver: str, index: int) -> str:
    return f"{node}-{driver}-{index}"[:253]


def driver_label(driver: str) -> str:
    """Label values are limited to 63 chars of [A-Za-z0-9._-]; driver names are DNS subdomains."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", driver)[:63]
    return value.strip("-._") or "driver"


def device_specs(inv: Inventory, caps: Capabilities) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(devices, counter sets) with the fields the server would drop removed.

    Without partitionable devices only the device consuming a whole counter set survives (as a
    plain device): publishing the partitions too would let the scheduler hand out the same
    memory twice.
    """
    devices = [copy.deepcopy(d.spec) for d in inv.devices]
    sets = copy.deepcopy(inv.counter_sets)
    if not caps.fractional_capacity:
        # Read in whole units, 100m is 1: such a policy would hand out the capacity whole.
        for d in devices:
            d["capacity"] = {c: v for c, v in d.get("capacity", {}).items() if not _fractional(v)}
    if not caps.consumable_capacity:
        for d in devices:
            d.pop("allowMultipleAllocations", None)
            for cap in d.get("capacity", {}).values():
                cap.pop("requestPolicy", None)
    dropped = [f for served, fields in ((caps.device_taints, ("taints",)), (caps.binding_conditions, (
        "bindsToNode", "bindingConditions", "bindingFailureConditions"))) if not served for f in fields]
    for d in devices:
        for f in dropped:
            d.pop(f, None)
    if not caps.partitionable_devices:
        whole = {s["name"]: s["counters"] for s in sets}
        kept = []
        for d in devices:
            uses = d.pop("consumesCounters", [])
            if all(u["counters"] == whole.get(u["counterSet"]) for u in uses):
                kept.append(d)
        devices, sets = kept, []
    return devices, sets


def build(driver: str, node: str, inv: Inventory, caps: Capabilities, generation: int,
          owner: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The complete pool: every slice carries the same generation and resourceSliceCount."""
    devices, sets = device_specs(inv, caps)
    groups: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
    if sets and caps.counters_in_separate_slice:
        groups += [([], sets[i:i + MAX_COUNTER_SETS]) for i in range(0, len(sets), MAX_COUNTER_SETS)]
        groups += [(chunk, []) for chunk in _typed_chunks(devices, _limit(devices))]
    elif sets:
        groups += _pack_with_counters(devices, sets)
    else:
        groups += [(chunk, []) for chunk in _typed_chunks(devices, MAX_DEVICES)]
    if not groups:
        groups = [([], [])]  # an empty pool still says "this node has nothing", which is news too
    out = []
    for i, (devs, counter_sets) in enumerate(groups):
        spec: dict[str, Any] = {
            "driver": driver, "nodeName": node,
            "pool": {"name": node, "generation": generation, "resourceSliceCount": len(groups)},
        }
        if devs:
            spec["devices"] = devs
        if counter_sets:
            spec["sharedCounters"] = counter_sets
        meta: dict[str, Any] = {"name": slice_name(node, driver, i),
                                "labels": {LABEL_DRIVER: driver_label(driver)}}
        if owner:
            meta["ownerReferences"] = [owner]
        out.append({"apiVersion": API_VERSION, "kind": "ResourceSlice", "metadata": meta, "spec": spec})
    return out


def _fractional(capacity: dict[str, Any]) -> bool:
    policy = capacity.get("requestPolicy") or {}
    values = [policy.get("default"), *(policy.get("validRange") or {}).values(), *(policy.get("validValues") or [])]
    return any(isinstance(v, str) and v.endswith("m") for v in values)


def _limit(devices: list[dict[str, Any]]) -> int:
    advanced = any("consumesCounters" in d or "taints" in d for d in devices)
    return MAX_DEVICES_COUNTERS if advanced else MAX_DEVICES


def _typed_chunks(devices: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """One slice (or more) per device type, as real drivers publish their hardware.

    It also matters: kube-scheduler 1.34's consumable-capacity check reads the capacity of the
    slice's device at the request's device index instead of the candidate device, so a shared NIC
    behind GPUs in one slice is never allocatable there (fixed in 1.35's allocator).
    """
    kinds = dict.fromkeys(_type(d) for d in devices)
    return [chunk for kind in kinds for chunk in _chunks([d for d in devices if _type(d) == kind], size)]


def _type(device: dict[str, Any]) -> str:
    return device.get("attributes", {}).get("type", {}).get("string", "")


def _chunks(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i:i + size] for i in range(0, len(items), size)] or []


def _pack_with_counters(devices: list[dict[str, Any]], sets: list[dict[str, Any]]
                        ) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """1.34 layout: a counter set travels in the slice of the devices that consume it; the other
    devices go into slices of their own type (see _typed_chunks)."""
    by_set: dict[str, list[dict[str, Any]]] = {s["name"]: [] for s in sets}
    loose = []
    for d in devices:
        uses = d.get("consumesCounters", [])
        (by_set[uses[0]["counterSet"]] if uses else loose).append(d)
    groups: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = [([], [])]
    for s in sets:
        devs, cur_sets = groups[-1]
        members = by_set[s["name"]]
        if len(devs) + len(members) > MAX_DEVICES_COUNTERS or len(cur_sets) >= MAX_COUNTER_SETS:
            groups.append(([], []))
            devs, cur_sets = groups[-1]
        devs += members
        cur_sets.append(s)
    groups += [(chunk, []) for chunk in _typed_chunks(loose, MAX_DEVICES_COUNTERS)]
    return [g for g in groups if g[0] or g[1]]
