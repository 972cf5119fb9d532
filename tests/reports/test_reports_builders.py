"""Report builders on recorded results (tests/reports/data): matrix, HTML, Markdown, bundle, CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dra_conformance.paths import REPO
from reports.build import build_run, merge_runs
from reports.bundle import MANIFEST, verify_manifest
from reports.certify import evaluate, verdict_lines
from reports.cli import main as cli_main
from reports.html import render_html
from reports.markdown import render_markdown
from reports.matrix import build_matrix, load_matrix_input, merge_matrices
from reports.records import RunResults, TestRecord, load_run

DATA = Path(__file__).with_name("data")
DIAG_MARKER = "DIAG-MARKER never allocated"
FAILED_TEST = "suites/core/test_alloc.py::test_claim_allocated"
OFF_REASON = "feature consumable_capacity is off in profile default"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A writable copy of the recorded runs (builders write into the run directory)."""
    for name in ("run-1.34", "run-1.35", "run-crashed"):
        shutil.copytree(DATA / name, tmp_path / name)
    return tmp_path


def test_results_summary_counts(runs: Path) -> None:
    results = load_run(runs / "run-1.34")
    assert results.summary() == {"passed": 3, "failed": 1, "error": 0, "skipped": 3, "xfailed": 0,
                                 "xpassed": 0, "not_run": 0, "total": 7}


def test_crashed_run_rebuilt_from_events(runs: Path) -> None:
    results = load_run(runs / "run-crashed")  # no results.json, truncated last line, no session_end
    assert results.interrupted
    counts = results.summary()
    assert (counts["passed"], counts["not_run"], counts["total"]) == (1, 2, 3)
    running = next(r for r in results.records if r.nodeid.endswith("test_two_devices"))
    assert running.message == "interrupted while running"
    assert results.metadata["k8s_version"] == "1.36"


def test_matrix_single_run(runs: Path) -> None:
    matrix = build_matrix(load_run(runs / "run-1.34"), runs / "run-1.34")
    assert [c["key"] for c in matrix["columns"]] == ["1.34/default"]
    core = matrix["cells"]["core"]["1.34/default"]
    assert (core["passed"], core["failed"], core["status"], core["maturity"]) == (2, 1, "fail", "ga")
    capacity = matrix["cells"]["consumable_capacity"]["1.34/default"]
    assert capacity["status"] == "skip"
    assert capacity["skip_reasons"] == {OFF_REASON: 2}
    [failure] = matrix["failures"]
    assert failure["nodeid"] == FAILED_TEST
    assert "WaitTimeout" in failure["message"]
    assert DIAG_MARKER in failure["diagnostics"][0]["excerpt"]


def test_merge_three_versions(runs: Path) -> None:
    matrix = merge_matrices([load_matrix_input(runs / n) for n in ("run-crashed", "run-1.35", "run-1.34")])
    assert [c["key"] for c in matrix["columns"]] == ["1.34/default", "1.35/default", "1.36/all-dra"]
    assert matrix["interrupted"]
    assert matrix["cells"]["core"]["1.36/all-dra"]["status"] == "partial"
    assert matrix["cells"]["prioritized_list"]["1.35/default"]["status"] == "pass"
    assert matrix["cells"]["consumable_capacity"]["1.35/default"]["skip_reasons"] == {
        OFF_REASON: 1, "xfail: known issue #12": 1}
    assert matrix["totals"]["total"] == 17
    assert "admin_access" not in {f for f, row in matrix["cells"].items() if "1.36/all-dra" in row}


def test_merge_keeps_duplicate_columns_apart(runs: Path) -> None:
    one = load_matrix_input(runs / "run-1.34")
    matrix = merge_matrices([one, one])
    keys = [c["key"] for c in matrix["columns"]]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_html_is_self_contained_and_complete(runs: Path) -> None:
    matrix = merge_matrices([load_matrix_input(runs / n) for n in ("run-1.34", "run-1.35", "run-crashed")])
    page = render_html(matrix)
    assert "<style>" in page
    assert not re.search(r"<(script|link|img)\b", page), "no scripts or external assets"
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "2 passed, 1 failed" in page
    assert OFF_REASON in page
    assert "driver lacks capability multi_class" in page
    assert DIAG_MARKER in page and FAILED_TEST in page
    assert "INTERRUPTED" in page


