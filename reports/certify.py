"""--certify: what the driver profile claims must have been exercised, on the driver itself.

A certificate needs, besides no failure:
- every test of the contract tier (`contract` marker) passed: the minimum every driver keeps;
- no test needing a claimed capability skipped, whatever the reason: the claim was not verified;
- for each claimed capability, a driver-exercised test (`prepares`: the driver prepared a device on
  a node) that passed; API-only tests pass with any driver, so they cannot carry a claim alone.
Claimed capabilities no test covers at all are warnings (the harness may not cover them yet), as
are tests whose `prepares` marker disagrees with what the run saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reports.records import FAILING, RunResults, TestRecord


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


def _count(records: list[TestRecord]) -> dict[str, int]:
    return {"passed": sum(r.outcome in ("passed", "xpassed") for r in records), "total": len(records)}


def exercised_counts(records: list[TestRecord]) -> dict[str, dict[str, dict[str, int]]]:
    """Per feature: passed/total of driver-exercised and of API-only tests."""
    by_feature: dict[str, list[TestRecord]] = {}
    for rec in records:
        by_feature.setdefault(rec.feature or "(no feature)", []).append(rec)
    return {feature: {kind: _count([r for r in recs if (r.exercises or "api") == kind]) for kind in ("driver", "api")}
            for feature, recs in sorted(by_feature.items())}


def _misclassified(records: list[TestRecord]) -> list[dict[str, str]]:
    out = []
    for rec in records:
        if rec.outcome not in ("passed", "xpassed"):
            continue
        if rec.exercises == "driver" and not rec.prepared:
            out.append({"nodeid": rec.nodeid, "problem": "marked prepares, but no prepare was seen"})
        elif rec.exercises == "api" and rec.prepared:
            out.append({"nodeid": rec.nodeid, "problem": "not marked prepares, yet the driver prepared a device"})
    return out


def evaluate(results: RunResults, profile: dict[str, Any], *, requested: bool) -> dict[str, Any]:
    claimed = claimed_capabilities(profile)
    claimed_set = set(claimed)
    violations = []
    covered: set[str] = set()
    on_driver: set[str] = set()
    for rec in results.records:
        caps = claimed_set.intersection(rec.capabilities)
        covered |= caps
        if not caps:
            continue
        if rec.outcome in ("skipped", "not_run"):
            for cap in sorted(caps):
                violations.append({"capability": cap, "nodeid": rec.nodeid, "outcome": rec.outcome,
                                   "reason": rec.message or "not run"})
        elif rec.exercises == "driver" and rec.outcome in ("passed", "xpassed"):
            on_driver |= caps
    contract = [r for r in results.records if r.contract]
    contract_missing = [{"nodeid": r.nodeid, "outcome": r.outcome, "reason": r.message or r.outcome}
                        for r in contract if r.outcome not in ("passed", "xpassed")]
    failures = [r.nodeid for r in results.records if r.outcome in FAILING]
    not_on_driver = sorted(covered - on_driver - {v["capability"] for v in violations})
    return {
        "requested": requested,
        "driver": driver_name(profile),
        "claimed": claimed,
        "violations": violations,
        "contract": {"passed": len(contract) - len(contract_missing), "total": len(contract),
                     "missing": contract_missing},
        "not_on_driver": not_on_driver,
        "unexercised": sorted(claimed_set - covered),
        "exercised": exercised_counts(results.records),
        "misclassified": _misclassified(results.records),
        "failures": failures,
        "interrupted": results.interrupted,
        "passed": bool(contract) and not contract_missing and not violations and not not_on_driver
        and not failures and not results.interrupted,
    }


def verdict_lines(verdict: dict[str, Any]) -> list[str]:
    """Human summary: first line is the verdict, then one line per problem."""
    contract = verdict.get("contract") or {"passed": 0, "total": 0, "missing": []}
    driver = sum(c["driver"]["passed"] for c in (verdict.get("exercised") or {}).values())
    api = sum(c["api"]["passed"] for c in (verdict.get("exercised") or {}).values())
    if verdict["passed"]:
        head = (f"CERTIFY PASSED: contract {contract['passed']}/{contract['total']}, all "
                f"{len(verdict['claimed'])} claimed capabilities exercised on the driver "
                f"({driver} driver-exercised and {api} API-only tests passed)")
    else:
        why = []
        if not contract["total"]:
            why.append("the contract tier did not run")
        elif contract["missing"]:
            why.append(f"{len(contract['missing'])} of {contract['total']} contract test(s) did not pass")
        if verdict["violations"]:
            why.append(f"{len(verdict['violations'])} claimed behaviour(s) skipped")
        if verdict.get("not_on_driver"):
            why.append(f"{len(verdict['not_on_driver'])} claimed capability(ies) not exercised on the driver")
        if verdict["failures"]:
            why.append(f"{len(verdict['failures'])} test(s) failed")
        if verdict["interrupted"]:
            why.append("run interrupted")
        head = "CERTIFY FAILED: " + ", ".join(why)
    lines = [head]
    lines += [f"  contract test did not pass: {m['nodeid']} ({m['outcome']}: {m['reason']})"
              for m in contract["missing"]]
    lines += [f"  skipped claimed capability {v['capability']!r}: {v['nodeid']} ({v['reason']})"
              for v in verdict["violations"]]
    lines += [f"  claimed capability {c!r}: no driver-exercised test of it passed"
              for c in verdict.get("not_on_driver", [])]
    lines += [f"  warning: claimed capability {c!r} is exercised by no test that ran"
              for c in verdict["unexercised"]]
    lines += [f"  warning: {m['nodeid']}: {m['problem']}" for m in verdict.get("misclassified", [])]
    return lines
