"""`dra-conformance clean`: remove what the harness left anywhere, saying what; `--dry-run` only lists.

- kind clusters a run or self-test created whose process is gone and that nobody asked to keep
  (`--all`: every cluster the harness made, kept or the user's);
- on the remaining harness clusters and on `--kubeconfig`: objects of dead runs and bundled driver
  installs that no live run uses and nobody keeps;
- lock files nobody holds, and partial cache entries nobody is building.
"""

from __future__ import annotations

import argparse
import fcntl
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from dra_conformance.paths import cache_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clean", help="remove clusters, objects, locks and partial builds the harness left")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    p.add_argument("--all", action="store_true", help="also every kept cluster and the ones `cluster create` made")
    p.add_argument("--kubeconfig", help="also clean dead runs' objects on this existing cluster")
    p.set_defaults(func=_clean)


def _clean(a: argparse.Namespace) -> int:
    count = 0
    for what, remove in _findings(a):
        print(f"{'would remove' if a.dry_run else 'removing'} {what}", flush=True)
        if not a.dry_run:
            remove()
        count += 1
    print(f"{count} thing(s) {'to remove' if a.dry_run else 'removed'}" if count else "nothing to remove")
    return 0


def _findings(a: argparse.Namespace) -> Iterator[tuple[str, Callable[[], None]]]:
    from clusters.kind import cluster, ownership

    kubeconfigs = [Path(a.kubeconfig)] if a.kubeconfig else []
    if _engine_up():
        for name in cluster.existing():
            owner = ownership.read(name)
            if owner is None:
                continue  # not made by the harness
            kept = owner.keep or owner.by == ownership.BY_USER
            if (a.all or not kept) and not owner.alive():
                yield f"cluster {name} ({owner.by}, run {owner.run or '-'})", lambda n=name: cluster.delete(n)
            elif (kubeconfig := cluster.state_dir(name) / "kubeconfig").exists():
                kubeconfigs.append(kubeconfig)
    for kubeconfig in kubeconfigs:
        yield from _cluster_leftovers(kubeconfig)
    yield from _stale_cache()


def _engine_up() -> bool:
    from clusters.kind import host

    return host.engine_running()


def _cluster_leftovers(kubeconfig: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    from dra_conformance import kube
    from fixtures.driver_install import dead_installs, uninstall_recorded
    from fixtures.kubeapi import Api
    from fixtures.liveness import dead_runs, leftovers

    api = Api(kube.api_client(str(kubeconfig)))
    dead = dead_runs(api)
    where = f"(in {kubeconfig})"
    for kind, name, namespace in leftovers(api, dead):
        yield (f"{kind} {namespace + '/' if namespace else ''}{name} of a dead run {where}",
               lambda k=kind, n=name, ns=namespace: api.delete(k, n, ns))
    for ns in dead_installs(api, dead):
        yield (f"bundled driver install in namespace {ns['metadata']['name']} of a dead run {where}",
               lambda n=ns: uninstall_recorded(api, n))


def _stale_cache() -> Iterator[tuple[str, Callable[[], None]]]:
    root = cache_dir()
    for lock in sorted(root.rglob("*.lock")):
        if _free(lock):
            yield f"unheld lock {lock}", lambda p=lock: p.unlink(missing_ok=True)
    for partial in sorted(root.glob("*/*.partial")):
        lock = partial.parent / f"{partial.name.removesuffix('.partial')}.lock"
        if not lock.exists() or _free(lock):
            yield f"partial build {partial}", lambda p=partial: shutil.rmtree(p, ignore_errors=True)


def _free(lock: Path) -> bool:
    """Whether nobody holds `lock` (flock); checking takes and drops it at once."""
    try:
        with lock.open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except BlockingIOError:
        return False
    except OSError:
        return False