def test_html_escapes_test_output(runs: Path) -> None:
    results = load_run(runs / "run-1.34")
    results.records[2].message = "<script>alert(1)</script>"
    page = render_html(build_matrix(results, runs / "run-1.34"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_markdown_summary(runs: Path) -> None:
    md = render_markdown(merge_matrices([load_matrix_input(runs / n) for n in ("run-1.34", "run-1.35")]))
    assert "| feature | 1.34 / default | 1.35 / default |" in md
    assert "| `core` | ❌ 2 passed, **1 failed** (ga) | ✅ 3 passed (ga) |" in md
    assert f"2× {OFF_REASON}" in md
    assert f"`{FAILED_TEST}`" in md and DIAG_MARKER in md
    assert "INTERRUPTED" not in md


def test_build_run_with_certify_and_bundle(runs: Path) -> None:
    run = runs / "run-1.34"
    made = build_run(load_run(run), run, certify_requested=True)
    assert made.problems == []
    # The profile claims prioritized_list, whose only test was skipped.
    assert not made.certify["passed"]
    assert [v["capability"] for v in made.certify["violations"]] == ["prioritized_list"]
    assert json.loads((run / "certify.json").read_text())["violations"]
    assert {p.name for p in made.matrix} == {"matrix.json", "matrix.html", "matrix.md"}

    bundle = made.bundle
    assert bundle is not None and bundle.missing == []
    files = {p.relative_to(bundle.directory).as_posix() for p in bundle.directory.rglob("*") if p.is_file()}
    for expected in ("driver-profile/driver-profile.yaml", "kind/kind-config.yaml", "junit.xml", "run.log",
                     "metadata.json", "results.json", "certify.json", "matrix.html", "matrix.md", "README.md",
                     MANIFEST,
                     "diagnostics/suites_core_test_alloc.py__test_claim_allocated/claims.yaml"):
        assert expected in files, expected
    readme = (bundle.directory / "README.md").read_text()
    assert "DRAConsumableCapacity" in readme and "v1.34.3" in readme and "FAILED" in readme
    assert verify_manifest(bundle.directory) == []
    if shutil.which("sha256sum"):
        subprocess.run(["sha256sum", "-c", "--quiet", MANIFEST], cwd=bundle.directory, check=True)

    with tarfile.open(bundle.tarball) as tar:
        names = tar.getnames()
    assert f"certification-20260101-000000-1.34-default/{MANIFEST}" in names

    (bundle.directory / "junit.xml").write_text("tampered")
    (bundle.directory / "extra.txt").write_text("unlisted")
    problems = verify_manifest(bundle.directory)
    assert "checksum mismatch: junit.xml" in problems and "not in manifest: extra.txt" in problems


def test_cli_merge_build_and_verify(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = runs / "merged"
    assert cli_main(["merge", "-o", str(out), str(runs / "run-1.34"), str(runs / "run-1.35" / "results.json"),
                     str(runs / "run-crashed")]) == 0
    merged = json.loads((out / "matrix.json").read_text())
    assert len(merged["columns"]) == 3
    # A merged matrix can itself be merged again (nightly: per-version matrices → one).
    assert len(merge_runs([out / "matrix.json"], runs / "again")) == 3

    assert cli_main(["build", str(runs / "run-1.34")]) == 0
    tarball = next((runs / "run-1.34").glob("certification-*.tar.gz"))
    assert cli_main(["verify", str(tarball)]) == 0
    assert "OK" in capsys.readouterr().out
    assert cli_main(["build", str(runs / "nowhere")]) == 2


def _rec(nodeid: str, outcome: str, *, caps: tuple[str, ...] = (), exercises: str = "api", prepared: bool = False,
         contract: bool = False) -> TestRecord:
    return TestRecord(nodeid, feature="core", capabilities=list(caps), exercises=exercises, prepared=prepared,
                      contract=contract, outcome=outcome)


@pytest.mark.parametrize("records, passed, line", [
    # the contract passed and each claim was exercised on the driver
    ([_rec("c", "passed", exercises="driver", prepared=True, contract=True),
      _rec("d", "passed", caps=("cdi-env",), exercises="driver", prepared=True)], True, "CERTIFY PASSED: contract 1/1"),
    # no contract test ran at all (e.g. -m beta)
    ([_rec("d", "passed", caps=("cdi-env",), exercises="driver", prepared=True)], False,
     "the contract tier did not run"),
    # a contract test skipped
    ([_rec("c", "skipped", contract=True), _rec("d", "passed", caps=("cdi-env",), exercises="driver", prepared=True)],
     False, "1 of 1 contract test(s) did not pass"),
    # a claim carried by API-only passes alone
    ([_rec("c", "passed", exercises="driver", prepared=True, contract=True), _rec("a", "passed", caps=("cdi-env",))],
     False, "1 claimed capability(ies) not exercised on the driver"),
])
def test_certify_needs_the_contract_and_claims_exercised_on_the_driver(records, passed: bool, line: str) -> None:
    verdict = evaluate(RunResults({}, records), {"name": "d", "capabilities": ["cdi-env"]}, requested=True)
    assert verdict["passed"] is passed
    assert verdict_lines(verdict)[0].startswith("CERTIFY PASSED" if passed else "CERTIFY FAILED")
    assert line in verdict_lines(verdict)[0]


def test_certify_warns_where_a_prepares_marker_disagrees_with_the_run() -> None:
    records = [_rec("c", "passed", exercises="driver", prepared=True, contract=True),
               _rec("said-driver", "passed", exercises="driver"), _rec("said-api", "passed", prepared=True)]
    verdict = evaluate(RunResults({}, records), {"name": "d", "capabilities": []}, requested=True)
    assert verdict["passed"]
    assert [m["nodeid"] for m in verdict["misclassified"]] == ["said-driver", "said-api"]
    assert verdict["exercised"]["core"] == {"driver": {"passed": 2, "total": 2}, "api": {"passed": 1, "total": 1}}


def test_verify_command_checks_the_bundle_and_says_what_it_certifies(runs: Path) -> None:
    assert cli_main(["build", str(runs / "run-1.34")]) == 0
    tarball = next((runs / "run-1.34").glob("certification-*.tar.gz"))

    def verify(target: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dra_conformance", "verify", str(target)], cwd=REPO,
                              capture_output=True, text=True, timeout=120)
    ok = verify(tarball)
    assert ok.returncode == 0, ok.stderr
    assert "every file matches SHA256SUMS" in ok.stdout and "driver: " in ok.stdout and "harness: " in ok.stdout
    assert "CERTIFY" in ok.stdout and "Kubernetes: " in ok.stdout
    bundle = runs / "run-1.34" / "certification"
    (bundle / "junit.xml").write_text("<forged/>")
    bad = verify(bundle)
    assert bad.returncode == 1 and "✗ checksum mismatch: junit.xml" in bad.stdout
    assert bad.stdout.strip().splitlines()[-1].startswith("dra-conformance: error: bundle")
