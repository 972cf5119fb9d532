"""The container engine on this host: find it, start it, make `--privileged` work.

kind needs a Docker engine that can run privileged containers. Where none runs, Debian's
docker.io is installed and started by hand (no systemd on our hosts). Docker 20.10 asks runc for
capabilities this host's bounding set lacks, so a capability-filtering runtime is put in front of
runc there (see runc-capfilter.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from dra_conformance import proc
from dra_conformance.errors import HarnessError
from dra_conformance.host_packages import needs
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step
from dra_conformance.waiting import wait_for

CAPFILTER = Path("/usr/local/sbin/dra-conformance-runc-capfilter")
DAEMON_JSON = Path("/etc/docker/daemon.json")
ENGINE_PACKAGES = needs("starting the Docker engine", {"dockerd": "docker.io", "iptables": "iptables"})
CAPFILTER_PACKAGES = needs("the capability-filtering runc", {"jq": "jq", "capsh": "libcap2-bin"})


def docker() -> str:
    return shutil.which("docker") or "docker"


def engine_running() -> bool:
    try:
        return subprocess.run([docker(), "info"], capture_output=True, timeout=20).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


# kind's advice for multi-node clusters: every kubelet and containerd watches files via inotify.
SYSCTLS = {"fs/inotify/max_user_instances": 512, "fs/inotify/max_user_watches": 524288}


@cache
def ensure_engine() -> None:
    """Make a Docker engine that can run privileged containers available, or fail in one line."""
    _raise_sysctls()
    if engine_running():
        if needs_capfilter() and not capfilter_configured():
            raise HarnessError("the running Docker engine cannot start --privileged containers on this "
                               f"host; set its default runtime to {CAPFILTER} (see clusters/kind/host.py)")
        return
    if os.environ.get("DOCKER_HOST"):
        # The user chose an engine; starting a local one instead would silently test elsewhere.
        raise HarnessError(f"the Docker engine at DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer")
    if os.geteuid() != 0:
        raise HarnessError("no Docker engine is running and starting one needs root")
    ENGINE_PACKAGES.ensure()
    if needs_capfilter():
        CAPFILTER_PACKAGES.ensure()
        _install_capfilter()
    with step("Starting the Docker engine"):
        _start_dockerd()


def _raise_sysctls() -> None:
    for key, value in SYSCTLS.items():
        path = Path("/proc/sys") / key
        try:
            if int(path.read_text()) < value:
                path.write_text(str(value))
        except (OSError, ValueError):
            pass  # not root or not Linux: kind still works for small clusters


def _bounding_set() -> int:
    return next(int(line.split()[1], 16) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("CapBnd:"))


def needs_capfilter() -> bool:
    """True when this process's bounding set lacks a capability the kernel knows."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    return _bounding_set() != (1 << (last + 1)) - 1


def has_sys_resource() -> bool:
    """Whether containers here can get CAP_SYS_RESOURCE (bit 24), e.g. to lower oom_score_adj."""
    return bool(_bounding_set() & (1 << 24))


def capfilter_configured() -> bool:
    try:
        return json.loads(DAEMON_JSON.read_text()).get("default-runtime") == "capfilter"
    except (OSError, ValueError):
        return False


def _install_capfilter() -> None:
    script = Path(__file__).with_name("runc-capfilter.sh")
    if not CAPFILTER.exists() or CAPFILTER.read_bytes() != script.read_bytes():
        CAPFILTER.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, CAPFILTER)
        CAPFILTER.chmod(0o755)
    try:
        config = json.loads(DAEMON_JSON.read_text())
    except (OSError, ValueError):
        config = {}
    config.setdefault("runtimes", {})["capfilter"] = {"path": str(CAPFILTER)}
    config["default-runtime"] = "capfilter"
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(config, indent=2) + "\n")


def _start_dockerd() -> None:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    log = cache_dir("host") / "dockerd.log"
    with log.open("ab") as out:
        # setsid: the engine outlives this process, like a service would.
        subprocess.Popen([dockerd], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    wait_for("the Docker engine to answer", lambda: (engine_running(), _tail(log)), "docker_start")


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    return lines[-1] if lines else "no output from dockerd"


def cgroup_version() -> int:
    """The cgroup version containers get (what kubelets in kind nodes see): the engine's answer when
    it runs (DOCKER_HOST may be elsewhere), else this host's hierarchy, so no caller starts an engine."""
    if engine_running():
        return int(proc.output([docker(), "info", "--format", "{{.CgroupVersion}}"]).strip() or 1)
    return 2 if Path("/sys/fs/cgroup/cgroup.controllers").exists() else 1
