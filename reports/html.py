"""The matrix as one self-contained HTML page: inline CSS, no scripts, no external assets."""

from __future__ import annotations

from typing import Any

import jinja2

from reports.certify import verdict_lines
from reports.records import OUTCOMES

_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined)

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DRA conformance matrix</title>
<style>
:root { --pass:#1a7f37; --pass-bg:#dafbe1; --fail:#cf222e; --fail-bg:#ffebe9; --skip:#7d5b00;
        --skip-bg:#fff8c5; --partial:#bc4c00; --partial-bg:#fff1e5; --none:#6e7781; --none-bg:#f6f8fa;
        --border:#d0d7de; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:#1f2328;
       margin: 24px; background:#fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: var(--none); margin-bottom: 16px; }
.banner { padding: 8px 12px; border-radius: 6px; font-weight: 600; margin: 8px 0; }
.banner.fail { background: var(--fail-bg); color: var(--fail); }
.banner.partial { background: var(--partial-bg); color: var(--partial); }
.banner.pass { background: var(--pass-bg); color: var(--pass); }
table { border-collapse: collapse; max-width: 100%; }
table.runs td { overflow-wrap: break-word; }
th, td { border: 1px solid var(--border); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
table.matrix td.cell { min-width: 130px; }
td.pass { background: var(--pass-bg); } td.fail { background: var(--fail-bg); }
td.skip { background: var(--skip-bg); } td.partial { background: var(--partial-bg); }
td.not_run, td.none { background: var(--none-bg); color: var(--none); }
.status { font-weight: 700; text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
td.pass .status { color: var(--pass); } td.fail .status { color: var(--fail); }
td.skip .status { color: var(--skip); } td.partial .status { color: var(--partial); }
.counts { font-variant-numeric: tabular-nums; }
.badge { display: inline-block; border-radius: 10px; padding: 0 7px; font-size: 11px; margin-left: 4px;
         border: 1px solid var(--border); background: #fff; color: #57606a; }
.badge.alpha { border-color: #d4a72c; color: #7d5b00; } .badge.beta { border-color: #54aeff; color: #0550ae; }
.badge.ga { border-color: #4ac26b; color: #1a7f37; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid var(--border); border-radius: 6px; padding: 8px;
      overflow-x: auto; white-space: pre-wrap; max-height: 420px; overflow-y: auto; }
details { margin: 6px 0; } summary { cursor: pointer; }
.failure { border-left: 4px solid var(--fail); padding: 4px 12px; margin: 12px 0; background: #fffafa; }
.msg { color: var(--fail); white-space: pre-wrap; }
.muted { color: var(--none); }
</style>
</head>
<body>
<h1>DRA conformance matrix</h1>
<div class="sub">generated {{ m.generated_at }} · {{ m.columns|length }} run(s) ·
 {{ m.totals.get('total', 0) }} tests: {{ m.totals.get('passed', 0) }} passed,
 {{ m.totals.get('failed', 0) + m.totals.get('error', 0) }} failed,
 {{ m.totals.get('skipped', 0) }} skipped{% if m.totals.get('xfailed') %},
 {{ m.totals.get('xfailed') }} known upstream issue(s){% endif %}</div>
{% if m.interrupted %}<div class="banner partial">INTERRUPTED: this report is partial; tests marked
 "not run" never finished.</div>{% endif %}
{% if failed %}<div class="banner fail">{{ failed }} test(s) failed</div>
{% elif not m.interrupted %}<div class="banner pass">no failures</div>{% endif %}

<table class="matrix">
<tr><th>feature</th>{% for c in m.columns %}<th>Kubernetes {{ c.k8s_version }}<br>
<span class="muted">{{ c.profile }}{% if c.k8s_patch %} · {{ c.k8s_patch }}{% endif %}</span></th>
{% endfor %}</tr>
{% for f in m.features %}
<tr><th>{{ f }}</th>
{% for c in m.columns %}{% set cell = m.cells[f].get(c.key) %}
{% if cell %}
<td class="cell {{ cell.status }}" title="{{ reasons_title(cell) }}">
<span class="status">{{ cell.status|replace('_', ' ') }}</span>
{% for mat in (cell.maturity or '').split('/') if mat %}<span class="badge {{ mat }}">{{ mat }}</span>
{% endfor %}
<div class="counts">{{ counts(cell) }}</div>
{% if cell.driver and cell.driver.total %}<div class="muted">driver-exercised
 {{ cell.driver.passed }}/{{ cell.driver.total }} · API-only {{ cell.api.passed }}/{{ cell.api.total }}</div>
{% endif %}</td>
{% else %}<td class="cell none">—</td>{% endif %}
{% endfor %}</tr>
{% endfor %}
</table>

<h2>Runs</h2>
<table class="runs">
<tr><th>column</th><th>Kubernetes</th><th>profile</th><th>driver</th><th>run</th><th>tests</th>
<th>outcome</th><th>duration</th><th>feature gates</th><th>certify</th></tr>
{% for c in m.columns %}
<tr><td>{{ c.key }}</td><td>{{ c.k8s_version }}{% if c.k8s_patch %} ({{ c.k8s_patch }}){% endif %}</td>
<td>{{ c.profile }}</td><td>{{ c.driver or '—' }}</td><td><code>{{ c.run_id or '—' }}</code></td>
<td>{{ c.totals.get('total', 0) }}</td><td class="counts">{{ counts(c.totals) }}{% if c.interrupted %}
<br><b>interrupted</b>{% endif %}</td>
<td>{{ duration(c.get('duration')) }}</td>
<td>{% for g in gates(c.get('feature_gates')) %}<code>{{ g }}</code><br>{% else %}—{% endfor %}</td>
<td>{% if c.get('certify') and c.certify.get('requested') %}{{ 'passed' if c.certify.passed else 'FAILED' }}
{% for line in verdict_lines(c.certify)[1:] %}
<br><span class="msg">{{ line }}</span>{% endfor %}
{% else %}—{% endif %}</td></tr>
{% endfor %}
</table>

{% if skips %}
<h2>Skip reasons</h2>
<table>
<tr><th>column</th><th>feature</th><th>tests</th><th>reason</th></tr>
{% for col, feature, reason, n in skips %}
<tr><td>{{ col }}</td><td>{{ feature }}</td><td>{{ n }}</td><td>{{ reason }}</td></tr>
{% endfor %}
</table>
{% endif %}

{% if m.failures %}
<h2>Failures</h2>
{% for f in m.failures %}
<div class="failure">
<div><b>{{ f.outcome|upper }}</b> in {{ f.phase or '?' }} · {{ f.column }} · {{ f.feature }}</div>
<div><code>{{ f.nodeid }}</code></div>
<div class="msg">{{ f.message }}</div>
{% if f.details %}<details><summary>traceback</summary><pre>{{ f.details }}</pre></details>{% endif %}
{% for d in f.diagnostics %}
<details open><summary>diagnostics: {{ d.name }} <span class="muted">({{ d.path }})</span></summary>
<pre>{{ d.get('excerpt') or '(file not available)' }}</pre></details>
{% endfor %}
</div>
{% endfor %}
{% endif %}
</body>
</html>
"""


def _counts(cell: dict[str, Any]) -> str:
    words = {"passed": "passed", "failed": "failed", "error": "errors", "skipped": "skipped",
             "xfailed": "known upstream issue(s)", "xpassed": "xpassed", "not_run": "not run"}
    parts = [f"{cell.get(o, 0)} {words[o]}" for o in OUTCOMES if cell.get(o)]
    return ", ".join(parts) or "no tests"


def _reasons_title(cell: dict[str, Any]) -> str:
    return "\n".join(f"{n}× {r}" for r, n in cell.get("skip_reasons", {}).items())


def _gates(gates: Any) -> list[str]:
    if isinstance(gates, dict):
        return [f"{k}={str(v).lower()}" for k, v in gates.items()]
    return [str(g) for g in gates or []]


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def render_html(matrix: dict[str, Any]) -> str:
    skips = [(col, feature, reason, n)
             for feature, row in matrix["cells"].items()
             for col, cell in row.items()
             for reason, n in cell.get("skip_reasons", {}).items()]
    failed = sum(c["totals"].get("failed", 0) + c["totals"].get("error", 0) for c in matrix["columns"])
    template = _ENV.from_string(_TEMPLATE)
    return template.render(m=matrix, skips=skips, failed=failed, counts=_counts,
                           reasons_title=_reasons_title, duration=_duration, gates=_gates,
                           verdict_lines=verdict_lines)
