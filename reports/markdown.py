"""The matrix as a Markdown summary (GitHub job summaries, PR comments, the bundle's index)."""

from __future__ import annotations

from typing import Any

from reports.certify import verdict_lines

_ICON = {"pass": "✅", "fail": "❌", "skip": "⏭️", "partial": "⚠️", "not_run": "⏸️"}
_EXCERPT_LINES = 25


def _esc(text: Any) -> str:
    # Table cells: pipes and newlines would break the row.
    return str(text).replace("|", "\\|").replace("\n", " ")


def _counts(c: dict[str, Any]) -> str:
    parts = []
    passed = c.get("passed", 0) + c.get("xpassed", 0)
    if passed:
        parts.append(f"{passed} passed")
    failed = c.get("failed", 0) + c.get("error", 0)
    skipped, known = c.get("skipped", 0), c.get("xfailed", 0)
    if failed:
        parts.append(f"**{failed} failed**")
    if skipped:
        parts.append(f"{skipped} skipped")
    if known:  # strict xfail: an upstream deviation listed in suites/known_issues.yaml
        parts.append(f"{known} known upstream issue{'s' if known > 1 else ''}")
    if c.get("not_run"):
        parts.append(f"{c['not_run']} not run")
    return ", ".join(parts) or "no tests"


def _on_driver(cell: dict[str, Any]) -> str:
    """How many of the passes had the driver prepare a device (the rest are API-only)."""
    driver = cell.get("driver")
    return f" · driver {driver['passed']}/{driver['total']}" if driver and driver.get("total") else ""


def _fence(text: str) -> str:
    lines = text.rstrip().splitlines()
    if len(lines) > _EXCERPT_LINES:
        lines = lines[:_EXCERPT_LINES] + [f"… ({len(lines) - _EXCERPT_LINES} more lines)"]
    body = "\n".join(lines).replace("```", "ʼʼʼ")
    return f"```text\n{body}\n```"


def render_markdown(matrix: dict[str, Any]) -> str:
    cols = matrix["columns"]
    totals = matrix["totals"]
    out = ["# DRA conformance matrix", ""]
    out.append(f"Generated {matrix['generated_at']} · {len(cols)} run(s) · "
               f"{totals.get('total', 0)} tests: {_counts(totals)}")
    out.append("")
    if matrix["interrupted"]:
        out += ["> **INTERRUPTED** — this report is partial; tests counted as *not run* never finished.", ""]

    heads = [f"{_esc(c['k8s_version'])} / {_esc(c['profile'])}" for c in cols]
    out.append("| feature | " + " | ".join(heads) + " |")
    out.append("|---" * (len(cols) + 1) + "|")
    for feature in matrix["features"]:
        row = [f"`{_esc(feature)}`"]
        for c in cols:
            cell = matrix["cells"][feature].get(c["key"])
            if not cell:
                row.append("—")
                continue
            maturity = f" ({cell['maturity']})" if cell.get("maturity") else ""
            row.append(f"{_ICON.get(cell['status'], '')} {_counts(cell)}{maturity}{_on_driver(cell)}")
        out.append("| " + " | ".join(row) + " |")
    out.append("")

    out += ["## Runs", "", "| column | Kubernetes | profile | driver | run | outcome | certify |",
            "|---|---|---|---|---|---|---|"]
    for c in cols:
        patch = f" ({c['k8s_patch']})" if c.get("k8s_patch") else ""
        cert = c.get("certify") or {}
        certify = ("passed" if cert.get("passed") else "**FAILED**") if cert.get("requested") else "—"
        state = " **(interrupted)**" if c.get("interrupted") else ""
        out.append(f"| {_esc(c['key'])} | {_esc(c['k8s_version'])}{_esc(patch)} | {_esc(c['profile'])} | "
                   f"{_esc(c.get('driver') or '—')} | `{_esc(c.get('run_id') or '—')}` | "
                   f"{_counts(c['totals'])}{state} | {certify} |")
    out.append("")

    skip_lines = [f"- **{_esc(col)}** · `{feature}`: {n}× {reason}"
                  for feature, row in matrix["cells"].items()
                  for col, cell in row.items()
                  for reason, n in cell.get("skip_reasons", {}).items()]
    if skip_lines:
        out += ["## Skip reasons", "", *skip_lines, ""]

    out += ["## Driver-exercised and API-only tests", "",
            "Driver-exercised: the driver prepared a device on a node. API-only: the API server alone "
            "decides the outcome, so those pass with any driver.", "",
            "| feature | " + " | ".join(f"{h} driver / API passed" for h in heads) + " |",
            "|---" * (len(cols) + 1) + "|"]
    for feature in matrix["features"]:
        row = [f"`{_esc(feature)}`"]
        for c in cols:
            cell = matrix["cells"][feature].get(c["key"]) or {}
            d, a = cell.get("driver") or {}, cell.get("api") or {}
            row.append(f"{d.get('passed', 0)}/{d.get('total', 0)} · {a.get('passed', 0)}/{a.get('total', 0)}"
                       if cell else "—")
        out.append("| " + " | ".join(row) + " |")
    out.append("")

    problems = [(c["key"], line) for c in cols if (c.get("certify") or {}).get("requested")
                for line in verdict_lines(c["certify"])[1:]]
    if problems:
        out += ["## Certification problems", ""]
        out += [f"- **{_esc(col)}**: {_esc(line.strip())}" for col, line in problems]
        out.append("")

    if matrix["failures"]:
        out += ["## Failures", ""]
        for f in matrix["failures"]:
            out.append(f"### ❌ {_esc(f['column'])} · `{f['nodeid']}`")
            out.append("")
            out.append(f"{f['outcome']} in {f.get('phase') or '?'} (feature `{f['feature']}`): "
                       f"{_esc(f['message'])}")
            out.append("")
            for d in f.get("diagnostics", []):
                out += [f"<details><summary>diagnostics: {d['name']} ({d['path']})</summary>", "",
                        _fence(d.get("excerpt") or "(file not available)"), "", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"
