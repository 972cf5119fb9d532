"""Device taints the driver publishes on its own devices (KEP-5055), as set through the control surface.

A taint is hardware state like health: it lives in the device's spec in the inventory, so every
republish (the reconciler's too) carries it, and a driver restart starts untainted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from drivers.fake_gpu.device_edit import with_fields
from drivers.fake_gpu.profiles import Inventory

EFFECTS = ("NoSchedule", "NoExecute", "None")  # "None": informational, from 1.35 on
_FIELDS = {"key", "value", "effect", "timeAdded"}


def tainted(inv: Inventory, device: str, taints: list[dict[str, Any]]) -> Inventory:
    """`inv` with `device`'s taints replaced by `taints` ([] removes them).

    A taint without timeAdded gets it now: the API server would fill in the time of each write,
    and a republish would restart every toleration's tolerationSeconds."""
    for t in taints:
        if not isinstance(t, dict) or set(t) - _FIELDS or not t.get("key") or t.get("effect") not in EFFECTS:
            raise ValueError(f"bad taint {t!r}: needs key and effect ({'|'.join(EFFECTS)}), may have value, "
                             f"timeAdded")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # the server keeps whole seconds
    return with_fields(inv, device, {"taints": [{"timeAdded": now, **t} for t in taints]})


def taints_of(inv: Inventory, device: str) -> list[dict[str, Any]]:
    found = inv.device(device)
    return list(found.spec.get("taints") or []) if found else []
