"""Cluster benchmarks: node-image build (cold and cached), cluster create from a cached image
side by side with kind alone (same image, same config, every node Ready) as a ratio, reuse of an
identical cluster, delete. Prints one line per figure.

    .venv/bin/python benchmarks/cluster_bench.py --k8s 1.34 [--cold]

--cold builds the node image in a fresh artefact cache and a fresh Go build cache (the Go module
download cache is kept: it is the registry's content, not our work), so it measures what a new
host pays for compiling and assembling. Without it the image build figure is a cache hit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clusters.kind import cluster, config, kindbin, versions  # noqa: E402
from clusters.kind.forge import node_image  # noqa: E402
from dra_conformance import kube  # noqa: E402
from dra_conformance.paths import REPO  # noqa: E402
from dra_conformance.waiting import wait_for  # noqa: E402


def timed(label: str, fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    print(f"{label:<40} {time.monotonic() - start:8.1f} s", flush=True)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k8s", default=versions.default_minor())
    p.add_argument("--profile", default="default")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cold", action="store_true", help="also time a node-image build from empty caches")
    a = p.parse_args()
    patch = versions.release(a.k8s).patch
    if a.cold:
        with tempfile.TemporaryDirectory(prefix="dra-cold-") as tmp:
            env = {"DRA_CONFORMANCE_CACHE": f"{tmp}/cache", "GOCACHE": f"{tmp}/gocache"}
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            # Images are cached in the Docker engine by tag: drop ours so they are rebuilt too.
            os.system("docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "
                      "'^(dra-conformance.local/(node|base)|registry.k8s.io/)' | xargs -r docker rmi -f >/dev/null")
            try:
                timed(f"node image {patch}, cold", node_image.ensure_node_image, patch)
            finally:
                for k, v in saved.items():
                    os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    timed(f"node image {patch}, cached", node_image.ensure_node_image, patch)
    spec = cluster.for_host(config.ClusterSpec(a.k8s, a.profile, a.workers))
    name = config.cluster_name(spec)
    if name in cluster.existing():
        cluster.delete(name)
    alone = kind_alone(spec)
    print(f"{f'kind alone: create, {a.workers + 1} nodes Ready':<40} {alone:8.1f} s", flush=True)
    start = time.monotonic()
    subprocess.run([str(REPO / "dra-conformance"), "cluster", "create", "--k8s", a.k8s, "--profile", a.profile,
                    "--workers", str(a.workers), "--image-source", "forge"], check=True, capture_output=True)
    ours = time.monotonic() - start
    print(f"{'dra-conformance cluster create':<40} {ours:8.1f} s   {ours / alone:.2f}× kind alone", flush=True)
    again = timed("cluster reuse (identical config)", cluster.ensure, spec, image_source="forge")
    assert not again.created
    timed("cluster delete", cluster.delete, name)


def kind_alone(spec: config.ClusterSpec) -> float:
    """Seconds for kind create with the config our create writes until every node is Ready (then deleted)."""
    name = "dra-bench-kind-alone"
    with tempfile.TemporaryDirectory(prefix="dra-bench-") as tmp:
        cfg, kubeconfig = Path(tmp) / "kind.yaml", Path(tmp) / "kubeconfig"
        cfg.write_text(config.dump(config.render(spec, cluster.node_image(spec, "forge", build=False))))
        kind = kindbin.kind()
        start = time.monotonic()
        try:
            subprocess.run([kind, "create", "cluster", "--name", name, "--config", cfg, "--kubeconfig", kubeconfig],
                           check=True, capture_output=True)
            api = kube.core(kubeconfig)
            wait_for("every node Ready", lambda: (
                len(nodes := api.list_node().items) == spec.workers + 1
                and all(c.status == "True" for n in nodes for c in n.status.conditions or [] if c.type == "Ready"),
                "not yet"), "nodes_ready")
            return time.monotonic() - start
        finally:
            subprocess.run([kind, "delete", "cluster", "--name", name], capture_output=True)


if __name__ == "__main__":
    main()
