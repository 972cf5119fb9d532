"""pytest plugin: one run directory per run with JUnit, Allure results, events, matrix and bundle.

Register from the root conftest: `pytest_plugins = ["reports.plugin"]`.

Process roles under xdist: the controller creates the run directory, records outcomes from the
reports workers send (`pytest_runtest_logreport`), shows progress and writes every report; workers
only learn the directory (through `workerinput`) so that allure-pytest and `diagnostics_sink` write
into it. Without xdist the single process plays both roles.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dra_conformance.paths import reports_dir
from dra_conformance.supervise import interrupted_by
from reports import layout
from reports.allure import AllureUnavailable, render_allure
from reports.build import build_run
from reports.certify import evaluate, load_driver_profile, verdict_lines
from reports.context import DIAGNOSTICS_KEY, PREPARED_KEY, RUN_DIR_KEY
from reports.events import EventWriter
from reports.metadata import harness_revision, merge_metadata
from reports.plan import build_plan, plan_json, render_plan
from reports.progress import LiveProgress
from reports.records import RunResults, TestRecord, failure_message
from reports.table import default_k8s_version
from reports.testmeta import marker_meta

_WORKERINPUT = "dra_reports_run_dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dra-reports", "dra-conformance reports")
    group.addoption("--run-dir", dest="dra_run_dir", default=None, metavar="DIR",
                    help="write this run's reports to DIR (default: a new <reports>/<time>-<k8s>-<profile>)")
    group.addoption("--no-reports", dest="dra_no_reports", action="store_true",
                    help="no run directory, JUnit, Allure results or matrix for this run")
    group.addoption("--certify", dest="dra_certify", action="store_true",
                    help="fail the run if any capability claimed by the driver profile was skipped")
    group.addoption("--dry-run-plan", dest="dra_plan", nargs="?", const="-", default=None,
                    metavar="JSON", help="list what would run and why the rest is skipped, run nothing "
                    "(optionally also write the plan as JSON to the given path)")
    group.addoption("--allure-html", dest="dra_allure_html", action="store_true",
                    help="render the Allure HTML report into the run dir at the end (needs Java + npm)")
    group.addoption("--progress-interval", dest="dra_progress_interval", type=float, default=30.0,
                    metavar="SECONDS", help="print a progress line with counts this often (0: never)")


def _opt(config: pytest.Config, name: str) -> Any:
    # The harness options (--k8s-version, --profile, --driver-profile, --kubeconfig) may be absent.
    value = config.getoption(name, None)
    if name == "k8s_version" and not value:
        return default_k8s_version()  # what the harness will test, so the run dir is named right
    return value


@pytest.hookimpl(tryfirst=True)  # before junitxml/allure/xdist read the options we fill in
def pytest_configure(config: pytest.Config) -> None:
    if _opt(config, "dra_plan"):
        if hasattr(config.option, "dist"):
            config.option.dist = "no"  # the plan needs the items here, not in xdist workers
        config.pluginmanager.register(DryRunPlanner(config), "dra-dry-run-plan")
        return
    if _opt(config, "dra_no_reports") or _opt(config, "collectonly"):
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        path = workerinput.get(_WORKERINPUT)
        if path:
            config.stash[RUN_DIR_KEY] = Path(path)
            _enable_allure(config, Path(path))
        return
    recorder = RunRecorder(config)
    config.stash[RUN_DIR_KEY] = recorder.run_dir
    _enable_allure(config, recorder.run_dir)
    if hasattr(config.option, "xmlpath") and not config.option.xmlpath:
        config.option.xmlpath = str(recorder.run_dir / layout.JUNIT)
    recorder.start()
    config.pluginmanager.register(recorder, "dra-run-recorder")


def _enable_allure(config: pytest.Config, run_dir: Path) -> None:
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(run_dir / layout.ALLURE_RESULTS)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the controller's run directory to each worker."""
    run_dir = node.config.stash.get(RUN_DIR_KEY, None)
    if run_dir is not None:
        node.workerinput[_WORKERINPUT] = str(run_dir)


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees diagnostics stored by inner wrappers
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Ship the test's labels and diagnostics with each report (xdist carries extra attributes)."""
    report = yield
    if RUN_DIR_KEY in item.config.stash:
        report.dra = {**marker_meta(item), "diagnostics": list(item.stash.get(DIAGNOSTICS_KEY, [])),
                      "prepared": item.stash.get(PREPARED_KEY, False)}
    return report


