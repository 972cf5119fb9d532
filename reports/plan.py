"""--dry-run-plan: what a selection would run on this version/profile, and why the rest is skipped.

Uses the skip/skipif markers the harness applies at collection time (feature off in the profile,
driver lacks a capability, …); skips decided only at run time cannot be predicted here.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

import pytest

from reports.testmeta import marker_meta


@dataclass
class PlanEntry:
    nodeid: str
    run: bool
    reason: str  # why it is skipped, or why a test that runs is expected to fail (xfail)
    feature: str | None
    maturity: str | None
    xfail: bool = False
    exercises: str = "api"  # "driver": the driver prepares a device on a node
    contract: bool = False


def static_skip_reason(item: pytest.Item) -> str | None:
    try:  # pytest's own evaluation of skip/skipif (conditions, string conditions, reasons)
        from _pytest.skipping import evaluate_skip_marks
        skip = evaluate_skip_marks(item)
        if skip is not None:
            return skip.reason or "skipped"
    except Exception:  # noqa: BLE001 - private API changed or a condition failed: read marks directly
        for mark in item.iter_markers("skip"):
            return str(mark.kwargs.get("reason", mark.args[0] if mark.args else "skipped"))
    for mark in item.iter_markers("xfail"):
        if mark.kwargs.get("run") is False:
            return f"xfail (not run): {mark.kwargs.get('reason', '')}".rstrip(": ")
    return None


def build_plan(items: list[pytest.Item]) -> list[PlanEntry]:
    plan = []
    for item in items:
        meta = marker_meta(item)
        kinds = {"exercises": meta["exercises"], "contract": meta["contract"]}
        if (reason := static_skip_reason(item)) is not None:
            plan.append(PlanEntry(item.nodeid, False, reason, meta["feature"], meta["maturity"], **kinds))
            continue
        xfail = next(item.iter_markers("xfail"), None)
        plan.append(PlanEntry(item.nodeid, True, xfail.kwargs.get("reason", "") if xfail else "",
                              meta["feature"], meta["maturity"], xfail=xfail is not None, **kinds))
    return plan


def render_plan(plan: list[PlanEntry], k8s_version: str | None, profile: str | None) -> list[str]:
    runs = sum(e.run for e in plan)
    on_driver = sum(e.run and e.exercises == "driver" for e in plan)
    contract = [e for e in plan if e.contract]
    lines = [f"Plan for Kubernetes {k8s_version or '?'}, profile {profile or 'default'}: "
             f"{runs} to run ({on_driver} driver-exercised, {runs - on_driver} API-only), "
             f"{len(plan) - runs} to skip; contract tier {sum(e.run for e in contract)}/{len(contract)} to run"]
    for e in plan:
        tag = ", ".join(x for x in (e.feature, e.maturity) if x)
        tag = (f" [{tag}]" if tag else "") + f" ({e.exercises}{', contract' if e.contract else ''})"
        verdict = "xfail" if e.xfail else "run" if e.run else "skip"
        lines.append(f"  {verdict:<5} {e.nodeid}{tag}" + (f": {e.reason}" if e.reason else ""))
    reasons = Counter(e.reason for e in plan if not e.run)
    if reasons:
        lines.append("Skip reasons:")
        lines += [f"  {n:>4}× {reason}" for reason, n in reasons.most_common()]
    lines.append("Tests to run may still skip where the cluster's devices do not allow them (e.g. no node "
                 "with two devices); the run's report names those.")
    return lines


def plan_json(plan: list[PlanEntry], k8s_version: str | None, profile: str | None) -> str:
    return json.dumps({"k8s_version": k8s_version, "profile": profile,
                       "run": sum(e.run for e in plan), "skip": sum(not e.run for e in plan),
                       "tests": [asdict(e) for e in plan]}, indent=2) + "\n"
