"""The nightly workflow's version matrix, read from the version table."""

from __future__ import annotations

import json
import subprocess
import sys

from clusters.kind import nightly, versions
from dra_conformance.paths import REPO


def test_every_minor_runs_and_only_the_pre_release_is_flagged():
    entries = {e["version"]: e for e in nightly.entries()}
    assert list(entries) == ["1.34", "1.35", "1.36", "1.37", "1.38"]
    assert {m for m, e in entries.items() if e["prerelease"]} == {"1.38"}
    assert entries["1.38"]["patch"] == "v1.38.0-beta.0"


def test_only_the_newest_pre_release_gets_a_column(monkeypatch):
    real = versions.table()
    extra = {**real["versions"]["1.38"], "patch": "v1.39.0-alpha.1"}
    monkeypatch.setattr(versions, "table", lambda: {**real, "versions": {**real["versions"], "1.39": extra}})
    assert [e["version"] for e in nightly.entries() if e["prerelease"]] == ["1.39"]


def test_the_cli_prints_one_line_of_json_for_from_json():
    out = subprocess.run([sys.executable, "-m", "dra_conformance", "versions", "matrix"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.count("\n") == 1
    assert json.loads(out) == {"include": nightly.entries()}


def test_the_workflow_takes_its_versions_from_the_matrix_command():
    workflow = (REPO / ".github" / "workflows" / "nightly.yml").read_text()
    assert "./dra-conformance versions matrix" in workflow
    assert "fromJSON(needs.versions.outputs.matrix)" in workflow
    assert "continue-on-error: ${{ matrix.prerelease }}" in workflow
