"""Debian root filesystems made with debootstrap from the host's own Debian mirror."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from clusters.kind.forge import cache
from clusters.kind.forge.versions_data import components
from dra_conformance import proc
from dra_conformance.host_packages import needs

PACKAGES = needs("Debian root filesystems (debootstrap)", {"debootstrap": "debootstrap"})


def debian_rootfs(name: str, packages: list[str]) -> Path:
    """A minbase rootfs of the configured suite with `packages`, cached by that list."""
    suite = components()["debian_suite"]
    key = f"{name}-{suite}-" + hashlib.sha256(" ".join(sorted(packages)).encode()).hexdigest()[:12]

    def build(out: Path) -> None:
        PACKAGES.ensure()
        proc.run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}", suite,
                  out / "rootfs", mirror()], log=out / "debootstrap.log")
        # Package caches and lists only bloat the image layers.
        for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for f in (out / "rootfs" / d).glob("*"):
                if f.is_file():
                    f.unlink()

    return cache.artefact("rootfs", key, build) / "rootfs"


def mirror() -> str:
    """The Debian mirror this host's apt uses (so offline hosts use the one they can reach)."""
    if env := os.environ.get("DRA_CONFORMANCE_DEBIAN_MIRROR"):
        return env
    sources = sorted(Path("/etc/apt").glob("sources.list.d/*.sources")) + [Path("/etc/apt/sources.list")]
    for src in sources:
        if not src.exists():
            continue
        text = src.read_text()
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)",
                                                                           text, re.M):
            if "security" not in uri:
                return uri
    raise RuntimeError("no Debian mirror in /etc/apt; set DRA_CONFORMANCE_DEBIAN_MIRROR")