class RunRecorder:
    """Controller side: records outcomes as they arrive and writes the run's reports at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        explicit = _opt(config, "dra_run_dir")
        if explicit:
            self.run_dir = Path(explicit).resolve()
            self.run_dir.mkdir(parents=True, exist_ok=True)
        else:
            # An existing cluster is whatever version it is (the matrix column reads it from the
            # cluster); the options' defaults would misname the run.
            existing = bool(_opt(config, "kubeconfig"))
            self.run_dir = layout.new_run_dir(reports_dir(), None if existing else _opt(config, "k8s_version"),
                                              "existing" if existing else _opt(config, "profile"))
            layout.point_latest(self.run_dir)
        self.records: dict[str, TestRecord] = {}
        self.running: set[str] = set()  # started, not finished: named in an interrupted report
        self.interrupted = False
        self.aborted = False  # pytest unconfigured without finishing its session
        self.finished = False
        self.collection_seen = False
        self.summary_lines: list[str] = []
        self.certify_passed = True
        self._started = time.time()
        tr = config.pluginmanager.getplugin("terminalreporter")
        self.progress = LiveProgress(self._write_line, interval=_opt(config, "dra_progress_interval") or 0,
                                     color=bool(getattr(tr, "hasmarkup", False)))
        self.events: EventWriter | None = None
        self._log: Any = None

    # -- output helpers -------------------------------------------------------------------------
    def _write_line(self, text: str, **markup: bool) -> None:
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        if tr is not None:
            tr.write_line(text, **markup)
        else:
            print(text, file=sys.stderr)

    def _logline(self, text: str) -> None:
        if self._log is not None and not self._log.closed:
            self._log.write(f"{time.strftime('%H:%M:%S')} {text}\n")
            self._log.flush()

    def _driver_metadata(self) -> dict[str, Any]:
        # Read late too: the driver plugin fills in --driver-profile (the bundled one) in its configure.
        driver_profile = _opt(self.config, "driver_profile")
        if not driver_profile:
            return {}
        profile = load_driver_profile(driver_profile)
        return {"driver_profile": str(Path(driver_profile).resolve()),
                "driver_name": profile.get("name") or profile.get("driver")}

    def start(self) -> None:
        driver_profile = _opt(self.config, "driver_profile")
        meta = merge_metadata(self.run_dir, {
            "run_id": self.run_dir.name,
            "k8s_version": _opt(self.config, "k8s_version"),
            "profile": _opt(self.config, "profile") or "default",
            **self._driver_metadata(),
            "kubeconfig": _opt(self.config, "kubeconfig"),
            "certify": bool(_opt(self.config, "dra_certify")),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._started)),
            "argv": sys.argv,
            "cwd": os.getcwd(),
            "host": platform.node(),
            "python": platform.python_version(),
            "harness": harness_revision(),
            "pytest": pytest.__version__,
            "junit_xml": str(Path(self.config.option.xmlpath).resolve())
            if getattr(self.config.option, "xmlpath", None) else None,
        })
        self.events = EventWriter(self.run_dir / layout.EVENTS)
        self._log = (self.run_dir / layout.RUN_LOG).open("a", encoding="utf-8")
        self.events.emit("session_start", metadata=meta)
        self._logline(f"run {meta['run_id']}: Kubernetes {meta.get('k8s_version') or '?'}, "
                      f"profile {meta['profile']}, driver profile {driver_profile or '-'}")
        self._logline(f"command: {' '.join(sys.argv)}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_dra_target_ready(self, config: pytest.Config, target: Any) -> None:
        """The harness's cluster is up: record what exactly is under test (fixtures/hooks.py)."""
        fields = {"k8s_version": getattr(target, "minor", None), "k8s_patch": getattr(target, "patch", None),
                  "profile": getattr(target, "profile", None), "feature_gates": getattr(target, "gates", None),
                  "runtime_config": getattr(target, "runtime_config", None),
                  "kind_config": getattr(target, "kind_config", None),
                  "cluster": getattr(target, "cluster_name", None)}
        meta = merge_metadata(self.run_dir, {k: v for k, v in fields.items() if v is not None})
        if self.events:
            self.events.emit("target_ready", metadata=meta)
        self._logline(f"cluster ready: Kubernetes {meta.get('k8s_patch') or meta.get('k8s_version')}, "
                      f"profile {meta.get('profile')}, cluster {meta.get('cluster') or '-'}")

    # -- collection -----------------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected([TestRecord(item.nodeid, **marker_meta(item)) for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        # Each worker collects the same items; the first report is the collection.
        if not self.collection_seen:
            self._collected([TestRecord(nodeid) for nodeid in ids])

    def _collected(self, records: list[TestRecord]) -> None:
        self.collection_seen = True
        for rec in records:
            self.records.setdefault(rec.nodeid, rec)
        self.progress.set_total(len(records))
        if self.events:
            labels = ("nodeid", "feature", "maturity", "capabilities", "exercises", "contract")
            self.events.emit("collection", count=len(records), tests=[
                {k: v for k, v in r.to_json().items() if k in labels} for r in records])
        self._logline(f"collected {len(records)} tests")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            rec = TestRecord(report.nodeid or "<collection>", outcome="error", phase="collect",
                             message=failure_message(report), details=str(report.longrepr)[-8000:])
            self.records[rec.nodeid] = rec
            self._finish_test(rec)

    # -- tests ----------------------------------------------------------------------------------
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.running.add(nodeid)
        if self.events:
            self.events.emit("test_start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = self.records.setdefault(report.nodeid, TestRecord(report.nodeid))
        rec.apply_meta(getattr(report, "dra", None))
        node = getattr(report, "node", None)  # set by xdist in the controller
        if node is not None:
            rec.worker = getattr(node, "workerinput", {}).get("workerid")
        rec.apply_report(report)
        if report.when == "teardown" and not (rec.outcome == "not_run" and rec.reruns):
            self._finish_test(rec)

    def _finish_test(self, rec: TestRecord) -> None:
        self.running.discard(rec.nodeid)
        if self.events:
            self.events.emit("test_finish", test=rec.to_json())
        detail = f": {rec.message.splitlines()[0]}" if rec.message else ""
        self._logline(f"{rec.outcome.upper():8} {rec.nodeid} ({rec.duration:.1f}s){detail}")
        for diag in rec.diagnostics:
            self._logline(f"         diagnostics: {diag['path']}")
        self.progress.update(rec.outcome)

    # -- end of run -----------------------------------------------------------------------------
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    @pytest.hookimpl(trylast=True)  # after junitxml has written its file (the bundle copies it)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.finalize(session, int(exitstatus))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if not self.finished:  # the session never finished normally: still leave a partial report
            self.aborted = True
            self.finalize(None, int(pytest.ExitCode.INTERRUPTED))

    def finalize(self, session: pytest.Session | None, exitstatus: int) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            self._finalize(session, exitstatus)
        except Exception as exc:  # noqa: BLE001 - reporting must never hide the test outcome
            self.summary_lines.append(f"reports: failed to write reports: {type(exc).__name__}: {exc}")
        finally:
            if self.events:
                self.events.close()
            if self._log:
                self._log.close()

    def _finalize(self, session: pytest.Session | None, exitstatus: int) -> None:
        signalled = interrupted_by()
        # A session that ended before its tests without a signal failed its set-up (cluster, driver).
        setup_error = (merge_metadata(self.run_dir, {}).get("setup_error")
                       if self.aborted and not self.interrupted and signalled is None else None)
        interrupted = self.interrupted or self.aborted or exitstatus == pytest.ExitCode.INTERRUPTED
        by = None if setup_error else (signalled or "SIGINT") if interrupted else None
        ending = f"SET-UP FAILED ({setup_error})" if setup_error else f"INTERRUPTED by {by}"
        finished = time.time()
        for nodeid in self.running:
            rec = self.records.setdefault(nodeid, TestRecord(nodeid))
            rec.message = rec.message or "interrupted while running"
        certify_requested = bool(_opt(self.config, "dra_certify"))
        results = RunResults(metadata={}, records=list(self.records.values()), interrupted=interrupted,
                             exitstatus=exitstatus)
        meta = merge_metadata(self.run_dir, self._driver_metadata())  # + what fixtures recorded
        results.certify = evaluate(results, load_driver_profile(meta.get("driver_profile")),
                                   requested=certify_requested)
        if certify_requested:
            self.certify_passed = results.certify["passed"]
            self.summary_lines += verdict_lines(results.certify)
            if not self.certify_passed and session is not None and session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        final_status = int(session.exitstatus) if session is not None else exitstatus
        results.exitstatus = final_status
        results.metadata = merge_metadata(self.run_dir, {
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finished)),
            "duration": round(finished - self._started, 3),
            "exitstatus": final_status,
            "interrupted": interrupted,
            "interrupted_by": by,
        })
        summary = results.summary()
        if self.events:
            self.events.emit("session_end", exitstatus=final_status, interrupted=interrupted, summary=summary,
                             certify=results.certify)
        self._logline((f"{ending}, " if interrupted else "") + "summary: "
                      + ", ".join(f"{v} {k}" for k, v in summary.items() if v))
        for line in self.summary_lines:
            self._logline(line)
        if self._log is not None:
            self._log.close()  # complete before the bundle copies it

        artefacts = build_run(results, self.run_dir, certify_requested=certify_requested)
        self.summary_lines += [f"reports: {p}" for p in artefacts.problems]
        if _opt(self.config, "dra_allure_html"):
            try:
                index = render_allure(self.run_dir / layout.ALLURE_RESULTS,
                                      self.run_dir / layout.ALLURE_REPORT,
                                      log=self.run_dir / layout.LOGS / "allure.log")
                self.summary_lines.append(f"allure: {index}")
            except AllureUnavailable as exc:
                self.summary_lines.append(str(exc))
        bundle = artefacts.bundle.tarball if artefacts.bundle else None
        partial = f" ({ending}, partial)" if interrupted else ""
        self.summary_lines.insert(0, f"run dir: {self.run_dir}{partial}")
        self.summary_lines.insert(1, f"matrix:  {self.run_dir / (layout.MATRIX + '.html')}")
        if bundle:
            self.summary_lines.insert(2, f"bundle:  {bundle}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "dra-conformance reports")
        for line in self.summary_lines:
            if line.startswith("CERTIFY"):
                ok = self.certify_passed
                terminalreporter.write_line(line, bold=True, red=not ok, green=ok)
            else:
                terminalreporter.write_line(line)


class DryRunPlanner:
    """--dry-run-plan: print run/skip per collected test and stop before running anything."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        plan = build_plan(session.items)
        k8s, profile = _opt(self.config, "k8s_version"), _opt(self.config, "profile")
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        for line in render_plan(plan, k8s, profile):
            if tr is not None:
                tr.write_line(line)
            else:
                print(line)
        target = _opt(self.config, "dra_plan")
        if target and target != "-":
            Path(target).write_text(plan_json(plan, k8s, profile))
        return True  # nothing runs
