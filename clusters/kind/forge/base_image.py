"""The one Debian userland shared by the images the harness builds (kube-proxy, pod networking,
the bundled driver): a single layer that containerd stores once per node."""

from __future__ import annotations

import hashlib

from clusters.kind import host
from clusters.kind.forge import images, rootfs
from clusters.kind.forge.versions_data import components
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step

REPO = "dra-conformance.local/base"


def ensure_base_image() -> str:
    """Tag of the base image (Debian + python3 + iptables …), built once per package set."""
    host.ensure_engine()
    packages = components()["base_packages"]
    tag = f"{REPO}:{components()['debian_suite']}-" + hashlib.sha256(" ".join(packages).encode()).hexdigest()[:10]
    if not images.exists(tag):
        with step(f"Building base image {tag}"):
            tree = rootfs.debian_rootfs("base", packages)
            images.import_rootfs(tree, tag, log=cache_dir("logs") / "base-image.log",
                                 changes=("ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",))
    return tag
