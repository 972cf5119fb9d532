"""Change fields of one device as published, in a copy of the inventory (taints, binding conditions)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from drivers.fake_gpu.profiles import Inventory


def with_fields(inv: Inventory, device: str, fields: dict[str, Any]) -> Inventory:
    """`inv` with `device`'s spec fields set to `fields`; a None or empty value removes the field."""
    if inv.device(device) is None:
        raise KeyError(f"no device {device!r}")
    out = []
    for d in inv.devices:
        if d.name == device:
            spec = {k: v for k, v in d.spec.items() if k not in fields}
            spec.update({k: copy.deepcopy(v) for k, v in fields.items() if v not in (None, [], False)})
            d = replace(d, spec=spec)
        out.append(d)
    return replace(inv, devices=out)
