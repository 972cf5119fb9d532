"""Artefacts cached by what they are built from: a cache hit is a directory with a stamp."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dra_conformance.paths import cache_dir

STAMP = ".complete"


def artefact(kind: str, key: str, build: Callable[[Path], None]) -> Path:
    """Return the cached directory for (kind, key), building it first when absent.

    The build writes into a scratch directory that is renamed only on success, so an
    interrupted build never looks like a hit.
    """
    final = cache_dir(kind) / key
    if (final / STAMP).exists():
        return final
    with locked(kind, key):
        if not (final / STAMP).exists():
            _build(final, key, build)
    return final


@contextmanager
def locked(kind: str, key: str) -> Iterator[None]:
    """One builder per artefact across processes (xdist workers, a CLI run beside a test run)."""
    with (cache_dir(kind) / f"{key.replace('/', '_').replace(':', '_')}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(final: Path, key: str, build: Callable[[Path], None]) -> None:
    scratch = final.with_name(final.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    build(scratch)
    (scratch / STAMP).write_text(key + "\n")
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)
