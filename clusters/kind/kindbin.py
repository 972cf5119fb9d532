"""The kind CLI: the one on PATH when new enough, else built pinned from the Go module proxy."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from clusters.kind.forge import cache as artefacts
from clusters.kind.forge import gobuild
from clusters.kind.forge.versions_data import components
from dra_conformance import proc
from dra_conformance.progress import step


def _version(binary: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"v(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None


def _parse(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.lstrip("v").split("."))


@cache
def kind() -> str:
    """Path of a kind binary at least `kind_min` (components.yaml)."""
    on_path = shutil.which("kind")
    if on_path and (v := _version(on_path)) and v >= _parse(components()["kind_min"]):
        return on_path
    pinned = components()["kind"]

    def build(out: Path) -> None:
        with step(f"Building kind {pinned} from the Go module proxy"):
            proc.run([gobuild.require_go(), "install", f"sigs.k8s.io/kind@{pinned}"],
                     env={**gobuild.go_env(), "GOBIN": str(out / "bin")}, log=out / "build.log")

    return str(artefacts.artefact("kind", pinned, build) / "bin" / "kind")
