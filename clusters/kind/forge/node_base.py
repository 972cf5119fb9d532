"""The node base image: what kind's `images/base` holds, assembled offline.

A Debian bookworm rootfs (systemd 252 still boots on cgroup v1 hosts) with kind's base files
(entrypoint, units, containerd config, taken from the sigs.k8s.io/kind module at build time) and
containerd, runc, crictl and CNI plugins built from the Go module proxy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from clusters.kind.forge import binaries, gobuild, images, rootfs
from clusters.kind.forge.versions_data import components
from dra_conformance import proc
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step

REPO = "dra-conformance.local/node-base"
RECIPE = 1  # bump when the assembly below changes what ends up in the image
# Units kind's base image leaves out of the boot: they fail or fight the host inside a container.
_PRUNE = ("lib/systemd/system/multi-user.target.wants", "etc/systemd/system/multi-user.target.wants",
          "lib/systemd/system/local-fs.target.wants", "lib/systemd/system/basic.target.wants",
          "etc/systemd/system/sockets.target.wants", "etc/systemd/system/timers.target.wants",
          "etc/systemd/system/getty.target.wants", "etc/systemd/system/sysinit.target.wants")


def recipe_key() -> str:
    c = components()
    text = json.dumps({k: c[k] for k in ("kind", "debian_suite", "containerd", "runc", "crictl",
                                         "cni_plugins", "node_packages")}, sort_keys=True)
    return hashlib.sha256(f"{text}{RECIPE}".encode()).hexdigest()[:12]


def ensure_node_base() -> str:
    tag = f"{REPO}:{recipe_key()}"
    return images.ensure(tag, lambda: _build(tag))


def _build(tag: str) -> None:
    log = cache_dir("logs") / "node-base.log"
    with step("Building containerd, runc, crictl and CNI plugins (Go module proxy)"):
        bins = {"containerd": binaries.containerd(), "runc": binaries.runc(), "crictl": binaries.crictl(),
                "cni": binaries.cni_plugins()}
    with step("Assembling the node base rootfs (Debian + kind base files)"):
        tree = rootfs.debian_rootfs("node", components()["node_packages"])
        work = cache_dir("node-base", recipe_key())
        shutil.rmtree(work / "rootfs", ignore_errors=True)
        proc.run(["cp", "-a", tree, work / "rootfs"], log=log)
        _customise(work / "rootfs", bins, log)
    with step(f"Importing {tag}"):
        plain = f"{tag}-plain"
        images.import_rootfs(work / "rootfs", plain, log=log)
        # docker import cannot set STOPSIGNAL on Docker 20.10; a one-step build on top can.
        images.build(tag, f"FROM {plain}\nENV container=docker\nSTOPSIGNAL SIGRTMIN+3\n"
                          'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\n', log=log)
        proc.run(["docker", "rmi", plain], log=log, check=False)
        shutil.rmtree(work, ignore_errors=True)
    images.prune(REPO, "", keep=tag)


def _customise(root: Path, bins: dict[str, Path], log: Path) -> None:
    files = gobuild.module_dir(f"sigs.k8s.io/kind@{components()['kind']}") / "images" / "base" / "files"
    # Module zips keep no file modes and the module cache is read-only: copy, then set modes.
    proc.run(["cp", "-r", "--no-preserve=mode,ownership", f"{files}/.", root], log=log)
    for pattern in ("usr/local/bin/*", "kind/bin/*"):
        for f in root.glob(pattern):
            f.chmod(0o755)
    (root / "kind").chmod(0o755)
    for d in _PRUNE:
        for f in (root / d).glob("*"):
            f.unlink()
    for f in (root / "lib/systemd/system/sysinit.target.wants").glob("systemd-tmpfiles-setup.service"):
        f.unlink()
    for f in (root / "lib/systemd/system/sockets.target.wants").glob("*"):
        if "udev" in f.name or "initctl" in f.name:
            f.unlink()
    with (root / "etc/systemd/journald.conf").open("a") as conf:
        conf.write("ReadKMsg=no\n")
    init = root / "sbin/init"
    if init.is_symlink() or init.exists():
        init.unlink()
    init.symlink_to("/usr/lib/systemd/systemd")
    for name in ("containerd", "ctr", "containerd-shim-runc-v2", "crictl"):
        src = bins["crictl" if name == "crictl" else "containerd"] / name
        shutil.copy2(src, root / "usr/local/bin" / name)
    shutil.copy2(bins["runc"] / "runc", root / "usr/local/sbin/runc")
    (root / "opt/cni/bin").mkdir(parents=True, exist_ok=True)
    for plugin in bins["cni"].iterdir():
        shutil.copy2(plugin, root / "opt/cni/bin" / plugin.name)
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    chroot = ["chroot", str(root)]
    proc.run([*chroot, "systemctl", "enable", "kubelet.service", "containerd.service",
              "undo-mount-hacks.service"], log=log)
    proc.run([*chroot, "systemctl", "mask", "systemd-binfmt.service"], log=log)
    # containerd's default OCI spec plus kind's product-files hook, minus rlimits (kind does the same).
    spec = json.loads(subprocess.run([*chroot, "/usr/local/bin/ctr", "oci", "spec"], check=True,
                                     capture_output=True).stdout)
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append(
        {"path": "/kind/bin/mount-product-files.sh"})
    spec.get("process", {}).pop("rlimits", None)
    (root / "etc/containerd/cri-base.json").write_text(json.dumps(spec, indent=2))
