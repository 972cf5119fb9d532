"""`dra-conformance doctor`: everything the harness needs from this host, one line per check.

Each check says what it found and what the harness will do about it. Only what the harness cannot
fix itself is fatal (exit 1). Set-up errors of `run` and `selftest` quote the first failing check
(`hint()`), which uses the local checks only, so it adds no network wait to an error path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dra_conformance.paths import cache_dir

MIN_FREE_GIB = 15  # one version's artefacts and node image, plus Go's caches
_GIB = 1 << 30


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fatal: bool = False  # not ok, and the harness cannot fix it

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"


def _root() -> bool:
    return os.geteuid() == 0


def _can_install() -> bool:
    return _root() and shutil.which("apt-get") is not None


def check_python() -> Check:
    v = sys.version_info
    return Check("Python", v >= (3, 11), f"{sys.executable} {v.major}.{v.minor}.{v.micro}", fatal=v < (3, 11))


def check_go() -> Check:
    from clusters.kind.forge import gobuild

    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        return Check("Go", False, "not found: the offline build and kind need the go command", fatal=True)
    version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                             env={**os.environ, **gobuild.go_env()}).stdout.strip()
    return Check("Go", True, f"{go} {version}; a release that needs a newer Go is built with the one it "
                             "names (GOTOOLCHAIN, from the Go module proxy)")


def check_root_apt() -> Check:
    if _can_install():
        return Check("root and apt", True, "missing host packages are installed with apt-get")
    why = "not root" if not _root() else "no apt-get"
    return Check("root and apt", False, f"{why}: missing host packages and the Docker engine must be set up "
                                        "by hand")


def check_packages() -> Iterator[Check]:
    from dra_conformance.host_packages import declared

    for needs in declared():
        missing = needs.missing()
        if not missing:
            yield Check(f"packages for {needs.step}", True, ", ".join(sorted(set(needs.packages.values()))))
        else:
            action = "will install" if _can_install() else "cannot install (need root and apt-get)"
            yield Check(f"packages for {needs.step}", False, f"missing {', '.join(missing)}: {action}",
                        fatal=not _can_install())


def check_engine() -> Iterator[Check]:
    from clusters.kind import host

    if not host.engine_running():
        if os.environ.get("DOCKER_HOST"):
            yield Check("Docker engine", False, f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer",
                        fatal=True)
        elif _root():
            yield Check("Docker engine", False, "not running: will start dockerd (Debian's docker.io)")
        else:
            yield Check("Docker engine", False, "not running, and starting one needs root", fatal=True)
        return
    version = subprocess.run([host.docker(), "version", "--format", "{{.Server.Version}}"],
                             capture_output=True, text=True).stdout.strip()
    yield Check("Docker engine", True, f"running, server {version}")
    yield _check_privileged()


def _check_privileged() -> Check:
    from clusters.kind import host
    from clusters.kind.forge import toolbox_image

    if host.needs_capfilter() and not host.capfilter_configured():
        return Check("--privileged containers", False, "the engine's default runtime is not the capability "
                     f"filter this host needs: set it to {host.CAPFILTER}", fatal=True)
    images = subprocess.run([host.docker(), "images", "-q", toolbox_image.REPO], capture_output=True,
                            text=True).stdout.split()
    if not images:
        return Check("--privileged containers", True, "the runtime fits this host's capabilities (no test "
                                                      "image yet to start one with)")
    res = subprocess.run([host.docker(), "run", "--rm", "--privileged", images[0], "true"],
                         capture_output=True, text=True, timeout=60)
    if res.returncode:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("--privileged containers", False, f"fail: {tail}", fatal=True)
    return Check("--privileged containers", True, "a privileged container starts")


def check_cgroup() -> Check:
    from clusters.kind import host

    v = host.cgroup_version()
    if v == 2:
        return Check("cgroup", True, "v2: kindest/node images can boot here")
    return Check("cgroup", True, "v1: node images are built offline (Debian bookworm), and kubelets >= 1.35 "
                                 "get failCgroupV1: false")


def check_capabilities() -> Check:
    from clusters.kind import host

    if not host.needs_capfilter():
        return Check("capability bounding set", True, "complete")
    extra = "" if host.has_sys_resource() else "; containerd clamps oom_score_adj (CAP_SYS_RESOURCE is missing)"
    return Check("capability bounding set", True, f"incomplete: --privileged goes through the capability-"
                                                  f"filtering runc{extra}")


def check_inotify() -> Check:
    from clusters.kind import host

    low = {k: v for k, v in host.SYSCTLS.items() if _sysctl(k) < v}
    if not low:
        return Check("inotify limits", True, ", ".join(f"{k.rsplit('/', 1)[1]}={_sysctl(k)}" for k in host.SYSCTLS))
    want = ", ".join(f"{k.rsplit('/', 1)[1]} {_sysctl(k)} → {v}" for k, v in low.items())
    return Check("inotify limits", False, f"{want}: " + ("will raise them" if _root() else "need root to raise"),
                 fatal=not _root())


def _sysctl(key: str) -> int:
    try:
        return int(Path("/proc/sys", key).read_text())
    except (OSError, ValueError):
        return 0


def check_disk() -> Check:
    root = cache_dir()
    free = shutil.disk_usage(root).free / _GIB
    ok = free >= MIN_FREE_GIB
    return Check("disk", ok, f"{free:.0f} GiB free for {root} (want ≥ {MIN_FREE_GIB} GiB per Kubernetes version)",
                 fatal=not ok)


def check_go_proxy() -> Check:
    from clusters.kind.forge import gobuild

    res = subprocess.run([gobuild.require_go(), "env", "GOPROXY"], capture_output=True, text=True)
    proxy = next((p for p in res.stdout.strip().split(",") if p.startswith("http")), "")
    if not proxy:
        return Check("Go module proxy", False, f"GOPROXY={res.stdout.strip()!r} names none", fatal=True)
    return _reachable("Go module proxy", f"{proxy.rstrip('/')}/k8s.io/kubernetes/@v/list",
                      "the offline build downloads Kubernetes and its tools from it")


def check_debian_mirror() -> Check:
    from clusters.kind.forge import rootfs
    from clusters.kind.forge.versions_data import components

    try:
        mirror = rootfs.mirror()
    except RuntimeError as exc:
        return Check("Debian mirror", False, str(exc), fatal=True)
    return _reachable("Debian mirror", f"{mirror.rstrip('/')}/dists/{components()['debian_suite']}/Release",
                      "node and base images are made from it with debootstrap")


def _reachable(name: str, url: str, why: str) -> Check:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return Check(name, True, f"{url.split('/')[2]} answers ({resp.status}); {why}")
    except OSError as exc:
        return Check(name, False, f"{url.split('/')[2]} does not answer ({exc}); {why}", fatal=True)


def check_registry() -> Check:
    from clusters.kind import host, versions

    image = versions.release().node_image
    try:
        res = subprocess.run([host.docker(), "manifest", "inspect", image], capture_output=True, text=True,
                             timeout=30)
        ok, tail = res.returncode == 0, (res.stderr.strip().splitlines() or [""])[-1]
    except (OSError, subprocess.TimeoutExpired) as exc:
        ok, tail = False, str(exc)
    if ok:
        return Check("container registry", True, f"{image} can be pulled (the online path)")
    why = tail.rsplit(": ", 1)[-1] or "no answer"  # the innermost cause, e.g. "no such host"
    return Check("container registry", False, f"{image} cannot be pulled ({why}): node images are built offline")


LOCAL: tuple[Callable[[], Check | Iterator[Check]], ...] = (
    check_python, check_go, check_root_apt, check_packages, check_engine, check_cgroup, check_capabilities,
    check_inotify, check_disk)
NETWORK = (check_go_proxy, check_debian_mirror, check_registry)


def run_checks(checks: tuple[Callable[[], Check | Iterator[Check]], ...]) -> Iterator[Check]:
    for check in checks:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - a broken probe is a finding, not a crash
            yield Check(check.__name__.removeprefix("check_"), False, f"{type(exc).__name__}: {exc}", fatal=True)
            continue
        yield from ([result] if isinstance(result, Check) else result)


def hint() -> str:
    """' (doctor: ✗ …)' for the first fatal local check, or '' when every local check passes."""
    try:
        bad = next((c for c in run_checks(LOCAL) if c.fatal), None)
    except Exception:  # noqa: BLE001 - a hint must never hide the error it decorates
        return ""
    return f" (doctor: {bad.line()})" if bad else ""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this host for everything the harness needs")
    p.add_argument("--offline", action="store_true", help="skip the checks that use the network")
    p.add_argument("--packages", action="store_true",
                   help="print every Debian package the harness may install, one per line, and exit")
    p.set_defaults(func=_doctor)


def _doctor(a: argparse.Namespace) -> int:
    if a.packages:
        from dra_conformance.host_packages import all_packages

        print("\n".join(all_packages()))
        return 0
    fatal = 0
    for c in run_checks(LOCAL + (() if a.offline else NETWORK)):
        print(c.line(), flush=True)
        fatal += c.fatal
    print(f"{fatal} problem(s) the harness cannot fix itself" if fatal else "the harness can set up the rest itself")
    return 1 if fatal else 0
