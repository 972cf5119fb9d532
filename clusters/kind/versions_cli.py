"""`dra-conformance versions add|check`: the version table from, and against, each release's own
source (the k8s.io/kubernetes module at the release tag, from the Go module proxy)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from clusters.kind import releasesource, version_draft, versions
from dra_conformance.errors import HarnessError
from dra_conformance.paths import REPO


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("versions", help="add a Kubernetes minor to the version table, or check the table, "
                                        "from the release's own source")
    vsub = p.add_subparsers(dest="action", required=True)

    add = vsub.add_parser("add", help="write a minor's entry as its source says (prints the diff first)")
    add.add_argument("minor", help="e.g. 1.38")
    add.add_argument("--patch", help="release tag, e.g. v1.38.0 or v1.38.0-beta.0 (default: the newest release "
                                     "of the minor the Go module proxy serves)")
    add.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    add.set_defaults(func=_add)

    check = vsub.add_parser("check", help="list where the table differs from each release's source; "
                                          "exit 1 when it does")
    check.add_argument("minor", nargs="?", help="one minor of the table (default: all of them)")
    check.set_defaults(func=_check)
    for cmd in (add, check):
        cmd.add_argument("--table", type=Path, default=versions.TABLE,
                         help="the version table (default: the harness's own)")


def _add(args: argparse.Namespace) -> int:
    minor = releasesource.parse_minor(args.minor)
    patch = releasesource.check_patch(minor, args.patch) if args.patch else releasesource.newest_patch(minor)
    facts = releasesource.facts(minor, patch)
    old = args.table.read_text()
    result = version_draft.draft(old, facts)
    name = _shown(args.table)
    diff = version_draft.unified_diff(old, result.text, name)
    if diff:
        print(diff, end="")
    else:
        print(f"{name} already has {minor} as the {patch} source says")
    for note in result.notes:
        print(f"note: {note}")
    if diff and not args.dry_run:
        args.table.write_text(result.text)
        print(f"wrote {name}")
    return 0


def _check(args: argparse.Namespace) -> int:
    table = yaml.safe_load(args.table.read_text())
    minors = [_known(table, args.minor)] if args.minor else list(table["versions"])
    drifted = False
    for minor in minors:
        patch = table["versions"][minor]["patch"]
        lines = version_draft.drift(table, releasesource.facts(minor, patch))
        print(f"{minor}: {f'{len(lines)} difference(s) from' if lines else 'matches'} the {patch} source")
        for line in lines:
            print(f"  {line}")
        drifted |= bool(lines)
    return 1 if drifted else 0


def _known(table: dict[str, Any], text: str) -> str:
    minor = releasesource.parse_minor(text)
    if minor not in table["versions"]:
        raise HarnessError(f"unknown Kubernetes version {text!r}; supported: {', '.join(table['versions'])}")
    return minor


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
