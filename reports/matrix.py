"""The conformance matrix: features × (Kubernetes version, profile) with counts, reasons, failures.

Built from one run's results (one column) and merged across runs (the nightly: one run per
version). The JSON is the source for the HTML and Markdown renderings.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from reports import layout
from reports.records import FAILING, RunResults, TestRecord, load_run, summarize
from reports.table import feature_order

SCHEMA = "dra-conformance/matrix/v1"
NO_FEATURE = "(no feature)"
_EXCERPT_CHARS = 3000


def _version_key(version: str) -> tuple[Any, ...]:
    parts = str(version).lstrip("v").split(".")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def _driver_label(driver: Any) -> str | None:
    if isinstance(driver, dict):
        return " ".join(str(driver[k]) for k in ("name", "version") if driver.get(k)) or None
    return str(driver) if driver else None


def _excerpt(run_dir: Path | None, rel: str) -> str:
    if run_dir is None:
        return ""
    try:
        data = (run_dir / rel).read_bytes()
    except OSError:
        return ""
    text = data[:_EXCERPT_CHARS].decode(errors="replace")
    if len(data) > _EXCERPT_CHARS:
        text += f"\n… ({len(data) - _EXCERPT_CHARS} more bytes in {rel})"
    return text


def cell_status(counts: dict[str, int], interrupted: bool) -> str:
    if counts["failed"] or counts["error"]:
        return "fail"
    if counts["not_run"] and interrupted:
        return "partial"
    if counts["passed"] or counts["xpassed"]:
        return "pass"
    if counts["skipped"] or counts["xfailed"]:
        return "skip"
    return "not_run"


def _cell(records: list[TestRecord], interrupted: bool) -> dict[str, Any]:
    counts = summarize(records)
    maturities = Counter(r.maturity for r in records if r.maturity)
    reasons = Counter(("xfail: " if r.outcome == "xfailed" else "") + (r.message or "no reason given")
                      for r in records if r.outcome in ("skipped", "xfailed"))
    driver = [r for r in records if r.exercises == "driver"]
    return {
        **counts,
        # passed/total of the tests where the driver prepared a device, and of the API-only rest
        "driver": {"passed": sum(r.outcome in ("passed", "xpassed") for r in driver), "total": len(driver)},
        "api": {"passed": sum(r.outcome in ("passed", "xpassed") for r in records if r.exercises != "driver"),
                "total": len(records) - len(driver)},
        "maturity": "/".join(m for m, _ in maturities.most_common()) or None,
        "status": cell_status(counts, interrupted),
        "skip_reasons": dict(reasons.most_common()),
        "failures": [r.nodeid for r in records if r.outcome in FAILING],
    }


def build_matrix(results: RunResults, run_dir: Path | None = None) -> dict[str, Any]:
    """A one-column matrix for a single run; `run_dir` lets failures carry diagnostics excerpts."""
    meta = results.metadata
    version = str(meta.get("k8s_version") or "unknown")
    profile = str(meta.get("profile") or "default")
    key = f"{version}/{profile}"
    column = {
        "key": key,
        "k8s_version": version,
        "k8s_patch": meta.get("k8s_patch"),
        "profile": profile,
        "run_id": meta.get("run_id"),
        "driver": _driver_label(meta.get("driver")) or meta.get("driver_name"),
        "started_at": meta.get("started_at"),
        "finished_at": meta.get("finished_at"),
        "duration": meta.get("duration"),
        "interrupted": results.interrupted,
        "exitstatus": results.exitstatus,
        "feature_gates": meta.get("feature_gates") or {},
        "totals": results.summary(),
        "certify": results.certify,
    }
    by_feature: dict[str, list[TestRecord]] = defaultdict(list)
    for rec in results.records:
        by_feature[rec.feature or NO_FEATURE].append(rec)
    cells = {feature: {key: _cell(recs, results.interrupted)} for feature, recs in by_feature.items()}
    failures = [{
        "column": key,
        "feature": rec.feature or NO_FEATURE,
        "nodeid": rec.nodeid,
        "outcome": rec.outcome,
        "phase": rec.phase,
        "message": rec.message,
        "details": rec.details,
        "diagnostics": [{**d, "excerpt": _excerpt(run_dir, d["path"])} for d in rec.diagnostics],
    } for rec in results.records if rec.outcome in FAILING]
    return _finish({"columns": [column], "cells": cells, "failures": failures})


def merge_matrices(matrices: list[dict[str, Any]]) -> dict[str, Any]:
    """One matrix from several; a repeated (version, profile) column gets its run id appended."""
    columns: list[dict[str, Any]] = []
    cells: dict[str, dict[str, Any]] = defaultdict(dict)
    failures: list[dict[str, Any]] = []
    for matrix in matrices:
        if matrix.get("schema") != SCHEMA:
            raise ValueError(f"not a matrix (schema {matrix.get('schema')!r})")
        rename: dict[str, str] = {}
        for col in matrix["columns"]:
            key = col["key"]
            taken = {c["key"] for c in columns}
            if key in taken:
                key = f"{key} ({col.get('run_id') or len(columns)})"
                n = 2
                while key in taken:
                    key, n = f"{col['key']} #{n}", n + 1
            rename[col["key"]] = key
            columns.append({**col, "key": key})
        for feature, row in matrix["cells"].items():
            for old, cell in row.items():
                cells[feature][rename.get(old, old)] = cell
        failures += [{**f, "column": rename.get(f["column"], f["column"])} for f in matrix["failures"]]
    return _finish({"columns": columns, "cells": dict(cells), "failures": failures})


def _finish(matrix: dict[str, Any]) -> dict[str, Any]:
    """Sort columns/features, add totals and the schema header."""
    columns = sorted(matrix["columns"],
                     key=lambda c: (_version_key(c["k8s_version"]), c["profile"], c["key"]))
    order = feature_order()
    present = set(matrix["cells"])
    features = [f for f in order if f in present]
    features += sorted(present - set(features) - {NO_FEATURE})
    features += [NO_FEATURE] if NO_FEATURE in present else []
    totals: Counter[str] = Counter()
    for col in columns:
        totals.update(col["totals"])
    column_index = {c["key"]: i for i, c in enumerate(columns)}
    failures = sorted(matrix["failures"], key=lambda f: (column_index.get(f["column"], 0), f["nodeid"]))
    return {
        "schema": SCHEMA,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "interrupted": any(c["interrupted"] for c in columns),
        "columns": columns,
        "features": features,
        "cells": {f: matrix["cells"][f] for f in features},
        "failures": failures,
        "totals": dict(totals),
    }


def load_matrix_input(path: Path) -> dict[str, Any]:
    """A matrix from a run dir, a results.json or a matrix.json (so merge takes any of them)."""
    if path.is_dir():
        if (path / f"{layout.MATRIX}.json").is_file() and not (path / layout.EVENTS).is_file():
            return json.loads((path / f"{layout.MATRIX}.json").read_text())
        return build_matrix(load_run(path), path)
    data = json.loads(path.read_text())
    if data.get("schema") == SCHEMA:
        return data
    return build_matrix(RunResults.from_json(data), path.parent)
