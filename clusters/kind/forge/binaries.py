"""Node and add-on binaries from the Go module proxy: containerd, runc, crictl, CNI plugins, etcd,
CoreDNS. Each is cached by its version."""

from __future__ import annotations

import json
from pathlib import Path

from clusters.kind.forge import cache, gobuild
from clusters.kind.forge.versions_data import components
from dra_conformance import proc
from dra_conformance.errors import HarnessError
from dra_conformance.host_packages import needs

_CONTAINERD = "github.com/containerd/containerd/v2"
# runc links libseccomp through cgo, found with pkg-config.
RUNC_PACKAGES = needs("building runc (cgo, seccomp)", {
    "gcc": "gcc", "/usr/include/stdio.h": "libc6-dev", "pkg-config": "pkgconf",
    "/usr/include/seccomp.h": "libseccomp-dev"})


def containerd() -> Path:
    v = components()["containerd"]

    def build(out: Path) -> None:
        work = gobuild.wrapper_module(out / "src", go_version="1.25.0", requires={_CONTAINERD: v},
                                      imports=[f"{_CONTAINERD}/cmd/containerd/builtins"])
        ver = f"-X {_CONTAINERD}/version.Version={v} -X {_CONTAINERD}/version.Package={_CONTAINERD}"
        tags = "no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs"
        gobuild.build(work, [f"{_CONTAINERD}/cmd/containerd", f"{_CONTAINERD}/cmd/ctr"], out / "bin",
                      log=out / "build.log", ldflags=f"-s -w {ver}", tags=tags)
        gobuild.build(work, [f"{_CONTAINERD}/cmd/containerd-shim-runc-v2"], out / "bin",
                      log=out / "build.log", ldflags=f"-s -w {ver}", tags=tags + " no_grpc")

    return cache.artefact("containerd", v, build) / "bin"


def runc() -> Path:
    v = components()["runc"]

    def build(out: Path) -> None:
        # runc needs cgo (nsenter) and libseccomp; the node image carries Debian's libseccomp2.
        RUNC_PACKAGES.ensure()
        work = gobuild.wrapper_module(out / "src", go_version="1.23.0",
                                      requires={"github.com/opencontainers/runc": v},
                                      imports=["github.com/opencontainers/runc/libcontainer"])
        gobuild.build(work, ["github.com/opencontainers/runc"], out / "bin", log=out / "build.log",
                      ldflags=f"-s -w -X main.version={v.lstrip('v')}", tags="seccomp urfave_cli_no_docs",
                      cgo=True)

    return cache.artefact("runc", v, build) / "bin"


def crictl() -> Path:
    v = components()["crictl"]
    return _install("crictl", v, f"sigs.k8s.io/cri-tools/cmd/crictl@{v}",
                    ldflags=f"-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version={v}")


def cni_plugins() -> Path:
    v = components()["cni_plugins"]
    mod = "github.com/containernetworking/plugins/plugins"
    return _install("cni-plugins", v, *(f"{mod}/{p}@{v}" for p in
                                         ("main/ptp", "main/loopback", "ipam/host-local", "meta/portmap")))


# The plugins of kubeadm's Corefile (errors, health, ready, kubernetes, prometheus, forward, cache,
# loop, reload, loadbalance) plus log. A main of our own compiles only these: the stock binary
# also compiles every cloud provider's SDK, which is most of its build time.
_COREDNS_PLUGINS = ("cache", "errors", "forward", "health", "kubernetes", "loadbalance", "log", "loop",
                    "metrics", "ready", "reload")


def coredns(tag: str) -> Path:
    """CoreDNS for an image tag such as v1.12.1, with the plugins a kind cluster uses."""
    module = "github.com/coredns/coredns"

    def build(out: Path) -> None:
        gomod = (gobuild.module_dir(f"{module}@{tag}") / "go.mod").read_text()
        imports = "".join(f'\t_ "{module}/plugin/{p}"\n' for p in _COREDNS_PLUGINS)
        main = (f'package main\n\nimport (\n\t"{module}/coremain"\n{imports})\n\n'
                "func main() { coremain.Run() }\n")
        work = gobuild.wrapper_module(out / "src", go_version=gobuild.go_directive(gomod),
                                      requires={module: tag}, main=main)
        gobuild.build(work, ["."], out / "bin", log=out / "build.log", ldflags="-s -w")
        (out / "bin" / "forge").rename(out / "bin" / "coredns")

    return cache.artefact("coredns", f"{tag}-slim", build) / "bin"


def etcd(tag: str) -> Path:
    """etcd for a kubeadm image tag such as 3.6.5-0.

    server/v3's go.mod replaces its sibling modules with local paths, so `go install` refuses it;
    a wrapper main calls etcdmain.Main instead. kubeadm picks etcd flags from the tag, so the binary's
    minor must match; the exact patch is used when the proxy has it.
    """
    version = _nearest("go.etcd.io/etcd/server/v3", "v" + tag.split("-")[0])

    def build(out: Path) -> None:
        main = ('package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\n'
                "func main() { etcdmain.Main(os.Args) }\n")
        work = gobuild.wrapper_module(out / "src", go_version="1.24.0",
                                      requires={"go.etcd.io/etcd/server/v3": version}, main=main)
        gobuild.build(work, ["."], out / "bin", log=out / "build.log", ldflags="-s -w")
        (out / "bin" / "forge").rename(out / "bin" / "etcd")

    return cache.artefact("etcd", version, build) / "bin"


def _install(kind: str, key: str, *specs: str, ldflags: str = "-s -w") -> Path:
    def build(out: Path) -> None:
        (out / "bin").mkdir()
        for spec in specs:
            proc.run([gobuild.require_go(), "install", "-trimpath", "-ldflags", ldflags, spec],
                     env={**gobuild.go_env(), "GOBIN": str(out / "bin"), "GOFLAGS": "-buildvcs=false"},
                     log=out / "build.log")

    return cache.artefact(kind, key, build) / "bin"


def _nearest(module: str, want: str) -> str:
    """`want` if the proxy serves it, else the newest served patch of the same minor."""
    info = json.loads(proc.output([gobuild.require_go(), "list", "-m", "-json", "-versions", module],
                                  env=gobuild.go_env()))
    versions = info.get("Versions", [])
    if want in versions:
        return want
    minor = ".".join(want.split(".")[:2]) + "."
    same = [v for v in versions if v.startswith(minor) and "-" not in v]
    if not same:
        raise HarnessError(f"the Go module proxy serves no {module} {minor}x (wanted {want})")
    return same[-1]
