"""Report builders from the command line (the nightly merge job, re-rendering, vendor checks).

    python -m reports build  [RUN]            rebuild results/matrix/bundle of a run (default: latest)
    python -m reports merge  -o OUT RUN…      one matrix from several runs (dirs, results or matrix JSON)
    python -m reports bundle [RUN]            rebuild the certification bundle
    python -m reports verify BUNDLE           check a bundle dir or .tar.gz against SHA256SUMS
    python -m reports allure [RUN]            render Allure HTML (installs allure-commandline once)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dra_conformance.errors import HarnessError
from dra_conformance.paths import reports_dir
from reports import layout
from reports.allure import AllureUnavailable, render_allure
from reports.build import build_run, merge_runs
from reports.bundle import build_bundle
from reports.records import load_run
from reports.verify import verify


def _run_dir(arg: str | None) -> Path:
    path = Path(arg) if arg else reports_dir() / layout.LATEST
    if not path.is_dir():
        raise HarnessError(f"no run directory at {path}")
    return path.resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("build", help="rebuild a run's reports from its results/events")
    p.add_argument("run", nargs="?")
    p.add_argument("--certify", action="store_true", help="evaluate as a --certify run")
    p = sub.add_parser("merge", help="merge runs into one matrix")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("inputs", nargs="+")
    p = sub.add_parser("bundle", help="rebuild the certification bundle")
    p.add_argument("run", nargs="?")
    p = sub.add_parser("verify", help="verify a bundle's SHA256SUMS")
    p.add_argument("bundle")
    p = sub.add_parser("allure", help="render Allure HTML for a run")
    p.add_argument("run", nargs="?")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            run = _run_dir(args.run)
            results = load_run(run)
            results.certify = None  # re-evaluate against the driver profile
            made = build_run(results, run, certify_requested=args.certify)
            for path in made.matrix:
                print(path)
            if made.bundle:
                print(made.bundle.tarball)
            for problem in made.problems:
                print(problem, file=sys.stderr)
        elif args.cmd == "merge":
            for path in merge_runs([Path(i) for i in args.inputs], Path(args.out)):
                print(path)
        elif args.cmd == "bundle":
            made = build_bundle(_run_dir(args.run))
            print(made.tarball)
            for missing in made.missing:
                print(f"missing: {missing}", file=sys.stderr)
        elif args.cmd == "verify":
            problems, _ = verify(Path(args.bundle))
            for problem in problems:
                print(problem, file=sys.stderr)
            print("OK" if not problems else f"{len(problems)} problem(s)")
            return 1 if problems else 0
        elif args.cmd == "allure":
            run = _run_dir(args.run)
            try:
                print(render_allure(run / layout.ALLURE_RESULTS, run / layout.ALLURE_REPORT,
                                    log=run / layout.LOGS / "allure.log"))
            except AllureUnavailable as exc:
                print(exc, file=sys.stderr)  # a missing optional artefact, not an error
    except (HarnessError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
