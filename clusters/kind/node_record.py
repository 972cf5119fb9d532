"""Which node image a cluster got and how: `node-image.json` next to its rendered config, read into
the run's metadata (the matrix column's `node_image`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from dra_conformance.paths import cache_dir

_FILE = "node-image.json"


@dataclass(frozen=True)
class NodeImage:
    image: str
    source: str    # kindest | forge | given (--node-image)
    obtained: str  # pulled | built | cached (already local) | given
    why: str       # why this source (cluster creation's note)


def _path(name: str) -> Path:
    return cache_dir("clusters") / name / _FILE  # written once the cluster's state directory exists


def write(name: str, node: NodeImage) -> None:
    tmp = _path(name).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(node), indent=2) + "\n")
    tmp.replace(_path(name))


def read(name: str) -> NodeImage | None:
    try:
        return NodeImage(**json.loads(_path(name).read_text()))
    except (OSError, ValueError, TypeError):
        return None
