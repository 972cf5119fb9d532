"""Device profiles: expand profiles/<name>.yaml into the node's fake hardware (an Inventory).

The YAML holds the data (attributes, capacities, policies, classes); this module only knows how to
repeat a group `count` times, fill the templates, and cut GPUs into counter-backed partitions.
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "": 1}


@dataclass
class FakeDevice:
    """One device as the API sees it (`spec`: a resource.k8s.io/v1 Device) plus driver-side extras."""

    spec: dict[str, Any]
    type: str = ""
    status: dict[str, Any] = field(default_factory=dict)  # status.devices[] extras: data, networkData

    @property
    def name(self) -> str:
        return self.spec["name"]

    @classmethod
    def from_api(cls, spec: dict[str, Any], status: dict[str, Any] | None = None) -> FakeDevice:
        kind = spec.get("attributes", {}).get("type", {}).get("string", "")
        return cls(spec=copy.deepcopy(spec), type=kind, status=copy.deepcopy(status or {}))

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec, "type": self.type, "status": self.status}


@dataclass
class Inventory:
    """What the node's fake hardware is right now: devices and the counter sets they consume."""

    profile: str
    devices: list[FakeDevice]
    counter_sets: list[dict[str, Any]] = field(default_factory=list)
    device_classes: list[str] = field(default_factory=list)
    health_timeout_seconds: int = 30

    def device(self, name: str) -> FakeDevice | None:
        return next((d for d in self.devices if d.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"profile": self.profile, "devices": [d.to_json() for d in self.devices],
                "counterSets": self.counter_sets, "deviceClasses": self.device_classes,
                "healthTimeoutSeconds": self.health_timeout_seconds}


def available() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    """The profile's YAML with `include`s resolved into one `groups` map."""
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown device profile {name!r}; available: {', '.join(available())}")
    data = yaml.safe_load(path.read_text())
    if "include" in data:
        groups: dict[str, Any] = {}
        classes: list[str] = []
        for inc in data["include"]:
            sub = load(inc)
            groups.update(sub["groups"])
            classes += sub.get("deviceClasses", [])
            data.setdefault("health", sub.get("health", {}))
        data["groups"] = groups
        data.setdefault("deviceClasses", classes)
    for gname, opts in (data.get("options") or {}).items():
        data["groups"][gname]["options"] = {**data["groups"][gname].get("options", {}), **opts}
    return data


def build(name: str, node: str, options: dict[str, dict[str, Any]] | None = None) -> Inventory:
    """Expand profile `name` for `node`; `options` overrides group options, e.g. {"gpu": {"count": 8}}."""
    prof = load(name)
    options = options or {}
    unknown = set(options) - set(prof["groups"])
    if unknown:
        raise ValueError(f"profile {name!r} has no device group(s) {sorted(unknown)}")
    inv = Inventory(profile=name, devices=[], device_classes=list(prof.get("deviceClasses", [])),
                    health_timeout_seconds=int(prof.get("health", {}).get("timeoutSeconds", 30)))
    for gname, group in prof["groups"].items():
        opts = {**group.get("options", {}), **options.get(gname, {})}
        for i in range(int(opts.get("count", 0))):
            _expand(inv, gname, group, opts, node, i)
    return inv


def _expand(inv: Inventory, gname: str, group: dict[str, Any], opts: dict[str, Any], node: str,
            i: int) -> None:
    env = _template_vars(node, gname, i, int(group.get("pciBusBase", 0)))
    spec: dict[str, Any] = {
        "name": f"{group['namePrefix']}{i}",
        "attributes": _fill(group.get("attributes", {}), env),
        "capacity": _fill(group.get("capacity", {}), env),
    }
    status = _fill(group.get("deviceStatus", {}), env)
    if opts.get("consumable"):
        spec["allowMultipleAllocations"] = True
        for cap, policy in group.get("consumable", {}).get("requestPolicy", {}).items():
            spec["capacity"][cap]["requestPolicy"] = copy.deepcopy(policy)
    parts = int(opts.get("partitions", 0) or 0)
    # `partitioned`: how many of the group's devices, counted from the last, are cut (default all)
    count = int(opts.get("count", 0))
    partitioned = count if opts.get("partitioned") is None else int(opts["partitioned"])
    if parts > 0 and i >= count - partitioned:
        counters = group["partition"]["counters"]
        set_name = f"{spec['name']}-counters"
        whole = {c: {"value": spec["capacity"][c]["value"]} for c in counters}
        inv.counter_sets.append({"name": set_name, "counters": whole})
        spec["consumesCounters"] = [{"counterSet": set_name, "counters": copy.deepcopy(whole)}]
        inv.devices.append(FakeDevice(spec=spec, type=gname, status=status))
        share = {c: {"value": divide_quantity(spec["capacity"][c]["value"], parts)} for c in counters}
        for j in range(parts):
            pspec = copy.deepcopy(spec)
            pspec.pop("allowMultipleAllocations", None)  # a partition is exclusive
            pspec["name"] = f"{spec['name']}-part-{j}"
            pspec["attributes"]["type"] = {"string": group["partition"]["type"]}
            pspec["attributes"]["parentIndex"] = {"int": i}
            pspec["attributes"]["index"] = {"int": j}
            if "uuid" in pspec["attributes"]:
                pspec["attributes"]["uuid"] = {"string": f"{spec['attributes']['uuid']['string']}-p{j}"}
            for c in counters:
                pspec["capacity"][c] = dict(share[c])
            pspec["consumesCounters"] = [{"counterSet": set_name, "counters": copy.deepcopy(share)}]
            inv.devices.append(FakeDevice(spec=pspec, type=group["partition"]["type"], status=status))
        return
    inv.devices.append(FakeDevice(spec=spec, type=gname, status=status))


def _template_vars(node: str, group: str, i: int, pci_base: int) -> dict[str, Any]:
    seed = hashlib.sha256(f"{node}/{group}/{i}".encode()).digest()
    mac = "02:" + ":".join(f"{b:02x}" for b in seed[:5])  # locally administered, unicast
    return {"i": i, "node": node, "uuid": str(uuid.UUID(bytes=seed[:16], version=5)),
            "pci_bus": pci_base + i, "mac": mac, "node_octet": seed[5] % 250 + 1}


def _fill(value: Any, env: dict[str, Any]) -> Any:
    """Format every template string; `int:` attributes become ints after formatting."""
    if isinstance(value, dict):
        out = {k: _fill(v, env) for k, v in value.items()}
        if set(out) == {"int"} and isinstance(out["int"], str):
            out["int"] = int(out["int"])
        return out
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    if isinstance(value, str) and "{" in value:
        return value.format(**env)
    return value


def parse_quantity(q: str | int) -> int:
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|)", str(q))
    if not m:
        raise ValueError(f"unsupported quantity {q!r} (integer with an optional k/M/G/T/P or Ki..Pi suffix)")
    return int(m.group(1)) * _SUFFIXES[m.group(2)]


def format_quantity(n: int) -> str:
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        if n % _SUFFIXES[suffix] == 0:
            return f"{n // _SUFFIXES[suffix]}{suffix}"
    return str(n)


def divide_quantity(q: str, parts: int) -> str:
    total = parse_quantity(q)
    if total % parts:
        raise ValueError(f"{q} cannot be split into {parts} equal partitions")
    return format_quantity(total // parts)
