"""A kind node image for one Kubernetes release, assembled with no registry.

Follows what `kind build node-image` does (which always pulls and cannot run offline): start the
base with `sleep infinity`, add kubeadm/kubelet/kubectl and /kind/version, import every image
kubeadm needs into the node's containerd, commit.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clusters.kind import host, kindbin
from clusters.kind.forge import component_images, images, kubernetes, node_base
from clusters.kind.forge.base_image import ensure_base_image
from dra_conformance import proc
from dra_conformance.paths import cache_dir
from dra_conformance.progress import note, step
from dra_conformance.waiting import wait_for

REPO = "dra-conformance.local/node"
RECIPE = 1  # bump when the assembly below changes what ends up in the image
_PODNET = Path(__file__).with_name("podnet.yaml")


def tag_for(patch: str) -> str:
    recipe = f"{node_base.recipe_key()}{_PODNET.read_text()}{RECIPE}"
    return f"{REPO}:{patch}-{hashlib.sha256(recipe.encode()).hexdigest()[:8]}"


def ensure_node_image(patch: str) -> str:
    """Tag of the offline node image for `patch` (e.g. v1.34.4); a cache hit when built before."""
    host.ensure_engine()
    tag = tag_for(patch)
    if images.exists(tag):
        note(f"node image {tag} is cached")
    return images.ensure(tag, lambda: _build(tag, patch))


def _build(tag: str, patch: str) -> None:
    log = cache_dir("logs") / f"node-image-{patch}.log"
    note(f"build log: {log}")
    # Two lanes: Kubernetes compiles in one while the other runs debootstrap, docker builds and the
    # smaller Go builds, so their network and disk waits overlap the long compile. A lane that
    # fails lets the other finish: what it built is cached for the next try.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="forge") as pool:
        kube, node = pool.submit(_kubernetes_lane, patch), pool.submit(_node_lane, patch)
        kube_bin, (base, node_base_tag) = kube.result(), node.result()
    sandbox = _sandbox_image(node_base_tag)
    with step("Building etcd, CoreDNS, pause and control-plane images"):
        tags = component_images.build_all(kube_bin, patch, base, sandbox, log=log) + [base]
    with step(f"Assembling node image {tag}"):
        _assemble(tag, node_base_tag, kube_bin, patch, base, tags, log)
    images.prune(REPO, f"{patch}-", keep=tag)


def _kubernetes_lane(patch: str) -> Path:
    with step(f"Building Kubernetes {patch} binaries (Go module proxy; the long step on a cold cache)"):
        return kubernetes.binaries(patch) / "bin"


def _node_lane(patch: str) -> tuple[str, str]:
    """Base image, node base, the etcd and CoreDNS kubeadm will ask for, and the kind CLI the
    cluster is made with next: (base, node base)."""
    base = ensure_base_image()
    node_base_tag = node_base.ensure_node_base()
    component_images.prebuild(patch)
    kindbin.kind()
    return base, node_base_tag


def _sandbox_image(node_base_tag: str) -> str:
    """containerd's sandbox image in the node config (kind uses it instead of kubeadm's pause)."""
    config = proc.output(["docker", "run", "--rm", "--entrypoint", "cat", node_base_tag,
                          "/etc/containerd/config.toml"])
    match = re.search(r'sandbox_image\s*=\s*"([^"]+)"', config)
    if match is None:
        raise RuntimeError("the node base's containerd config names no sandbox_image")
    return match.group(1)


def _assemble(tag: str, node_base_tag: str, kube_bin: Path, patch: str, base: str, tags: list[str],
              log: Path) -> None:
    name = f"dra-conformance-build-{uuid.uuid4().hex[:8]}"
    docker = host.docker()
    proc.run([docker, "run", "-d", "--name", name, "--entrypoint", "sleep", "--security-opt",
              "seccomp=unconfined", node_base_tag, "infinity"], log=log)
    try:
        for binary in ("kubeadm", "kubelet", "kubectl"):
            proc.run([docker, "cp", kube_bin / binary, f"{name}:/usr/bin/{binary}"], log=log)
        manifest = _PODNET.read_text().replace("@BASE_IMAGE@", base)
        script = (f"mkdir -p /kind/manifests && echo {patch} > /kind/version && "
                  "chown root:root /usr/bin/kube* && chmod 0755 /usr/bin/kube*")
        proc.run([docker, "exec", name, "sh", "-c", script], log=log)
        proc.run([docker, "exec", "-i", name, "sh", "-c", "cat > /kind/manifests/default-cni.yaml"],
                 input=manifest.encode(), log=log)
        proc.run([docker, "exec", "-d", name, "sh", "-c", "containerd > /var/log/forge-containerd.log 2>&1"],
                 log=log)
        wait_for("containerd in the build container", lambda: (_ctr_ready(name), "ctr version failing"),
                 "docker_start")
        save = subprocess.Popen([docker, "save", *tags], stdout=subprocess.PIPE)
        with log.open("ab") as out:
            res = subprocess.run([docker, "exec", "-i", name, "ctr", "--namespace=k8s.io", "images", "import",
                                  "--label=io.cri-containerd.pinned=pinned", "--all-platforms",
                                  "--no-unpack", "--digests", "-"], stdin=save.stdout, stdout=out,
                                 stderr=subprocess.STDOUT)
        save.wait()
        if res.returncode or save.returncode:
            raise RuntimeError(f"importing images into the node failed (log: {log})")
        proc.run([docker, "exec", name, "pkill", "containerd"], log=log, check=False)
        proc.run([docker, "commit", "--change", 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
                  name, tag], log=log)
    finally:
        proc.run([docker, "rm", "-f", "-v", name], log=log, check=False)


def _ctr_ready(name: str) -> bool:
    return subprocess.run([host.docker(), "exec", name, "ctr", "version"], capture_output=True).returncode == 0
