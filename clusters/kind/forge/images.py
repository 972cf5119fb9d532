"""Docker images built without a registry: import a rootfs, or build FROM a local image."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from clusters.kind import host
from clusters.kind.forge import cache
from dra_conformance import proc
from dra_conformance.errors import HarnessError


def exists(tag: str) -> bool:
    return subprocess.run([host.docker(), "image", "inspect", tag], capture_output=True).returncode == 0


def ensure(tag: str, build: Callable[[], object]) -> str:
    """`tag` from the engine, or built by `build` first; one builder per tag across processes."""
    if not exists(tag):
        with cache.locked("image-locks", tag):
            if not exists(tag):
                build()
    return tag


def prune(repo: str, prefix: str, keep: str) -> None:
    """Remove older builds (`repo:prefix*` other than `keep`); ones still in use stay."""
    tags = subprocess.run([host.docker(), "images", "--format", "{{.Repository}}:{{.Tag}}", repo],
                          capture_output=True, text=True).stdout.split()
    stale = [t for t in tags if t != keep and t.startswith(f"{repo}:{prefix}")]
    if stale:
        subprocess.run([host.docker(), "rmi", *stale], capture_output=True)


def import_rootfs(rootfs: Path, tag: str, *, log: Path, changes: tuple[str, ...] = ()) -> None:
    """`docker import` a directory tree as a single-layer image."""
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    args = [host.docker(), "import"]
    for change in changes:
        args += ["--change", change]
    with log.open("ab") as out:
        res = subprocess.run([*args, "-", tag], stdin=tar.stdout, stdout=out, stderr=subprocess.STDOUT)
    tar.wait()
    if res.returncode or tar.returncode:
        raise HarnessError(f"docker import of {rootfs} as {tag} failed (log: {log})")


def build(tag: str, dockerfile: str, context: dict[str, Path] | None = None, *, log: Path) -> None:
    """Classic-builder `docker build` (FROM a local image works offline) with files copied in."""
    with tempfile.TemporaryDirectory(prefix="dra-image-") as tmp:
        ctx = Path(tmp)
        (ctx / "Dockerfile").write_text(dockerfile)
        for name, src in (context or {}).items():
            dst = ctx / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
        proc.run([host.docker(), "build", "-q", "-t", tag, str(ctx)], env={"DOCKER_BUILDKIT": "0"}, log=log)
