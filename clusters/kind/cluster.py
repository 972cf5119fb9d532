"""kind cluster lifecycle: create (or reuse an identical one), wait until usable, delete, logs."""

from __future__ import annotations

import fcntl
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clusters.kind import config, host, kindbin, ownership
from clusters.kind.forge import images
from clusters.kind.forge.node_image import ensure_node_image, tag_for
from clusters.kind.forge.toolbox_image import ensure_toolbox_image
from dra_conformance import kube, proc
from dra_conformance.errors import HarnessError
from dra_conformance.paths import cache_dir
from dra_conformance.progress import note, step
from dra_conformance.waiting import wait_for

IMAGE_SOURCES = ("auto", "kindest", "forge")


@dataclass(frozen=True)
class Cluster:
    name: str
    kubeconfig: Path
    config_path: Path
    spec: config.ClusterSpec
    node_image: str
    created: bool  # by this call (False: an identical running cluster was reused)


def state_dir(name: str) -> Path:
    return cache_dir("clusters", name)


def existing() -> list[str]:
    host.ensure_engine()
    out = proc.output([kindbin.kind(), "get", "clusters"])
    return [line.strip() for line in out.splitlines() if line.strip() and "No kind clusters" not in line]


def for_host(spec: config.ClusterSpec) -> config.ClusterSpec:
    """`spec` with this host's facts (cgroup version, CAP_SYS_RESOURCE) that the config depends on."""
    return config.ClusterSpec(spec.version, spec.profile, spec.workers, host.cgroup_version(),
                              host.has_sys_resource())


def node_image(spec: config.ClusterSpec, source: str = "auto", *, build: bool = True) -> str:
    """kindest/node for the release when it is here or can be pulled, else the offline forge.

    On cgroup v1 hosts `auto` goes straight to the forge: current kindest/node images are Debian
    trixie, whose systemd (257) refuses to boot on cgroup v1; the forge's bookworm node does not.
    With build=False nothing is pulled or built: the tag the choice would lead to.
    """
    if source not in IMAGE_SOURCES:
        raise HarnessError(f"unknown image source {source!r}; choose from {', '.join(IMAGE_SOURCES)}")
    upstream = spec.release.node_image
    if source == "auto" and spec.host_cgroup == 1:
        if build:
            note("cgroup v1 host: using the offline-built (bookworm) node image")
    elif source in ("auto", "kindest"):
        if not build or images.exists(upstream) or _pull(upstream):
            return upstream
        if source == "kindest":
            raise HarnessError(f"cannot pull {upstream} (no registry reachable?); use --image-source forge")
        note(f"{upstream} cannot be pulled: building the node image offline")
    return ensure_node_image(spec.release.patch) if build else tag_for(spec.release.patch)


