"""`dra-conformance run` (the conformance job) and `dra-conformance selftest` (the harness's tests)."""

from __future__ import annotations

import argparse
import sys
import uuid

from dra_conformance.paths import REPO


def register(sub: argparse._SubParsersAction) -> None:
    from clusters.kind.cli import add_spec_options

    run = sub.add_parser("run", help="conformance run: cluster, driver, suites, reports")
    add_spec_options(run)
    run.set_defaults(profile=None)  # default, or under --certify the first that suits the driver's claims
    run.add_argument("--driver-profile", help="driver profile YAML (default: the bundled fake GPU driver)")
    run.add_argument("--kubeconfig", help="test an existing cluster instead of creating one")
    run.add_argument("--keep-cluster", action="store_true", help="leave the cluster running afterwards")
    run.add_argument("--certify", action="store_true",
                     help="certify the driver: the contract tier and every claimed behaviour must pass on the driver")
    run.add_argument("-n", "--numprocesses", default="0", help="pytest-xdist workers (default 0)")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    run.set_defaults(func=_run)

    st = sub.add_parser("selftest", help="the harness's own tests (real kind cluster, API server, gRPC)")
    st.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: passed to pytest")
    st.set_defaults(func=_selftest)


def _pytest(args: list[str]) -> int:
    from dra_conformance import supervise

    run_id = uuid.uuid4().hex[:10]
    return supervise.run([sys.executable, "-m", "dra_conformance.child", *args], run_id, cwd=REPO,
                         after_death=lambda: _delete_abandoned(run_id))


def _delete_abandoned(run_id: str) -> None:
    from clusters.kind import cluster, ownership

    existing = set(cluster.existing())
    for name in ownership.abandoned_by(run_id):
        if name in existing:
            cluster.delete(name)


def _rest(extra: list[str]) -> list[str]:
    return extra[1:] if extra[:1] == ["--"] else extra


def _run(a: argparse.Namespace) -> int:
    from clusters.kind.cli import spec_from

    # An unknown version or profile fails here, in one line, before pytest starts.
    spec = spec_from(argparse.Namespace(k8s=a.k8s, profile=a.profile or "default", workers=a.workers))
    if a.certify and not a.profile and not a.kubeconfig:  # named now: the run directory carries it
        from fixtures import certify_target, driver_profile

        a.profile = certify_target.cluster_profile(None, spec.release.minor, driver_profile.load(a.driver_profile),
                                                   True)
    rest = _rest(a.pytest_args)
    # Paths after `--` narrow the run (`-- suites/core`); without any, every suite runs.
    paths = [x for x in rest if not x.startswith("-") and (REPO / x.split("::")[0]).exists()]
    args = ([] if paths else ["suites"]) + [
        "--k8s-version", a.k8s, *(["--profile", a.profile] if a.profile else []), "--workers", str(a.workers),
        "-n", a.numprocesses, "--allure-html"]
    if a.driver_profile:
        args += ["--driver-profile", a.driver_profile]
    if a.kubeconfig:
        args += ["--kubeconfig", a.kubeconfig]
    if a.keep_cluster:
        args.append("--keep-cluster")
    if a.certify:
        args.append("--certify")
    return _pytest(args + rest)


def _selftest(a: argparse.Namespace) -> int:
    # Self-tests write no conformance report (the report plugin has its own tests).
    return _pytest(["tests", "--no-reports", *_rest(a.pytest_args)])
