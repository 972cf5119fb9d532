"""suites/known_issues.yaml stays true to the suites: every entry names a collected test that the
version's plan marks xfail, so renaming a test cannot silently turn its known issue into a failure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from clusters.kind import versions
from dra_conformance.paths import REPO
from fixtures.selection import known_issues

ISSUES = known_issues()


def _plan(minor: str, profile: str, tmp_path) -> dict[str, dict]:
    out = tmp_path / f"plan-{minor}-{profile}.json"
    res = subprocess.run([sys.executable, "-m", "pytest", "suites", f"--dry-run-plan={out}", "--k8s-version", minor,
                          "--profile", profile, "--no-reports", "-q", "-p", "no:cacheprovider"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return {t["nodeid"]: t for t in json.loads(out.read_text())["tests"]}


@pytest.mark.parametrize("minor", sorted({minor for _, minor in ISSUES}))
def test_each_known_issue_is_an_expected_failure_in_its_plan(minor: str, tmp_path) -> None:
    assert minor in versions.minors()
    plans = [_plan(minor, profile, tmp_path) for profile in versions.profile_names()]
    for (nodeid, issue_minor), (_, run) in ISSUES.items():
        if issue_minor != minor:
            continue
        entries = [p[nodeid] for p in plans if nodeid in p]
        assert entries, f"{nodeid} is not a collected test"
        expected = [e for e in entries if e["xfail"] or e["reason"].startswith("xfail (not run)")]
        assert expected, f"{nodeid} is not an expected failure on {minor} in any profile"
        assert all(e["run"] == run for e in expected), nodeid
