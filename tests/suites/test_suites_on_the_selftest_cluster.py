"""The conformance suites themselves, run as a user runs them (a pytest subprocess) against the
self-test cluster: provisioning via --kubeconfig, driver install/uninstall, selection, waits and
reports all take part. A subset keeps CI short; `./dra-conformance run` runs everything."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from clusters.kind import cluster
from dra_conformance.paths import REPO
from tests.conftest import SELFTEST_PROFILE

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]
SUBSET = ["suites/core/test_allocation.py", "suites/admin_access", "suites/resource_health"]


def test_suite_subset_passes(selftest_cluster: cluster.Cluster, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "pytest", *SUBSET, "--kubeconfig", str(selftest_cluster.kubeconfig),
         "--profile", SELFTEST_PROFILE, "--run-dir", str(tmp_path / "run"), "-q", "-p", "no:cacheprovider"],
        cwd=REPO, capture_output=True, text=True, timeout=1800)
    summary = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-500:]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 20 and not re.search(r"\d+ (failed|errors?)\b", summary), summary
    assert (tmp_path / "run" / "junit.xml").exists() and (tmp_path / "run" / "matrix.json").exists()
