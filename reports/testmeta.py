"""A test's DRA labels read from its markers: feature, maturity, required capabilities, whether it
exercises the driver (`prepares`: the driver prepares a device on a node) or only the API server,
and whether it belongs to the minimum contract tier (`contract`)."""

from __future__ import annotations

from typing import Any

import pytest

MATURITIES = ("ga", "beta", "alpha")


def marker_meta(item: pytest.Item) -> dict[str, Any]:
    feature_mark = item.get_closest_marker("feature")
    feature = str(feature_mark.args[0]) if feature_mark and feature_mark.args else None
    off_mark = item.get_closest_marker("feature_off")
    if feature is None and off_mark and off_mark.args:
        feature = f"{off_mark.args[0]} (gate off)"  # gates-off checks get their own matrix row
    maturity = next((m for m in MATURITIES if item.get_closest_marker(m)), None)
    caps: list[str] = []
    for mark in item.iter_markers("capability"):
        caps += [str(a) for a in mark.args if str(a) not in caps]
    return {"feature": feature, "maturity": maturity, "capabilities": caps,
            "exercises": "driver" if item.get_closest_marker("prepares") else "api",
            "contract": item.get_closest_marker("contract") is not None}
