"""Kubernetes binaries for one release, built from k8s.io/kubernetes on the Go module proxy.

k8s.io/kubernetes replaces its staging modules (k8s.io/api, …) with paths that are not in the
module zip, so a wrapper module points each of them at the published k8s.io/<m> v0.X.Y release.
The version is stamped with ldflags, as hack/lib/version.sh does, so kubeadm and the kubelet
report it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from clusters.kind.forge import cache, gobuild

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet",
            "kubeadm", "kubectl")
_STAGING = re.compile(r"^\s*(k8s\.io/[\w.-]+)\s*=>\s*\./staging/", re.M)


def binaries(patch: str) -> Path:
    """Directory holding BINARIES for `patch` (e.g. v1.34.4); built once, then a cache hit."""
    return cache.artefact("kubernetes", patch, lambda out: _build(patch, out))


def _build(patch: str, out: Path) -> None:
    module = gobuild.module(f"k8s.io/kubernetes@{patch}")
    gomod = (module.dir / "go.mod").read_text()
    staging_version = "v0." + patch.removeprefix("v1.")
    work = gobuild.wrapper_module(
        out / "src",
        go_version=gobuild.go_directive(gomod),
        requires={"k8s.io/kubernetes": patch},
        replaces={m: f"{m} {staging_version}" for m in _STAGING.findall(gomod)},
        imports=[f"k8s.io/kubernetes/cmd/{b}/app" for b in ("kube-apiserver", "kubelet")],
        # The main module decides GODEBUG defaults; keep the ones Kubernetes ships with.
        extra="\n".join(ln for ln in gomod.splitlines() if ln.startswith("godebug")) + "\n",
    )
    # The toolchain that unpacked the release builds it: a release may need a newer Go than the host's.
    gobuild.build(work, [f"k8s.io/kubernetes/cmd/{b}" for b in BINARIES], out / "bin",
                  log=out / "build.log", ldflags=version_ldflags(patch), gotoolchain=module.toolchain)


def version_ldflags(patch: str) -> str:
    major, minor = patch.removeprefix("v").split(".")[:2]
    values = {
        "gitVersion": patch,
        "gitMajor": major,
        "gitMinor": minor if "-" not in patch else minor + "+",
        "gitTreeState": "clean",
        "gitCommit": "0" * 40,  # the module zip carries no commit; the version is what matters
        "buildDate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.{k}={v}" for k, v in values.items()]
    return " ".join(flags)
