"""The conformance suites themselves, run as a user runs them (a pytest subprocess) against the
self-test cluster: provisioning via --kubeconfig, driver install/uninstall, selection, waits and
reports all take part. A subset keeps CI short; `./dra-conformance run` runs everything."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from clusters.kind import cluster
from dra_conformance.paths import REPO
from tests.conftest import SELFTEST_PROFILE

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]
SUBSET = ["suites/contract", "suites/core/test_allocation.py", "suites/core/test_lifecycle.py", "suites/admin_access",
          "suites/resource_health", "suites/prioritized_list"]
KUBELET_SUBSET = [f"suites/kubelet_plugin/test_{m}.py" for m in ("restarts", "slices", "unprepare")]


def test_suite_subset_passes(selftest_cluster: cluster.Cluster, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "pytest", *SUBSET, "--kubeconfig", str(selftest_cluster.kubeconfig),
         "--profile", SELFTEST_PROFILE, "--run-dir", str(tmp_path / "run"), "-q", "-p", "no:cacheprovider"],
        cwd=REPO, capture_output=True, text=True, timeout=1800)
    summary = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-500:]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 20 and not re.search(r"\d+ (failed|errors?)\b", summary), summary
    run = tmp_path / "run"
    assert (run / "junit.xml").exists() and (run / "matrix.json").exists()
    # Each test's `prepares` marker agrees with what the run saw the driver do.
    verdict = json.loads((run / "certify.json").read_text())
    assert verdict["misclassified"] == [], verdict["misclassified"]
    assert verdict["contract"]["passed"] == verdict["contract"]["total"] >= 5, verdict["contract"]
    assert verdict["exercised"]["core"]["driver"]["passed"] >= 15, verdict["exercised"]
    # What ran is on record: the cluster as read from it, the driver's pods, images and logs.
    facts = json.loads((run / "cluster.json").read_text())
    assert facts["version"]["gitVersion"].startswith("v1.") and facts["control_plane"]["kube-apiserver"]["image"]
    pods = json.loads((run / "driver" / "pods.json").read_text())
    assert pods and all(c["imageID"] for p in pods for c in p["containers"]), pods
    assert list((run / "driver" / "logs").glob("*.log"))


def test_kubelet_contract_suite_passes_with_serial_tests_apart(selftest_cluster: cluster.Cluster, tmp_path):
    """The kubelet-contract suite's restarts, slices and unprepare tests under -n 2 (the rest runs
    in `./dra-conformance run`): every test passes, and no two `serial` tests (kubelet, node and
    plugin restarts) ever run at the same time."""
    run = tmp_path / "run"
    res = subprocess.run(
        [sys.executable, "-m", "pytest", *KUBELET_SUBSET, "--kubeconfig", str(selftest_cluster.kubeconfig),
         "--profile", SELFTEST_PROFILE, "--run-dir", str(run), "-q", "-p", "no:cacheprovider", "-n", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=2400)
    summary = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-500:]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert int(re.search(r"(\d+) passed", summary).group(1)) >= 15, summary
    spans: dict[str, list[float]] = {}
    for line in (run / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "test_start":
            spans[event["nodeid"]] = [event["ts"], event["ts"]]
        elif event["event"] == "test_finish":
            spans[event["test"]["nodeid"]][1] = event["ts"]
    serial = sorted(span for nodeid, span in spans.items() if nodeid.endswith("@dra-serial"))
    assert len(serial) >= 10, sorted(spans)
    overlaps = [(a, b) for a, b in zip(serial, serial[1:], strict=False) if b[0] < a[1]]
    assert not overlaps, f"serial tests ran side by side: {overlaps}"
