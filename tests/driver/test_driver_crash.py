"""The driver as its own process (python -m drivers.fake_gpu): crash, restart, lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dra_conformance.paths import REPO
from dra_conformance.waiting import timeout
from drivers.fake_gpu.control_client import ControlClient
from drivers.fake_gpu.kubelet_client import KubeletClient
from tests.driver.rig import NODE, make_claim, ref, result

DRIVER = "crash.fake.io"


def spawn(root: Path) -> tuple[subprocess.Popen[str], ControlClient]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "drivers.fake_gpu", "--node-name", NODE, "--driver-name", DRIVER,
         "--plugin-root", str(root / "k"), "--cdi-root", str(root / "cdi"), "--control-host", "127.0.0.1",
         "--control-port", "0", "--claims-file", str(root / "claims.json"), "--capabilities", ""],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())  # blocks until the driver printed its ready line
    return proc, ControlClient.local(ready["control"])


@pytest.fixture
def proc_root(short_tmp: Path):
    procs: list[subprocess.Popen[str]] = []
    yield short_tmp, procs
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_crash_exits_and_a_restart_keeps_prepared_claims(proc_root) -> None:
    root, procs = proc_root
    claim = make_claim("c", [result("r", "gpu-1", DRIVER)])
    uid = claim["metadata"]["uid"]
    (root / "claims.json").write_text(json.dumps([claim]))
    proc, control = spawn(root)
    procs.append(proc)
    kubelet = KubeletClient(root / "k" / "plugins_registry" / f"{DRIVER}-reg.sock")
    kubelet.register()
    prepared = kubelet.prepare([ref(claim)]).claims[uid]
    assert prepared.devices[0].device_name == "gpu-1"

    control.crash(exit_code=3)
    assert proc.wait(timeout=timeout("process_exit")) == 3
    kubelet.close()

    (root / "claims.json").write_text("[]")  # only the checkpoint knows the claim now
    proc2, control2 = spawn(root)
    procs.append(proc2)
    assert uid in control2.state()["prepared"]
    kubelet = KubeletClient(root / "k" / "plugins_registry" / f"{DRIVER}-reg.sock")
    kubelet.register()
    assert kubelet.prepare([ref(claim)]).claims[uid] == prepared
    assert kubelet.unprepare([ref(claim)]).claims[uid].error == ""
    assert not (root / "cdi" / f"{DRIVER}-{uid}.json").exists()
    kubelet.close()


def test_crash_with_restart_reexecs_the_driver(proc_root) -> None:
    root, procs = proc_root
    proc, control = spawn(root)
    procs.append(proc)
    pid = control.state()["pid"]
    control.crash(restart=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())  # the re-exec'd driver announces itself again
    assert ready["pid"] == pid == proc.pid  # exec keeps the pid; the process is new
    control = ControlClient.local(ready["control"])
    state = control.state()
    assert state["registration"]["getInfoCalls"] == 0 and state["faults"]["stats"]["prepare"]["calls"] == 0
    control.crash(exit_code=0)
    assert proc.wait(timeout=timeout("process_exit")) == 0
