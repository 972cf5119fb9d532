"""The small API fixtures use (diagnostics, metadata) and the pieces the plugin is built from."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from reports import diagnostics_sink, run_metadata, set_run_metadata
from reports.context import DIAGNOSTICS_KEY, RUN_DIR_KEY
from reports.layout import new_run_dir, point_latest, safe_name
from reports.metadata import merge_metadata, read_metadata
from reports.progress import LiveProgress
from reports.records import TestRecord


def test_diagnostics_sink_writes_and_remembers(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    stash = request.config.stash
    previous = stash.get(RUN_DIR_KEY, None)
    stash[RUN_DIR_KEY] = tmp_path
    try:
        first = diagnostics_sink(request, "claims.yaml", "kind: ResourceClaim\n")
        second = diagnostics_sink(request.node, "claims.yaml", b"again\n")
    finally:
        if previous is None:
            del stash[RUN_DIR_KEY]
        else:
            stash[RUN_DIR_KEY] = previous
    assert first is not None and second is not None and first != second
    assert first.parent == second.parent == tmp_path / "diagnostics" / safe_name(request.node.nodeid)
    assert [d["name"] for d in request.node.stash[DIAGNOSTICS_KEY]] == ["claims.yaml", "claims.yaml"]
    assert second.read_bytes() == b"again\n"


def test_api_is_a_no_op_without_a_run(request: pytest.FixtureRequest) -> None:
    if RUN_DIR_KEY in request.config.stash:
        pytest.skip("this session records a run itself")
    assert diagnostics_sink(request, "x.txt", "text") is None
    assert set_run_metadata(request, k8s_patch="v1.34.3") == {}
    assert run_metadata(request) == {}
    with pytest.raises(TypeError):
        diagnostics_sink(SimpleNamespace(), "x.txt", "text")


def test_metadata_merges_from_concurrent_writers(tmp_path: Path) -> None:
    # xdist workers and the controller write the same metadata.json; the lock keeps every key.
    threads = [threading.Thread(target=merge_metadata, args=(tmp_path, {f"key{i}": i})) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read_metadata(tmp_path) == {f"key{i}": i for i in range(20)}
    merge_metadata(tmp_path, {"kind_config": tmp_path / "kind.yaml"})
    assert json.loads((tmp_path / "metadata.json").read_text())["kind_config"] == str(tmp_path / "kind.yaml")


def test_run_dirs_are_unique_and_latest_follows(tmp_path: Path) -> None:
    a = new_run_dir(tmp_path, "1.35", "all-dra")
    b = new_run_dir(tmp_path, "1.35", "all-dra")
    assert a != b and a.name.endswith("-1.35-all-dra")
    point_latest(a)
    point_latest(b)
    assert (tmp_path / "latest").resolve() == b


def test_outcome_folding_matches_pytest() -> None:
    def rep(when: str, outcome: str, **extra: object) -> SimpleNamespace:
        return SimpleNamespace(when=when, outcome=outcome, passed=outcome == "passed",
                               failed=outcome == "failed", skipped=outcome == "skipped", duration=0.5,
                               longrepr=extra.pop("longrepr", None), longreprtext=extra.pop("text", ""), **extra)

    rec = TestRecord("t")
    for r in (rep("setup", "passed"), rep("call", "passed"), rep("teardown", "failed", text="E boom")):
        rec.apply_report(r)
    assert (rec.outcome, rec.phase, rec.message, rec.duration) == ("error", "teardown", "E boom", 1.5)

    skipped = TestRecord("s")
    skipped.apply_report(rep("setup", "skipped", longrepr=["f.py", 3, "Skipped: driver lacks capability x"]))
    skipped.apply_report(rep("teardown", "passed"))
    assert (skipped.outcome, skipped.message) == ("skipped", "driver lacks capability x")

    xfail = TestRecord("x")
    xfail.apply_report(rep("call", "skipped", wasxfail="known bug"))
    assert (xfail.outcome, xfail.message) == ("xfailed", "known bug")


def test_progress_line_counts() -> None:
    lines: list[str] = []
    now = [0.0]
    progress = LiveProgress(lines.append, interval=30, color=False, clock=lambda: now[0])
    progress.set_total(4)
    progress.update("passed")
    assert lines == [], "nothing within the first interval (short runs stay quiet)"
    now[0] = 45.0
    progress.update("passed")
    progress.update("skipped")
    assert len(lines) == 1, "at most one line per interval"
    now[0] = 90.0
    progress.update("failed")
    assert "4/4 (100%)" in lines[-1] and "✓ 2 passed" in lines[-1] and "✗ 1 failed" in lines[-1]
    assert "↷ 1 skipped" in lines[-1] and "1m30s" in lines[-1]
    assert "ETA" in lines[0]
    silent: list[str] = []
    quiet = LiveProgress(silent.append, interval=0, color=False)
    quiet.update("passed")
    assert silent == []
