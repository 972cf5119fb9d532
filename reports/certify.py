"""--certify: every behaviour the driver profile claims (its capabilities) must have been exercised.

A test needing a claimed capability that was skipped — for whatever reason — means the claim was
not verified, so certification fails. Claimed capabilities no test ran at all are listed as
"unexercised" (a warning: the harness may not cover that capability yet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reports.records import FAILING, RunResults


def load_driver_profile(path: str | Path | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def claimed_capabilities(profile: dict[str, Any]) -> list[str]:
    """Accepts `capabilities: [a, b]`, `{a: true, b: false}` or `[{name: a}, …]`."""
    caps = profile.get("capabilities") or []
    if isinstance(caps, dict):
        return sorted(str(k) for k, v in caps.items() if v)
    names = [c.get("name") if isinstance(c, dict) else c for c in caps]
    return sorted({str(n) for n in names if n})


def driver_name(profile: dict[str, Any]) -> str | None:
    for key in ("name", "driver", "driverName"):
        if isinstance(profile.get(key), str):
            return profile[key]
    return None


def evaluate(results: RunResults, profile: dict[str, Any], *, requested: bool) -> dict[str, Any]:
    claimed = claimed_capabilities(profile)
    claimed_set = set(claimed)
    violations = []
    exercised: set[str] = set()
    for rec in results.records:
        caps = claimed_set.intersection(rec.capabilities)
        if not caps:
            continue
        if rec.outcome in ("skipped", "not_run"):
            for cap in sorted(caps):
                violations.append({"capability": cap, "nodeid": rec.nodeid, "outcome": rec.outcome,
                                   "reason": rec.message or "not run"})
        else:
            exercised.update(caps)
    failures = [r.nodeid for r in results.records if r.outcome in FAILING]
    return {
        "requested": requested,
        "driver": driver_name(profile),
        "claimed": claimed,
        "violations": violations,
        "unexercised": sorted(claimed_set - exercised - {v["capability"] for v in violations}),
        "failures": failures,
        "interrupted": results.interrupted,
        "passed": not violations and not failures and not results.interrupted,
    }


def verdict_lines(verdict: dict[str, Any]) -> list[str]:
    """Human summary: first line is the verdict, then one line per problem."""
    if verdict["passed"]:
        head = f"CERTIFY PASSED: all {len(verdict['claimed'])} claimed capabilities exercised"
    else:
        why = []
        if verdict["violations"]:
            why.append(f"{len(verdict['violations'])} claimed behaviour(s) skipped")
        if verdict["failures"]:
            why.append(f"{len(verdict['failures'])} test(s) failed")
        if verdict["interrupted"]:
            why.append("run interrupted")
        head = "CERTIFY FAILED: " + ", ".join(why)
    lines = [head]
    lines += [f"  skipped claimed capability {v['capability']!r}: {v['nodeid']} ({v['reason']})"
              for v in verdict["violations"]]
    lines += [f"  warning: claimed capability {c!r} is exercised by no test that ran"
              for c in verdict["unexercised"]]
    return lines
