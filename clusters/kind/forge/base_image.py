"""The one Debian userland shared by the images the harness builds (kube-proxy, pod networking,
the bundled driver): a single rootfs layer that containerd stores once per node."""

from __future__ import annotations

import hashlib
from pathlib import Path

from clusters.kind import host
from clusters.kind.forge import images, rootfs
from clusters.kind.forge.versions_data import components
from dra_conformance import proc
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step

REPO = "dra-conformance.local/base"
_WRAPPER = Path(__file__).with_name("iptables-wrapper.sh")
_LINKS = " ".join(f"{f}tables{s}" for f in ("ip", "ip6") for s in ("", "-save", "-restore"))


def ensure_base_image() -> str:
    """Tag of the base image (Debian + python3 + iptables …), built once per recipe."""
    host.ensure_engine()
    packages = components()["base_packages"]
    recipe = " ".join(packages) + _WRAPPER.read_text()
    tag = f"{REPO}:{components()['debian_suite']}-{hashlib.sha256(recipe.encode()).hexdigest()[:10]}"
    return images.ensure(tag, lambda: _build(tag, packages))


def _build(tag: str, packages: list[str]) -> None:
    log = cache_dir("logs") / "base-image.log"
    with step(f"Building base image {tag}"):
        tree = rootfs.debian_rootfs("base", packages)
        plain = f"{tag}-rootfs"
        images.import_rootfs(tree, plain, log=log)
        images.build(tag, f"FROM {plain}\n"
                          "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                          "COPY iptables-wrapper /usr/sbin/iptables-wrapper\n"
                          f"RUN cd /usr/sbin && for t in {_LINKS}; do ln -sf iptables-wrapper $t; done\n",
                     {"iptables-wrapper": _WRAPPER}, log=log)
        proc.run([host.docker(), "rmi", plain], log=log, check=False)
