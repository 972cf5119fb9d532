"""(version, profile, workers, host) → kind cluster config document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from clusters.kind import versions

# kubelet / scheduler verbosity that makes DRA failures diagnosable from exported logs.
_SCHEDULER_VMODULE = "allocator*=6,dynamicresources=6"


@dataclass(frozen=True)
class ClusterSpec:
    version: str = versions.default_minor()
    profile: str = "default"
    workers: int = 2
    host_cgroup: int = 1
    # Without CAP_SYS_RESOURCE no process can lower its oom_score_adj, and runc fails every pod
    # sandbox that asks for a negative one; containerd then has to clamp it to its own value.
    host_sys_resource: bool = True

    @property
    def release(self) -> versions.Release:
        return versions.release(self.version)


def render(spec: ClusterSpec, node_image: str) -> dict[str, Any]:
    """The kind config for `spec`: gates the release knows, runtime-config, CDI, quirks."""
    rel = spec.release
    versions.profile(spec.profile)  # unknown profile → one-line error before anything else
    if spec.workers < 0:
        raise ValueError("workers must be >= 0")
    kubelet_config: dict[str, Any] = {"kind": "KubeletConfiguration"}
    for quirk in versions.quirks(rel.minor).values():
        if quirk.get("when_host_cgroup") in (None, spec.host_cgroup):
            kubelet_config.update(quirk.get("kubelet_config", {}))
    patches = [
        # No apiVersion: kind then merges the patch into whichever kubeadm API the release uses.
        yaml.safe_dump(kubelet_config, sort_keys=False),
        yaml.safe_dump({"kind": "ClusterConfiguration",
                        "scheduler": _extra_args(rel.kubeadm_api, {"v": "4", "vmodule": _SCHEDULER_VMODULE})},
                       sort_keys=False),
    ]
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": cluster_name(spec),
        "nodes": [{"role": "control-plane", "image": node_image}]
        + [{"role": "worker", "image": node_image} for _ in range(spec.workers)],
        "containerdConfigPatches": [_containerd_patch(spec)],
        "kubeadmConfigPatches": patches,
    }
    if gates := versions.profile_gates(spec.profile, rel.minor):
        config["featureGates"] = gates
    if runtime := versions.runtime_config(spec.profile, rel.minor):
        config["runtimeConfig"] = runtime
    return config


def _containerd_patch(spec: ClusterSpec) -> str:
    # containerd >= 2.0 enables CDI by default; saying so keeps the config explicit and also covers
    # node images with containerd 1.7.
    lines = ['[plugins."io.containerd.grpc.v1.cri"]', "  enable_cdi = true",
             '  cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]']
    if not spec.host_sys_resource:
        lines.append("  restrict_oom_score_adj = true")
    return "\n".join(lines) + "\n"


def _extra_args(kubeadm_api: str, args: dict[str, str]) -> dict[str, Any]:
    # kubeadm v1beta4 turned extraArgs from a map into a list of name/value pairs.
    if kubeadm_api.endswith("v1beta3"):
        return {"extraArgs": args}
    return {"extraArgs": [{"name": k, "value": v} for k, v in args.items()]}


def cluster_name(spec: ClusterSpec) -> str:
    return f"dra-{spec.release.minor.replace('.', '')}-{spec.profile}"


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False)
