"""The kind CLI: the one on PATH when new enough, else built pinned from the Go module proxy."""

from __future__ import annotations

from functools import cache

from clusters.kind.forge.gotool import tool
from clusters.kind.forge.versions_data import components


@cache
def kind() -> str:
    """Path of a kind binary at least `kind_min` (components.yaml)."""
    return tool("kind", "sigs.k8s.io/kind", components()["kind"], components()["kind_min"])
