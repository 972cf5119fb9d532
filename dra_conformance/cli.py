"""`dra-conformance`: one entry point; every failure the user can act on is one line."""

from __future__ import annotations

import argparse
import sys

from dra_conformance.errors import HarnessError
from dra_conformance.paths import REPO


def parser() -> argparse.ArgumentParser:
    from clusters.kind import cli as cluster_cli
    from clusters.kind import versions_cli
    from dra_conformance import clean, doctor, run
    from reports import verify

    p = argparse.ArgumentParser(prog="dra-conformance", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    cluster_cli.register(sub)
    run.register(sub)
    doctor.register(sub)
    clean.register(sub)
    verify.register(sub)
    versions_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # fixtures/, reports/, clusters/ live at the repo root
    try:
        args = parser().parse_args(argv)
        return int(args.func(args) or 0)
    except HarnessError as exc:
        from dra_conformance.doctor import hint

        print(f"dra-conformance: error: {exc}{hint()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dra-conformance: interrupted", file=sys.stderr)
        return 130
