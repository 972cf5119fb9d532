"""Whole-suite wall time at several xdist worker counts, for two checkouts side by side.

    .venv/bin/python benchmarks/suite_wall.py --kubeconfig K [--before DIR] [--after DIR] [-n 0 -n 4]
        [-- pytest args]

Each (checkout, -n) pair is one `./dra-conformance run --kubeconfig K -- <args> -n N` of that
checkout on the same existing cluster (the bundled driver is installed by each run), one after
another. Prints the wall time, the test counts and, per -n, the after/before ratio.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

COUNTS = re.compile(r"=+ (.*\d+ (?:passed|failed|skipped|error).*) in [\d.]+s")


def run(checkout: Path, kubeconfig: str, workers: str, extra: list[str]) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run([str(checkout / "dra-conformance"), "run", "--kubeconfig", kubeconfig, "--", *extra,
                           "-n", workers], cwd=checkout, capture_output=True, text=True)
    wall = time.monotonic() - started
    found = COUNTS.findall(proc.stdout)
    return wall, found[-1] if found else f"exit {proc.returncode}: {proc.stdout.strip().splitlines()[-1:]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--before", type=Path, help="checkout to compare with (e.g. a worktree of the parent commit)")
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("-n", dest="workers", action="append", help="xdist workers (repeatable; default 0 and 4)")
    ap.add_argument("extra", nargs="*", help="pytest arguments after --")
    a = ap.parse_args()
    checkouts = [("before", a.before)] if a.before else []
    checkouts.append(("after", a.after))
    walls: dict[tuple[str, str], float] = {}
    print(f"{'checkout':8} {'-n':>3} {'wall':>8}  tests", flush=True)
    for workers in a.workers or ["0", "4"]:
        for label, checkout in checkouts:
            wall, counts = run(checkout, a.kubeconfig, workers, a.extra)
            walls[label, workers] = wall
            print(f"{label:8} {workers:>3} {wall:7.0f}s  {counts}", flush=True)
        if ("before", workers) in walls:
            print(f"{'ratio':8} {workers:>3} {walls['after', workers] / walls['before', workers]:7.2f}x  after/before",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
