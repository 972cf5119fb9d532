"""A Go CLI the harness runs (kind, helm): the one on PATH when new enough, else built pinned from
the Go module proxy into the artefact cache."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from clusters.kind.forge import cache as artefacts
from clusters.kind.forge import gobuild
from dra_conformance import proc
from dra_conformance.progress import step


def _version(binary: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"v(\d+)\.(\d+)(?:\.(\d+))?", out)  # helm built by `go install` says only v3.22
    return tuple(int(x or 0) for x in m.groups()) if m else None


def _parse(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.lstrip("v").split("."))


def tool(binary: str, package: str, pinned: str, minimum: str) -> str:
    """Path of `binary` at least `minimum`: from PATH, else `go install package@pinned` (cached)."""
    on_path = shutil.which(binary)
    if on_path and (v := _version(on_path)) and v >= _parse(minimum):
        return on_path

    def build(out: Path) -> None:
        with step(f"Building {binary} {pinned} from the Go module proxy"):
            proc.run([gobuild.require_go(), "install", f"{package}@{pinned}"],
                     env={**gobuild.go_env(), "GOBIN": str(out / "bin")}, log=out / "build.log")

    return str(artefacts.artefact(binary, pinned, build) / "bin" / binary)
