"""Soak: whole-suite runs in a row on one reused cluster, then runs ended by SIGTERM and by kill -9
at a random moment (cluster creation, driver install, tests), each followed by a normal run.
After every run it counts what was left behind. Prints one line per run.

    .venv/bin/python benchmarks/soak.py [--k8s 1.34] [--profile all-dra] [-n 4] [--runs 10] [--kills 3]

Leaked objects: test namespaces, run-labelled DeviceClasses/ResourceSlices/pins, run leases,
ResourceClaims in test namespaces, the bundled driver's namespace, and clusters or node containers
a run should have deleted. Flaky failures: failed or errored tests of a run that should be green.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clusters.kind import cluster, config, host  # noqa: E402
from dra_conformance import kube  # noqa: E402
from dra_conformance.errors import WaitTimeout  # noqa: E402
from dra_conformance.paths import REPO  # noqa: E402
from dra_conformance.waiting import wait_for  # noqa: E402
from fixtures.driver_install import LABEL_INSTALL  # noqa: E402
from fixtures.kubeapi import Api  # noqa: E402
from fixtures.liveness import LABEL_LEASE, LABEL_RUN, LABEL_TEST, NAMESPACE  # noqa: E402

# Lines the run prints when it enters a phase (the supervisor relays them as they come).
PHASES = {"cluster creation": "Creating cluster", "driver install": "✓ Creating cluster", "tests": '"test_start"'}


class Run:
    """One `./dra-conformance run` in its own process group, its output kept with arrival times."""

    def __init__(self, args: list[str], out: Path) -> None:
        env = {**os.environ, "DRA_CONFORMANCE_OUT": str(out)}
        self.out, self.started, self.lines = out, time.monotonic(), []
        self.proc = subprocess.Popen([str(REPO / "dra-conformance"), "run", *args], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.append((time.monotonic() - self.started, raw.decode(errors="replace")))

    def seen(self, text: str) -> bool:
        if text == PHASES["tests"]:  # the first test shows in the event stream, not on the terminal
            return any('"test_start"' in p.read_text() for p in self.out.glob("*/events.jsonl"))
        return any(text in line for _, line in self.lines)

    def finish(self) -> tuple[int, float]:
        code = self.proc.wait(timeout=3600)
        self._reader.join(timeout=30)
        return code, time.monotonic() - self.started

    def summary(self) -> dict[str, int]:
        runs = sorted(p for p in self.out.glob("*/results.json"))
        return json.loads(runs[-1].read_text())["summary"] if runs else {}


def leaked(name: str) -> dict[str, int]:
    """What a finished run left: cluster-side objects, and the cluster itself unless it is kept."""
    counts: dict[str, int] = {}
    kubeconfig = cluster.state_dir(name) / "kubeconfig"
    if name in cluster.existing() and kubeconfig.exists():
        running = subprocess.run([host.docker(), "ps", "-q", "--filter", f"label=io.x-k8s.kind.cluster={name}"],
                                 capture_output=True, text=True).stdout.split()
        if not running:  # node containers that never started (a creation killed mid-way): a leak
            return {"dead cluster": 1}
        api = Api(kube.api_client(str(kubeconfig)))
        with contextlib.suppress(WaitTimeout):  # a namespace still terminating by then counts as leaked
            wait_for("test and driver namespaces to finish terminating", lambda: (not any(
                ns["metadata"].get("deletionTimestamp") for label in (LABEL_TEST, LABEL_INSTALL)
                for ns in api.list("Namespace", labels=label)), "terminating"), "namespace_delete")
        tests = [ns["metadata"]["name"] for ns in api.list("Namespace", labels=LABEL_TEST)]
        counts = {"namespaces": len(tests),
                  "claims": sum(len(api.list("ResourceClaim", ns)) for ns in tests),
                  "classes": len(api.list("DeviceClass", labels=LABEL_RUN)),
                  "slices": len(api.list("ResourceSlice", labels=LABEL_RUN)),
                  "pins": len(api.list("Lease", NAMESPACE, labels=LABEL_RUN)),
                  "leases": len(api.list("Lease", NAMESPACE, labels=LABEL_LEASE)),
                  "driver": len(api.list("Namespace", labels=LABEL_INSTALL))}
    return {k: v for k, v in counts.items() if v}


def stray_clusters(keep: str | None) -> dict[str, int]:
    names = [n for n in cluster.existing() if n != keep]
    nodes = subprocess.run([host.docker(), "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format",
                            "{{.Label \"io.x-k8s.kind.cluster\"}}"], capture_output=True, text=True).stdout.split()
    return {k: v for k, v in {"clusters": len(names), "node containers": sum(n != keep for n in nodes)}.items() if v}


def report(label: str, run: Run, code: int, wall: float, leaks: dict[str, int]) -> dict:
    s = run.summary()
    flaky = s.get("failed", 0) + s.get("error", 0)
    counts = ", ".join(f"{v} {k}" for k, v in s.items() if v) or ("report: no test ran" if s else "no report")
    left = ", ".join(f"{v} {k}" for k, v in leaks.items()) or "0"
    print(f"{label:<34} exit {code:>3}  {wall:7.1f} s  flaky {flaky}  leaked {left:<12} ({counts})", flush=True)
    return {"flaky": flaky, "leaked": sum(leaks.values())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k8s", default="1.34")
    p.add_argument("--profile", default="all-dra")
    p.add_argument("-n", default="4")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--kills", type=int, default=3, help="runs ended by SIGTERM, and as many by kill -9")
    a = p.parse_args()
    spec = config.ClusterSpec(a.k8s, a.profile)
    name = config.cluster_name(spec)
    base = ["--k8s", a.k8s, "--profile", a.profile, "-n", a.n]
    tmp = Path(tempfile.mkdtemp(prefix="dra-soak-"))
    totals = {"flaky": 0, "leaked": 0}

    def add(result: dict) -> None:
        for k in totals:
            totals[k] += result[k]

    # 1. Whole-suite runs in a row on one cluster the user made (so every run reuses it).
    subprocess.run([str(REPO / "dra-conformance"), "cluster", "create", "--k8s", a.k8s, "--profile", a.profile],
                   check=True, capture_output=True)
    for i in range(a.runs):
        run = Run(base, tmp / f"soak-{i}")
        code, wall = run.finish()
        add(report(f"run {i + 1}/{a.runs} (reused cluster)", run, code, wall, leaked(name) | stray_clusters(name)))
    cluster.delete(name)

    # 2. Runs ended at a random moment of a random phase, each followed by a normal run.
    rng = random.Random(int(os.environ.get("SOAK_SEED", "0")) or None)
    for how, sig in (("SIGTERM", signal.SIGTERM), ("kill -9", signal.SIGKILL)):
        for i, phase in enumerate(list(PHASES)[:a.kills]):
            run = Run(base, tmp / f"{how}-{i}")
            wait_for(f"the run to reach {phase}", lambda r=run, ph=phase: (r.seen(PHASES[ph]), "not yet"),
                     "run_started")
            time.sleep(rng.uniform(0, 10))  # a random moment inside the phase
            children = _descendants(run.proc.pid)
            os.killpg(run.proc.pid, sig)
            if sig == signal.SIGKILL:  # the pytest child has a session of its own: kill it and its workers too
                for pid in children:
                    os.kill(pid, signal.SIGKILL)
            code, wall = run.finish()
            report(f"{how} during {phase}", run, code, wall, {})
            after = Run(base, tmp / f"{how}-{i}-next")
            code, wall = after.finish()
            add(report("  then a normal run", after, code, wall, leaked(name) | stray_clusters(None)))
    print(f"total: {totals['flaky']} flaky failure(s), {totals['leaked']} leaked object(s); output in {tmp}")


def _descendants(pid: int) -> list[int]:
    try:
        kids = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return []
    return [k for kid in kids for k in (kid, *_descendants(kid))]


if __name__ == "__main__":
    main()
