"""The pytest plugin end to end: a tiny fake suite run through it (also under xdist) in a subprocess."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.bundle import verify_manifest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
DIAG = "DIAG-MARKER claim demo/gpu never allocated"

# Stands in for the lead's root conftest: the harness options, the markers, a diagnostics fixture.
CONFTEST = '''
from types import SimpleNamespace

import pytest
from reports import diagnostics_sink, set_run_metadata

pytest_plugins = ["reports.plugin"]
_PHASES = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption("--k8s-version", default="1.34")
    parser.addoption("--profile", default="default")
    parser.addoption("--driver-profile", default=None)
    parser.addoption("--kubeconfig", default=None)


def pytest_configure(config):
    for line in ("ga", "beta", "alpha", "feature(name)", "capability(*names)", "prepares", "contract"):
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(config, items):
    for item in items:  # like the lead's version table: maturity and profile skips at collection
        if item.get_closest_marker("feature").args[0] == "consumable_capacity":
            item.add_marker(pytest.mark.alpha)
            item.add_marker(pytest.mark.skip(reason="feature consumable_capacity is off in profile default"))
        else:
            item.add_marker(pytest.mark.ga)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    item.stash.setdefault(_PHASES, {})[rep.when] = rep
    return rep


def pytest_addhooks(pluginmanager):
    import hookspecs
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    # Like fixtures/cluster.py: the controller brings the cluster up, then announces the target.
    if hasattr(session.config, "workerinput"):
        return
    kind = session.config.rootpath / "kind-config.yaml"
    kind.write_text("kind: Cluster\\n")
    target = SimpleNamespace(minor="1.34", patch="v1.34.4", profile="default", gates={"DRAAdminAccess": True},
                             runtime_config={}, kind_config=str(kind), cluster_name="dra-1-34-default")
    session.config.hook.pytest_dra_target_ready(config=session.config, target=target)


@pytest.fixture(autouse=True)
def cluster(request):
    set_run_metadata(request, driver={"name": "gpu.example.com", "version": "0.1"})  # from a worker
    yield
    call = request.node.stash.get(_PHASES, {}).get("call")
    if call is not None and call.failed:
        diagnostics_sink(request, "claims.yaml", "%s\\n")
'''.replace("%s", DIAG)

SUITE = '''
import pytest
from reports.context import record_prepare

@pytest.mark.feature("core")
@pytest.mark.capability("basic_allocation")
@pytest.mark.contract
@pytest.mark.prepares
def test_allocates(request):
    record_prepare(request)  # as the kit does once a pod with claims runs

@pytest.mark.feature("core")
def test_claim_allocated():
    assert False, "claim not allocated in time"

@pytest.mark.feature("consumable_capacity")
@pytest.mark.capability("consumable_capacity")
def test_shares_capacity():
    pass
'''

HOOKSPECS = '''
import pytest


@pytest.hookspec
def pytest_dra_target_ready(config, target):
    """As in fixtures/hooks.py."""
'''

DRIVER_PROFILE = "name: gpu.example.com\ncapabilities: [basic_allocation, consumable_capacity]\n"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("DRA_CONFORMANCE_OUT", str(pytester.path / "out"))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=SUITE, hookspecs=HOOKSPECS)
    pytester.makefile(".yaml", driver=DRIVER_PROFILE)
    return pytester


def latest(pytester: pytest.Pytester) -> Path:
    link = pytester.path / "out" / "latest"
    assert link.is_symlink(), "a `latest` symlink points at the run"
    return link.resolve()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_run_dir_has_every_report(suite: pytest.Pytester, workers: list[str]) -> None:
    result = suite.runpytest_subprocess("--driver-profile", "driver.yaml", "-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    run = latest(suite)
    assert run.name.endswith("-1.34-default")
    result.stdout.fnmatch_lines(["*dra-conformance reports*", f"run dir: {run}"])

    suites = ET.parse(run / "junit.xml").getroot()
    assert sum(int(s.get("tests", 0)) for s in suites.iter("testsuite")) == 3
    allure = list((run / "allure-results").glob("*-result.json"))
    assert len(allure) == 3, "one Allure result per test, none duplicated by workers"
    attachments = [p.read_text() for p in (run / "allure-results").glob("*-attachment.yaml")]
    assert any(DIAG in text for text in attachments), "diagnostics attached to the Allure result"

    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["session_start", "target_ready", "collection"] and kinds[-1] == "session_end"
    assert kinds.count("test_start") == 3 and kinds.count("test_finish") == 3

    meta = json.loads((run / "metadata.json").read_text())
    assert meta["k8s_patch"] == "v1.34.4" and meta["feature_gates"] == {"DRAAdminAccess": True}
    assert meta["cluster"] == "dra-1-34-default" and meta["driver"]["name"] == "gpu.example.com"

    results = json.loads((run / "results.json").read_text())
    by_name = {t["nodeid"].split("::")[1]: t for t in results["tests"]}
    assert by_name["test_allocates"]["maturity"] == "ga"
    assert by_name["test_allocates"]["capabilities"] == ["basic_allocation"]
    assert by_name["test_shares_capacity"]["message"] == "feature consumable_capacity is off in profile default"
    failed = by_name["test_claim_allocated"]
    assert failed["outcome"] == "failed" and "claim not allocated in time" in failed["message"]
    [diag] = failed["diagnostics"]
    assert DIAG in (run / diag["path"]).read_text()

    # The failing test's diagnostics reach every report.
    matrix = json.loads((run / "matrix.json").read_text())
    assert matrix["cells"]["core"]["1.34/default"]["failed"] == 1
    assert DIAG in matrix["failures"][0]["diagnostics"][0]["excerpt"]
    assert DIAG in (run / "matrix.html").read_text()
    assert DIAG in (run / "matrix.md").read_text()
    bundle = run / "certification"
    assert DIAG in (bundle / diag["path"]).read_text()
    assert (bundle / "kind" / "kind-config.yaml").is_file()
    assert (bundle / "driver-profile" / "driver.yaml").is_file()
    assert (bundle / "junit.xml").is_file() and (bundle / "run.log").is_file()
    assert verify_manifest(bundle) == []
    assert len(list(run.glob("certification-*.tar.gz"))) == 1
    assert "FAILED   test_suite.py::test_claim_allocated" in (run / "run.log").read_text()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_certify_fails_when_claimed_capability_skipped(suite: pytest.Pytester, workers: list[str]) -> None:
    args = ["--driver-profile", "driver.yaml", "-k", "not claim_allocated", *workers]
    plain = suite.runpytest_subprocess(*args)
    assert plain.ret == 0  # without --certify a skip is fine
    certified = suite.runpytest_subprocess(*args, "--certify")
    assert certified.ret == 1
    certified.stdout.fnmatch_lines(["CERTIFY FAILED: 1 claimed behaviour(s) skipped*",
                                    "*skipped claimed capability 'consumable_capacity'*test_shares_capacity*"])
    verdict = json.loads((latest(suite) / "certify.json").read_text())
    assert verdict["requested"] and not verdict["passed"]
    assert "**FAILED**" in (latest(suite) / "matrix.md").read_text()


def test_certify_passes_when_claims_exercised(suite: pytest.Pytester) -> None:
    suite.makefile(".yaml", driver="name: gpu.example.com\ncapabilities: [basic_allocation]\n")
    result = suite.runpytest_subprocess("--driver-profile", "driver.yaml", "--certify", "-k", "allocates")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["CERTIFY PASSED*"])


def test_keyboard_interrupt_leaves_partial_report(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_zz_interrupt='''
import pytest

@pytest.mark.feature("core")
def test_ctrl_c():
    raise KeyboardInterrupt

@pytest.mark.feature("core")
def test_never_reached():
    pass
''')
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run = latest(suite)
    results = json.loads((run / "results.json").read_text())
    assert results["interrupted"] is True
    assert results["summary"]["not_run"] == 2
    ctrl_c = next(t for t in results["tests"] if t["nodeid"].endswith("test_ctrl_c"))
    assert ctrl_c["message"] == "interrupted while running"
    assert json.loads((run / "events.jsonl").read_text().splitlines()[-1])["interrupted"] is True
    assert "INTERRUPTED" in (run / "matrix.md").read_text()
    assert "INTERRUPTED" in (run / "matrix.html").read_text()
    assert json.loads((run / "matrix.json").read_text())["interrupted"] is True
    result.stdout.fnmatch_lines(["run dir: * (INTERRUPTED by SIGINT, partial)"])


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_dry_run_plan_lists_run_and_skip(suite: pytest.Pytester, workers: list[str]) -> None:
    result = suite.runpytest_subprocess("--dry-run-plan=plan.json", *workers)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "Plan for Kubernetes 1.34, profile default: 2 to run (1 driver-exercised, 1 API-only), 1 to skip; "
        "contract tier 1/1 to run",
        "  run   test_suite.py::test_allocates [[]core, ga[]] (driver, contract)",
        "  skip  test_suite.py::test_shares_capacity [[]consumable_capacity, alpha[]] (api): "
        "feature consumable_capacity is off in profile default",
        "*1× feature consumable_capacity is off in profile default",
    ])
    result.assert_outcomes()  # nothing ran
    assert not (suite.path / "out").exists(), "a dry run writes no run directory"
    plan = json.loads((suite.path / "plan.json").read_text())
    assert (plan["run"], plan["skip"]) == (2, 1)


def test_no_reports_and_explicit_run_dir(suite: pytest.Pytester) -> None:
    off = suite.runpytest_subprocess("--no-reports", "-k", "allocates")
    assert off.ret == 0 and not (suite.path / "out").exists()
    target = suite.path / "nightly-run"
    explicit = suite.runpytest_subprocess(f"--run-dir={target}", "-k", "allocates", "--junitxml=own.xml")
    assert explicit.ret == 0
    assert (target / "results.json").is_file() and (suite.path / "own.xml").is_file()
    assert (target / "certification" / "junit.xml").is_file(), "the user's --junitxml is bundled"
