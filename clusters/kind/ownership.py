"""Who made a kind cluster, for which run, and whether to keep it: `owner.json` next to its rendered
config. It decides which process deletes a cluster when a run ends, however its creator ended.

- `cluster create` makes a cluster the user's: kept, never deleted by a run.
- A run or a self-test session that created a cluster deletes it at its end unless asked to keep
  it; a later run that reuses a cluster whose creating process is gone, and that nobody asked to
  keep, deletes it at its end as the creator would have.
- A cluster with no owner file was made by hand (or by kind alone): never deleted.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from dra_conformance import proc
from dra_conformance.paths import cache_dir

BY_USER = "cluster create"
_FILE = "owner.json"


@dataclass(frozen=True)
class Owner:
    by: str            # "run", "selftest" or BY_USER
    run: str | None    # the run id (None for BY_USER)
    keep: bool         # the user asked to keep the cluster
    pid: int = 0       # the process that holds it while it runs
    host: str = ""

    @classmethod
    def me(cls, by: str, run: str | None, keep: bool) -> Owner:
        return cls(by, run, keep, os.getpid(), socket.gethostname())

    def alive(self) -> bool:
        """Whether the owning process still runs (on another host: assumed alive)."""
        return self.host != socket.gethostname() or proc.alive(self.pid)


def _path(name: str) -> Path:
    return cache_dir("clusters", name) / _FILE


def read(name: str) -> Owner | None:
    try:
        return Owner(**json.loads(_path(name).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write(name: str, owner: Owner) -> None:
    tmp = _path(name).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(owner), indent=2) + "\n")
    tmp.replace(_path(name))


def forget(name: str) -> None:
    _path(name).unlink(missing_ok=True)


def claim(name: str, me: Owner) -> None:
    """`me` starts to use an existing cluster: a run that asks to keep it makes it kept, and one whose
    creator is gone becomes `me`'s (so `me`'s supervisor can delete it should `me` die)."""
    current = read(name)
    if current is None or current.by == BY_USER or current.keep:
        return
    if me.keep or me.by == BY_USER or current.run == me.run or not current.alive():
        write(name, me)


def should_delete(name: str, me: Owner, others_running: bool) -> bool:
    """At the end of `me`: delete the cluster when it is `me`'s or its creator is gone, nobody asked to
    keep it, and no other run still uses it."""
    current = read(name)
    if current is None or current.by == BY_USER or current.keep or others_running:
        return False
    return current.run == me.run or not current.alive()


def abandoned_by(run: str) -> list[str]:
    """Clusters `run` owned and nobody asked to keep (its supervisor deletes them if the run died)."""
    root = cache_dir("clusters")
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and (o := read(p.name)) and o.run == run and not o.keep)
