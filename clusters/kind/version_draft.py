"""A version-table entry drafted from a release's own source, and how the table drifts from it.

`versions add` writes the draft into versions.yaml (`draft`); `versions check` and
tests/clusters/test_version_table_source.py compare the table with the source (`drift`).

From the source: the patch, every DRA gate's stage, default and lock at the minor (a gate the
source no longer has gets no entry there), the resource.k8s.io and scheduling.k8s.io versions it
serves and which of them are off by default. Carried over from the minor's own entry, else the
nearest older one: the node image repository, the kubeadm API (checked against the source) and
the quirks; a feature's runtime-config APIs as far as the release still serves them off by default.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from clusters.kind import versions
from clusters.kind.gatesource import GateSpec
from clusters.kind.releasesource import Facts
from clusters.kind.table_text import TableText, flow

# A DRA gate is one the table lists, or a gate of the source named like one...
DRA_PREFIXES = ("DRA", "ResourceHealth", "KubeletPodResources")
# ...except this one: which pods the PodResources List call reports, older than DRA and not about it.
NOT_DRA = frozenset({"KubeletPodResourcesListUseActivePods"})
# scheduling.k8s.io/v1 serves PriorityClass only; the group's pre-GA versions carry the Workload
# API that DRA's workload claims use, and those are what the table tracks of it.
UNTRACKED_APIS = frozenset({"scheduling.k8s.io/v1"})
_GROUPS = ("resource.k8s.io", "scheduling.k8s.io")
_API_VERSION = re.compile(r"v(\d+)(?:(beta|alpha)(\d+))?")


@dataclass(frozen=True)
class Draft:
    text: str                # versions.yaml with the minor's entry as the source says
    notes: tuple[str, ...]   # what a reviewer should look at


def stage_text(spec: GateSpec | versions.Stage) -> str:
    """The table's notation: "ga on locked", "alpha off"."""
    return f"{spec.stage} {'on' if spec.default else 'off'}" + (" locked" if spec.locked else "")


def dra_gates(table: dict[str, Any], facts: Facts) -> dict[str, str]:
    """Every DRA gate of the source at its minor, in the table's notation."""
    return {g: stage_text(s) for g, s in facts.gates.items()
            if g in table["gates"] or (g.startswith(DRA_PREFIXES) and g not in NOT_DRA)}


def tracked_apis(facts: Facts) -> dict[str, bool]:
    """The API versions the table records (on by default or not), in the table's order."""
    return {api: facts.apis[api] for api in sorted(set(facts.apis) - UNTRACKED_APIS, key=_api_order)}


def drift(table: dict[str, Any], facts: Facts) -> list[str]:
    """One line per difference between the table's entry for the minor and its source."""
    return _gate_drift(table, facts) + _api_drift(table, facts) + _kubeadm_drift(table, facts)


def draft(text: str, facts: Facts) -> Draft:
    """versions.yaml `text` with `facts.minor` set from its source (added or replaced)."""
    table = yaml.safe_load(text)
    minor, notes = facts.minor, []
    older = _nearest_older(table, minor)
    base = minor if minor in table["versions"] else older or min(table["versions"], key=versions.version_key)
    entry = _entry(table["versions"][base], facts)
    if base != minor:
        notes.append(f"carried over from {base}: kubeadm_api {entry['kubeadm_api']}, quirks "
                     f"[{', '.join(entry.get('quirks', []))}]")
    if problem := _kubeadm_problem(entry["kubeadm_api"], facts):
        notes.append(f"{problem}: set kubeadm_api by hand")
    if facts.prerelease:
        notes.append(f"{facts.patch} is a pre-release: rerun `versions add {minor} --patch v{minor}.0` once "
                     "that is served")

    doc = TableText(text)
    later = [m for m in table["versions"] if versions.version_key(m) > versions.version_key(minor)]
    doc.put_entry("versions", minor, _entry_lines(minor, entry), before=min(later, key=versions.version_key,
                                                                            default=None))
    want = dra_gates(table, facts)
    notes += _edit_gates(doc, table, want, facts, older)
    for key, spec in table["features"].items():
        notes += _carry_feature_apis(doc, key, spec, minor, older, facts, known=minor in table["versions"],
                                     gone=spec["gate"] not in want)

    new = doc.text()
    parsed = yaml.safe_load(new)
    if _gate_drift(parsed, facts) + _api_drift(parsed, facts) or parsed["versions"][minor]["patch"] != facts.patch:
        raise RuntimeError(f"the edited versions.yaml does not say what the {facts.patch} source does")
    return Draft(new, tuple(notes))


def unified_diff(old: str, new: str, path: str) -> str:
    """The change as `git diff` shows it (a/ b/ prefixes for a path relative to the repository)."""
    before, after = (path, path) if path.startswith("/") else (f"a/{path}", f"b/{path}")
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=before, tofile=after))


def _edit_gates(doc: TableText, table: dict[str, Any], want: dict[str, str], facts: Facts,
                older: str | None) -> list[str]:
    """Each gate's stage at the minor as the source says (none where it is gone); new DRA gates."""
    minor, notes = facts.minor, []
    for gate, spec in table["gates"].items():
        stages = {m: s for m, s in spec["stages"].items() if m != minor} | ({minor: want[gate]} if gate in want else {})
        if stages != spec["stages"]:
            doc.set_flow_field("gates", gate, "stages", _by_minor(stages))
        if older and gate not in want and (was := spec["stages"].get(older)):
            keyed = [k for k, f in table["features"].items() if f["gate"] == gate]
            stays = f"; {', '.join(keyed)} stays GA and on" if keyed and was.startswith("ga on") else ""
            notes.append(f"gate {gate} is gone in {minor} (was {was} in {older}){stays}")
    for gate in sorted(set(want) - set(table["gates"])):
        doc.put_entry("gates", gate, [f"  {gate}:", f"    # new in {minor}: add its kep and components",
                                      f"    stages: {flow({minor: want[gate]})}"])
        notes.append(f"new DRA gate {gate} ({want[gate]}): add its kep and components")
    return notes