def _pull(image: str) -> bool:
    try:
        return subprocess.run([host.docker(), "pull", image], capture_output=True, timeout=300).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure(spec: config.ClusterSpec, *, image_source: str = "auto", image: str | None = None,
           owner: ownership.Owner | None = None) -> Cluster:
    """A running cluster for `spec`: reused when its rendered config is identical, else (re)created.

    `owner` is recorded for a cluster this call creates, and claims a reused one (ownership.py).
    """
    host.ensure_engine()
    spec = for_host(spec)
    node = image or node_image(spec, image_source)
    rendered = config.dump(config.render(spec, node))
    name = config.cluster_name(spec)
    with _locked(name):
        made = _ensure(spec, name, node, rendered)
        if owner is not None:
            (ownership.write if made.created else ownership.claim)(name, owner)
        return made


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One process at a time creates, reuses or deletes a given cluster (xdist, parallel runs)."""
    with (cache_dir("clusters") / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _ensure(spec: config.ClusterSpec, name: str, node: str, rendered: str) -> Cluster:
    state = state_dir(name)
    config_path, kubeconfig = state / "kind-config.yaml", state / "kubeconfig"
    if name in existing():
        same = config_path.exists() and config_path.read_text() == rendered and kubeconfig.exists()
        if same and _reusable(name, kubeconfig, spec.workers + 1):
            note(f"reusing cluster {name} (identical config)")
            load_images(name, [ensure_toolbox_image()])
            return Cluster(name, kubeconfig, config_path, spec, node, created=False)
        with step(f"Deleting cluster {name} ({'it is not healthy' if same else 'its config differs'})"):
            delete(name)
    config_path.write_text(rendered)
    with step(f"Creating cluster {name}: Kubernetes {spec.release.patch}, profile {spec.profile}, "
              f"{spec.workers} workers"):
        log = state / "create.log"
        log.unlink(missing_ok=True)
        try:
            try:
                _create(name, config_path, kubeconfig, log)
            except HarnessError:
                # A killed run's node containers may show up only now (the engine finishes creates
                # whose client died): clear them and create once more.
                if "already exist" not in log.read_text():
                    raise
                delete(name)
                _create(name, config_path, kubeconfig, log)
            # The node containers run once kind returns: load the test image while they get Ready.
            with ThreadPoolExecutor(max_workers=1) as pool:
                loaded = pool.submit(load_images, name, [ensure_toolbox_image()])
                wait_ready(kubeconfig, spec.workers + 1)
                loaded.result()
        except BaseException:
            export_logs(name, state / "failed-create-logs")
            delete(name)
            raise
    return Cluster(name, kubeconfig, config_path, spec, node, created=True)


def _create(name: str, config_path: Path, kubeconfig: Path, log: Path) -> None:
    proc.run([kindbin.kind(), "create", "cluster", "--name", name, "--config", config_path,
              "--kubeconfig", kubeconfig, "--retain"], log=log)


def _reusable(name: str, kubeconfig: Path, nodes: int) -> bool:
    """Every node container runs and the cluster gets Ready (e.g. not left stopped by a reboot)."""
    running = proc.output([host.docker(), "ps", "--filter", f"label=io.x-k8s.kind.cluster={name}",
                           "--format", "{{.Names}}"]).split()
    if len(running) != nodes:
        return False
    try:
        wait_ready(kubeconfig, nodes)
    except HarnessError:
        return False
    return True


def wait_ready(kubeconfig: Path, nodes: int) -> None:
    api = kube.core(kubeconfig)

    def nodes_ready() -> tuple[bool, str]:
        items = api.list_node().items
        ready = {n.metadata.name: any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
                 for n in items}
        return len(items) == nodes and all(ready.values()), f"{ready}"

    def system_pods() -> tuple[bool, str]:
        pods = api.list_namespaced_pod("kube-system").items
        bad = {p.metadata.name: p.status.phase for p in pods
               if p.status.phase != "Running"
               or not all(c.ready for c in p.status.container_statuses or [])}
        return bool(pods) and not bad, f"not running: {bad}" if bad else "no pods yet"

    wait_for(f"{nodes} nodes Ready", nodes_ready, "nodes_ready")
    wait_for("kube-system pods running", system_pods, "system_pods_running")


def load_images(name: str, tags: list[str]) -> None:
    """Make local images available on every node (kind skips nodes that already have them)."""
    for tag in tags:
        proc.run([kindbin.kind(), "load", "docker-image", tag, "--name", name], log=state_dir(name) / "load.log")


def delete(name: str) -> None:
    proc.run([kindbin.kind(), "delete", "cluster", "--name", name], log=state_dir(name) / "delete.log")
    _remove_late_nodes(name)
    (state_dir(name) / "kind-config.yaml").unlink(missing_ok=True)
    ownership.forget(name)


def _remove_late_nodes(name: str) -> None:
    """Node containers whose creation was in flight when a run was killed can appear after `kind
    delete` has looked: remove them by kind's label until none is left."""
    def probe() -> tuple[bool, str]:
        left = proc.output([host.docker(), "ps", "-aq", "--filter", f"label=io.x-k8s.kind.cluster={name}"]).split()
        if left:
            proc.run([host.docker(), "rm", "-f", "-v", *left], log=state_dir(name) / "delete.log", check=False)
        return not left, f"containers {left}"
    wait_for(f"the node containers of cluster {name} to be gone", probe, "cluster_cleanup")


def export_logs(name: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    proc.run([kindbin.kind(), "export", "logs", str(dest), "--name", name], log=dest / "export.log",
             check=False)
    return dest


def server_version(kubeconfig: Path) -> str:
    from kubernetes import client

    return client.VersionApi(kube.api_client(str(kubeconfig))).get_code().git_version


def node_container_names(name: str) -> list[str]:
    out = proc.output([kindbin.kind(), "get", "nodes", "--name", name])
    return [n for n in out.split() if n]
