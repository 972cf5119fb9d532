"""The images kubeadm deploys (control plane, kube-proxy, etcd, CoreDNS, pause), built locally.

Names and tags are exactly what the built kubeadm lists (`kubeadm config images list`), since
kubeadm never pulls in kind (preflight is skipped) and expects them in containerd as listed.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from clusters.kind.forge import binaries, gobuild, images
from dra_conformance import proc
from dra_conformance.host_packages import needs
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step

# pause is linked static: libc.a comes with libc6-dev.
PAUSE_PACKAGES = needs("building the pause image", {"gcc": "gcc", "/usr/include/stdio.h": "libc6-dev"})
_KUBEADM_CONSTANTS = "cmd/kubeadm/app/constants/constants.go"
_KUBE = re.compile(r"/(kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy):")


def prebuild(patch: str) -> None:
    """etcd and CoreDNS at the versions kubeadm's source pins, built ahead of the images.

    `build_all` asks the built kubeadm for the authoritative list; a version this did not foresee
    is simply built there.
    """
    text = (gobuild.module_dir(f"k8s.io/kubernetes@{patch}") / _KUBEADM_CONSTANTS).read_text()
    pins = dict(re.findall(r'^\s*(DefaultEtcdVersion|CoreDNSVersion)\s*=\s*"([^"]+)"', text, re.M))
    with step("Building etcd and CoreDNS (Go module proxy)"):
        if etcd := pins.get("DefaultEtcdVersion"):
            binaries.etcd(etcd)
        if dns := pins.get("CoreDNSVersion"):
            binaries.coredns(dns)


def required(kube_bin: Path, patch: str) -> list[str]:
    out = proc.output([kube_bin / "kubeadm", "config", "images", "list", "--kubernetes-version", patch])
    return [line.strip() for line in out.splitlines() if line.strip()]


def build_all(kube_bin: Path, patch: str, base: str, sandbox_image: str, *, log: Path) -> list[str]:
    """Build every image kubeadm needs for `patch` (plus containerd's sandbox image); return tags."""
    tags = []
    for ref in required(kube_bin, patch):
        name, tag = ref.rsplit(":", 1)
        if (m := _KUBE.search(ref)) is not None:
            _binary_image(ref, base, kube_bin / m.group(1), log=log)
        elif name.endswith("/etcd"):
            _binary_image(ref, base, binaries.etcd(tag) / "etcd", log=log)
        elif name.endswith("/coredns"):
            images.ensure(ref, lambda t=tag, r=ref: images.build(
                r, f"FROM {base}\nCOPY coredns /coredns\nENTRYPOINT [\"/coredns\"]\n",
                {"coredns": binaries.coredns(t) / "coredns"}, log=log))
        elif name.endswith("/pause"):
            _pause(ref, patch, log=log)
            if sandbox_image != ref:
                proc.run(["docker", "tag", ref, sandbox_image], log=log)
                tags.append(sandbox_image)
        else:
            raise RuntimeError(f"kubeadm lists an image the forge does not know how to build: {ref}")
        tags.append(ref)
    return tags


def _binary_image(ref: str, base: str, binary: Path, *, log: Path) -> None:
    images.ensure(ref, lambda: images.build(ref, f"FROM {base}\nCOPY {binary.name} /usr/local/bin/{binary.name}\n",
                                            {binary.name: binary}, log=log))


def _pause(ref: str, patch: str, *, log: Path) -> None:
    """The pause image from Kubernetes' own pause.c, compiled static."""
    images.ensure(ref, lambda: _build_pause(ref, patch, log=log))


def _build_pause(ref: str, patch: str, *, log: Path) -> None:
    src = gobuild.module_dir(f"k8s.io/kubernetes@{patch}") / "build" / "pause" / "linux" / "pause.c"
    version = ref.rsplit(":", 1)[1]
    PAUSE_PACKAGES.ensure()
    out = cache_dir("pause", version)
    proc.run(["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{version}", "-o", out / "pause", src],
             log=log)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pause").write_bytes((out / "pause").read_bytes())
        (root / "pause").chmod(0o755)
        images.import_rootfs(root, ref, log=log, changes=('ENTRYPOINT ["/pause"]', "USER 65535:65535"))
