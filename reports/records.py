"""One test's recorded outcome and a run's results: the data every report is built from.

Kept free of pytest imports so that builders (matrix, bundle, CLI) can load recorded runs anywhere.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from reports import layout
from reports.events import read_events

SCHEMA = "dra-conformance/results/v1"
# Order used in every summary; "not_run" = collected but never finished (interrupted runs).
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "not_run")
FAILING = frozenset({"failed", "error"})
_DETAILS_LIMIT = 8000
_MESSAGE_LIMIT = 4000  # a wait's last state ends with the events, the driver's reason last


@dataclass
class TestRecord:
    nodeid: str
    feature: str | None = None
    maturity: str | None = None
    capabilities: list[str] = field(default_factory=list)
    exercises: str | None = None  # "driver" (marked `prepares`) or "api"
    contract: bool = False  # in the minimum contract tier
    prepared: bool = False  # the run saw the driver prepare a device for this test
    outcome: str = "not_run"
    phase: str | None = None  # the phase that decided the outcome: collect/setup/call/teardown
    duration: float = 0.0
    message: str = ""  # skip/xfail reason or the failure's crash line
    details: str = ""  # failure traceback (tail, truncated)
    diagnostics: list[dict[str, str]] = field(default_factory=list)  # [{"name", "path" (run-relative)}]
    worker: str | None = None
    reruns: int = 0

    __test__ = False  # not a pytest test class despite the name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def apply_meta(self, meta: dict[str, Any] | None) -> None:
        """Take feature/maturity/capabilities/diagnostics as seen by the process that ran the test."""
        if not meta:
            return
        self.feature = meta.get("feature", self.feature)
        self.maturity = meta.get("maturity", self.maturity)
        self.capabilities = list(meta.get("capabilities", self.capabilities))
        self.exercises = meta.get("exercises", self.exercises)
        self.contract = bool(meta.get("contract", self.contract))
        self.prepared = self.prepared or bool(meta.get("prepared"))
        for diag in meta.get("diagnostics", []):
            if diag not in self.diagnostics:
                self.diagnostics.append(dict(diag))

    def apply_report(self, rep: Any) -> None:
        """Fold one phase report (setup/call/teardown) into the final outcome, like pytest's summary."""
        if rep.outcome == "rerun":  # pytest-rerunfailures: the next attempt starts from scratch
            self.reruns += 1
            self.outcome, self.phase, self.message, self.details = "not_run", None, "", ""
            return
        self.duration += float(getattr(rep, "duration", 0.0) or 0.0)
        when = rep.when
        xfail = getattr(rep, "wasxfail", None)
        if rep.skipped:
            if when == "teardown" and self.outcome != "not_run":
                return
            self.outcome = "xfailed" if xfail is not None else "skipped"
            self.phase = when
            self.message = xfail or skip_reason(rep.longrepr)
        elif rep.failed:
            if when == "teardown" and self.outcome in FAILING:
                return  # keep the original failure; the teardown error is secondary
            self.outcome = "failed" if when == "call" else "error"
            self.phase, self.message = when, failure_message(rep)
            self.details = _tail(getattr(rep, "longreprtext", "") or str(rep.longrepr or ""))
        elif when == "call":
            self.outcome = "xpassed" if xfail is not None else "passed"
            self.phase, self.message = when, xfail or ""


def skip_reason(longrepr: Any) -> str:
    # Skips carry (path, lineno, "Skipped: reason"); after xdist transport the tuple is a list.
    is_triple = isinstance(longrepr, (tuple, list)) and len(longrepr) == 3
    text = str(longrepr[2]) if is_triple else str(longrepr or "")
    return text.removeprefix("Skipped: ").strip()


def failure_message(rep: Any) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) if crash is not None else None
    if not text:
        lines = [ln for ln in (getattr(rep, "longreprtext", "") or str(rep.longrepr or "")).splitlines()
                 if ln.strip()]
        text = lines[-1] if lines else "failed"
    return text.strip()[:_MESSAGE_LIMIT]


def _tail(text: str) -> str:
    return text if len(text) <= _DETAILS_LIMIT else "…\n" + text[-_DETAILS_LIMIT:]


def summarize(records: list[TestRecord]) -> dict[str, int]:
    counts = Counter(r.outcome for r in records)
    out = {name: counts.get(name, 0) for name in OUTCOMES}
    out["total"] = len(records)
    return out


@dataclass
class RunResults:
    """What a run produced: its metadata (versions, profile, gates …) and one record per test."""

    metadata: dict[str, Any]
    records: list[TestRecord]
    interrupted: bool = False
    exitstatus: int | None = None
    certify: dict[str, Any] | None = None

    def summary(self) -> dict[str, int]:
        return summarize(self.records)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "metadata": self.metadata,
            "interrupted": self.interrupted,
            "exitstatus": self.exitstatus,
            "summary": self.summary(),
            "certify": self.certify,
            "tests": [r.to_json() for r in self.records],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResults:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a results file (schema {data.get('schema')!r}, expected {SCHEMA!r})")
        return cls(metadata=data.get("metadata", {}),
                   records=[TestRecord.from_json(t) for t in data.get("tests", [])],
                   interrupted=bool(data.get("interrupted")), exitstatus=data.get("exitstatus"),
                   certify=data.get("certify"))

    def save(self, run_dir: Path) -> Path:
        path = run_dir / layout.RESULTS
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")
        tmp.replace(path)  # readers never see half a file
        return path


def load_run(run_dir: Path) -> RunResults:
    """A run's results: results.json, or rebuilt from events.jsonl when the run died before writing it."""
    results = run_dir / layout.RESULTS
    if results.is_file():
        return RunResults.from_json(json.loads(results.read_text()))
    events = run_dir / layout.EVENTS
    if not events.is_file():
        raise FileNotFoundError(f"{run_dir} has neither {layout.RESULTS} nor {layout.EVENTS}")
    rebuilt = results_from_events(events)
    # Fixtures' metadata (gates, patch version) lives in metadata.json, not in the stream.
    with contextlib.suppress(OSError, json.JSONDecodeError):
        rebuilt.metadata.update(json.loads((run_dir / layout.METADATA).read_text()))
    rebuilt.metadata["interrupted"] = rebuilt.interrupted
    return rebuilt


def results_from_events(path: Path) -> RunResults:
    metadata: dict[str, Any] = {}
    records: dict[str, TestRecord] = {}
    ended: dict[str, Any] | None = None
    running: set[str] = set()
    for ev in read_events(path):
        kind = ev.get("event")
        if kind == "session_start":
            metadata = dict(ev.get("metadata", {}))
        elif kind == "collection":
            for t in ev.get("tests", []):
                rec = TestRecord.from_json(t) if isinstance(t, dict) else TestRecord(nodeid=str(t))
                records.setdefault(rec.nodeid, rec)
        elif kind == "test_start":
            running.add(ev.get("nodeid", ""))
        elif kind == "test_finish":
            rec = TestRecord.from_json(ev["test"])
            records[rec.nodeid] = rec
            running.discard(rec.nodeid)
        elif kind == "session_end":
            ended = ev
    interrupted = ended is None or bool(ended.get("interrupted"))
    for nodeid in running & records.keys():
        records[nodeid].message = records[nodeid].message or "interrupted while running"
    return RunResults(metadata=metadata, records=list(records.values()), interrupted=interrupted,
                      exitstatus=ended.get("exitstatus") if ended else None,
                      certify=ended.get("certify") if ended else None)
