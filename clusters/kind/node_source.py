"""Where a cluster's node image comes from: kindest/node (pulled) or the offline forge (built).

The choice alone, nothing pulled or built: cluster.py acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from clusters.kind.config import ClusterSpec
from dra_conformance.errors import HarnessError

SOURCES = ("auto", "kindest", "forge")
PUBLISHED = Path(__file__).with_name("kindest_images.yaml")


@dataclass(frozen=True)
class Choice:
    source: str     # kindest | forge: what to try first
    fallback: bool  # a kindest pull that fails may still go to the forge
    why: str


@cache
def _published() -> dict[str, Any]:
    return yaml.safe_load(PUBLISHED.read_text())


def kind_release() -> str:
    """The kind release whose published images kindest_images.yaml lists."""
    return str(_published()["kind"])


def published(patch: str) -> bool:
    """Whether the pinned kind release publishes kindest/node:<patch>."""
    return patch in _published()["tags"]


def choose(spec: ClusterSpec, source: str = "auto") -> Choice:
    """kindest for a published patch on cgroup v2 hosts (`auto`), or when asked for; else the forge.

    On cgroup v1 hosts `auto` goes to the forge: current kindest/node images are Debian trixie,
    whose systemd (257) refuses to boot on cgroup v1; the forge's bookworm node does not.
    """
    if source not in SOURCES:
        raise HarnessError(f"unknown image source {source!r}; choose from {', '.join(SOURCES)}")
    patch = spec.release.patch
    if source == "forge":
        return Choice("forge", False, "--image-source forge")
    if source == "kindest":
        return Choice("kindest", False, "--image-source kindest")
    if spec.host_cgroup == 1:
        return Choice("forge", False, "cgroup v1 host (kindest/node's systemd does not boot there)")
    if not published(patch):
        return Choice("forge", False, f"kind {kind_release()} publishes no kindest/node:{patch}")
    return Choice("kindest", True, f"kind {kind_release()} publishes kindest/node:{patch}")