def _entry(base: dict[str, Any], facts: Facts) -> dict[str, Any]:
    entry: dict[str, Any] = {"patch": facts.patch}
    if facts.prerelease:
        entry["prerelease"] = True
    entry |= {"node_image": base["node_image"].rsplit(":", 1)[0] + ":" + facts.patch,
              "kubeadm_api": base["kubeadm_api"], "apis": tracked_apis(facts)}
    if base.get("quirks"):
        entry["quirks"] = list(base["quirks"])
    return entry


def _entry_lines(minor: str, entry: dict[str, Any]) -> list[str]:
    lines = [f'  "{minor}":']
    for key, value in entry.items():
        if key == "apis":
            lines += ["    apis:"] + [f"      {api}: {'on' if on else 'off'}" for api, on in value.items()]
        elif isinstance(value, list):
            lines.append(f"    {key}: [{', '.join(value)}]")
        else:
            lines.append(f"    {key}: {str(value).lower() if isinstance(value, bool) else value}")
    return lines


def _carry_feature_apis(doc: TableText, key: str, spec: dict[str, Any], minor: str, older: str | None,
                        facts: Facts, *, known: bool, gone: bool) -> list[str]:
    """A feature's runtime-config APIs at `minor`: a known minor keeps its own, a new one gets the
    older minor's; either only as far as the release still needs runtime-config for them."""
    apis = spec.get("apis") or {}
    source = minor if known else older
    wanted = [] if gone else apis.get(source, [])
    why = {a: _no_runtime_config(a, facts) for a in wanted}
    kept = [a for a in wanted if why[a] is None]
    new = {m: a for m, a in apis.items() if m != minor} | ({minor: kept} if kept else {})
    if new != apis:
        doc.set_flow_field("features", key, "apis", _by_minor(new))
    notes = [f"feature {key}: {a} of {source} dropped in {minor}: {why[a]}" for a in wanted if why[a]]
    if kept and source != minor:
        notes.append(f"feature {key}: runtime-config {', '.join(kept)} carried over from {source}")
    return notes


def _no_runtime_config(api: str, facts: Facts) -> str | None:
    """Why `api` needs no runtime-config in the release (None: it does)."""
    if api not in facts.apis:
        return "not served"
    if facts.apis[api]:
        return "on by default"
    group = api.split("/")[0]
    served_on = set().union(*(facts.resources.get(a, ()) for a, on in facts.apis.items()
                              if on and a.split("/")[0] == group))
    mine = facts.resources.get(api, frozenset())
    if mine and mine <= served_on:
        return f"all it serves ({', '.join(sorted(mine))}) is served on by default"
    return None


def _gate_drift(table: dict[str, Any], facts: Facts) -> list[str]:
    want = dra_gates(table, facts)
    have = {g: stage_text(versions.Stage.parse(s)) for g, spec in table["gates"].items()
            if (s := spec.get("stages", {}).get(facts.minor))}
    return [f"gate {g}: the table says {have.get(g) or 'absent'}, the {facts.patch} source {want.get(g) or 'absent'}"
            for g in sorted(set(want) | set(have)) if want.get(g) != have.get(g)]


def _api_drift(table: dict[str, Any], facts: Facts) -> list[str]:
    want = tracked_apis(facts)
    entry = table["versions"][facts.minor]
    have = {api: state in (True, "on") for api, state in entry["apis"].items()}
    out = [f"api {api}: the table says {_serving(have.get(api))}, the {facts.patch} source {_serving(want.get(api))}"
           for api in sorted(set(want) | set(have), key=_api_order) if want.get(api) != have.get(api)]
    for key, spec in table["features"].items():
        for api in (spec.get("apis") or {}).get(facts.minor, []):
            if want.get(api) is not False:
                out.append(f"feature {key} turns {api} on through runtime-config; the {facts.patch} source "
                           f"{_serving(want.get(api))}")
    return out


def _kubeadm_drift(table: dict[str, Any], facts: Facts) -> list[str]:
    problem = _kubeadm_problem(table["versions"][facts.minor]["kubeadm_api"], facts)
    return [problem] if problem else []


def _kubeadm_problem(api: str, facts: Facts) -> str | None:
    if api in facts.kubeadm_apis:
        return None
    return f"kubeadm_api {api} is not in the {facts.patch} source (it has {', '.join(sorted(facts.kubeadm_apis))})"


def _serving(state: bool | None) -> str:
    return {True: "on", False: "off", None: "absent"}[state]


def _api_order(api: str) -> tuple[int, int, tuple[int, ...]]:
    """resource before scheduling; within a group GA, beta, alpha; then by number (the table's order)."""
    group, version = api.split("/")
    m = _API_VERSION.fullmatch(version)
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)] if m else 3
    numbers = tuple(int(x) for x in m.groups()[::2] if x) if m else ()
    return (_GROUPS.index(group) if group in _GROUPS else len(_GROUPS), level, numbers)


def _nearest_older(table: dict[str, Any], minor: str) -> str | None:
    older = [m for m in table["versions"] if versions.version_key(m) < versions.version_key(minor)]
    return max(older, key=versions.version_key, default=None)


def _by_minor(mapping: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(mapping.items(), key=lambda kv: versions.version_key(kv[0])))
