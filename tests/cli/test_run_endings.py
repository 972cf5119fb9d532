"""However a run ends, what it created goes: real runs in subprocesses, real signals, a real kind
cluster, and Docker and the API server asked afterwards.

Each run creates its own cluster (1.34 default, one worker, so it never touches the self-test
cluster) from the node image the self-tests already use, and is ended while its tests run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from clusters.kind import cluster, config, ownership
from dra_conformance import kube
from dra_conformance.paths import REPO
from dra_conformance.waiting import wait_for
from fixtures.kubeapi import Api
from fixtures.liveness import LABEL_RUN

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("run-endings")]
SPEC = config.ClusterSpec("1.34", "default", workers=1)
NAME = config.cluster_name(SPEC)
RUN = "./dra-conformance run --k8s 1.34 --profile default --workers 1 -n 2 -- suites/core"


@pytest.fixture
def out(tmp_path: Path) -> Iterator[Path]:
    """Run directories of this test; no cluster of this spec before or after it."""
    if NAME in cluster.existing():
        cluster.delete(NAME)
    yield tmp_path
    if NAME in cluster.existing():
        cluster.delete(NAME)


class Job:
    """`shell` in a process group of its own, as a terminal's job or a CI step is; its output is read
    as it comes (so the run never blocks on a full pipe, and a test can wait for a line)."""

    def __init__(self, out: Path, shell: str) -> None:
        env = {**os.environ, "DRA_CONFORMANCE_OUT": str(out)}
        self.proc = subprocess.Popen(["bash", "-c", shell], cwd=REPO, env=env, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.pid, self.chunks = self.proc.pid, []
        self._reader = threading.Thread(target=lambda: self.chunks.extend(iter(self.proc.stdout.readline, b"")),
                                        daemon=True)
        self._reader.start()

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def end(self) -> str:
        self.proc.wait(timeout=900)
        self._reader.join(timeout=60)
        return self.text

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


def _tests_running(out: Path) -> None:
    def probe() -> tuple[bool, str]:
        events = list(out.glob("*/events.jsonl"))
        text = events[0].read_text() if events else ""
        return '"test_start"' in text, f"{len(text.splitlines())} events" if events else "no run dir yet"
    wait_for("the run's tests to start", probe, "run_started")


def _results(out: Path) -> dict:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir() and p.name != "latest"]
    return json.loads((run_dir / "results.json").read_text())


@pytest.mark.parametrize(("how", "signals"), [
    ("sigterm-to-the-group", [signal.SIGTERM]),  # CI cancel, `timeout`
    ("sighup", [signal.SIGHUP]),  # a closed terminal
    ("sigterm-twice", [signal.SIGTERM, signal.SIGTERM]),  # a second signal during clean-up
])
def test_a_signalled_run_deletes_its_cluster_and_writes_a_partial_report(out, how, signals):
    proc = Job(out, f"exec {RUN}")
    _tests_running(out)
    os.killpg(proc.pid, signals[0])
    if len(signals) > 1:  # after the first is handled: a pending signal of the same kind would merge
        wait_for("the run to take the first signal", lambda: ("interrupting the run" in proc.text, proc.text[-300:]),
                 "process_exit")
        os.killpg(proc.pid, signals[1])
    text = proc.end()
    assert proc.returncode == 128 + signals[0], text[-3000:]
    assert NAME not in cluster.existing(), text[-3000:]
    results = _results(out)
    assert results["interrupted"] is True and results["metadata"]["interrupted_by"] == signals[0].name
    assert results["summary"].get("not_run", 0) > 0, "the run was cut short"
    assert "Traceback" not in text and "cannot send" not in text, text[-3000:]
    if len(signals) > 1:
        assert "still cleaning up" in text


def test_ctrl_c_with_output_through_tee_deletes_the_cluster(out):
    """Ctrl-C reaches the whole job: the run and `tee`, whose end of the pipe then closes."""
    proc = Job(out, f"{RUN} 2>&1 | tee {out / 'tee.log'}")
    _tests_running(out)
    os.killpg(proc.pid, signal.SIGINT)
    proc.end()
    wait_for(f"cluster {NAME} deleted by the run's clean-up", lambda: (NAME not in cluster.existing(), "still there"),
             "cluster_cleanup")
    results = _results(out)
    assert results["interrupted"] is True and results["metadata"]["interrupted_by"] == "SIGINT"


def _descendants(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            kids += [int(child), *_descendants(int(child))]
    return kids


def _api() -> Api:
    return Api(kube.api_client(str(cluster.state_dir(NAME) / "kubeconfig")))


def test_a_killed_run_is_cleaned_up_by_the_next_run(out):
    proc = Job(out, f"exec {RUN}")
    _tests_running(out)
    wait_for("a test namespace of the run", lambda: (bool(_api().list("Namespace", labels=LABEL_RUN)), "none yet"),
             "namespace_ready")
    everyone = [proc.pid, *_descendants(proc.pid)]
    for pid in everyone:
        os.kill(pid, signal.SIGKILL)
    proc.end()
    # Nothing could clean up: the cluster and the dead run's test namespaces are still there.
    assert NAME in cluster.existing()
    api = _api()
    dead = {ns["metadata"]["labels"][LABEL_RUN] for ns in api.list("Namespace", labels=LABEL_RUN)}
    assert dead
    owner = ownership.read(NAME)
    assert owner is not None and owner.run in dead and not owner.alive()
    listed = subprocess.run(["./dra-conformance", "clean", "--dry-run"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert f"would remove cluster {NAME} (run, run {owner.run})" in listed.stdout, listed.stdout + listed.stderr
    assert NAME in cluster.existing()  # listed, not removed

    again = Job(out / "next", f"exec {RUN} -k test_generated_claim_deleted_after_pod_completes")
    text = again.end()
    assert again.returncode == 0, text[-3000:]
    assert "object(s) that dead runs left" in text, text[-3000:]
    # The next run adopted the dead run's cluster, which nobody asked to keep, and deleted it.
    assert NAME not in cluster.existing(), text[-3000:]


def test_keep_cluster_keeps_a_usable_cluster_with_its_driver(out):
    proc = Job(out, f"exec {RUN} --keep-cluster -k test_generated_claim_deleted_after_pod_completes")
    text = proc.end()
    assert proc.returncode == 0, text[-3000:]
    assert NAME in cluster.existing()
    owner = ownership.read(NAME)
    assert owner is not None and owner.keep
    api = _api()
    assert api.list("DaemonSet", "dra-fake-gpu"), "the driver stays installed"
    assert api.list("ResourceSlice") and api.list("DeviceClass")
    wait_for("the run's test namespaces to go", lambda: (
        not (left := api.list("Namespace", labels=LABEL_RUN)), [n["metadata"]["name"] for n in left]),
        "namespace_delete")
    # The next run reuses the kept cluster and keeps it: it is the user's now. Its driver profile
    # differs (three GPUs a node, not four): the kept install is replaced, not reused.
    bundled = yaml.safe_load((REPO / "fixtures/driver_profiles/fake-gpu.yaml").read_text())
    bundled["install"]["options"]["profileOptions"]["gpu"]["count"] = 3
    changed = out / "three-gpus.yaml"
    changed.write_text(yaml.safe_dump(bundled))
    again = Job(out / "next", f"exec {RUN.replace(' -- ', f' --driver-profile {changed} -- ')} --keep-cluster "
                              "-k test_generated_claim_deleted_after_pod_completes")
    again.end()
    assert again.returncode == 0, again.text[-3000:]
    assert NAME in cluster.existing()
    gpus = [d for s in api.list("ResourceSlice") for d in s["spec"].get("devices") or []
            if (d.get("attributes") or {}).get("type", {}).get("string") == "gpu"]
    assert len(gpus) == 3, f"the kept install was not replaced: {len(gpus)} gpus published"
    ann = api.get("Namespace", "dra-fake-gpu")["metadata"]["annotations"]
    assert json.loads(ann["dra-conformance.io/install-options"])["profileOptions"]["gpu"]["count"] == 3
