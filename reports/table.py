"""Read-only lookups in the harness's version table (clusters/kind/versions.yaml), tolerant of its
absence: reports must still be written when the table is missing or malformed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

VERSIONS_YAML = Path(__file__).resolve().parents[1] / "clusters" / "kind" / "versions.yaml"


@cache
def _table() -> dict[str, Any]:
    try:
        data = yaml.safe_load(VERSIONS_YAML.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def feature_order() -> list[str]:
    """Feature keys in the order of the table's `features:` section."""
    features = _table().get("features")
    if isinstance(features, dict):
        return [str(k) for k in features]
    if isinstance(features, list):
        return [str(f.get("key", f.get("name"))) if isinstance(f, dict) else str(f) for f in features]
    return []


def default_k8s_version() -> str | None:
    """What the harness tests when --k8s-version is not given (names the run directory)."""
    value = _table().get("default_version")
    return str(value) if value else None
