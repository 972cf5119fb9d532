"""The prepared-claims checkpoint: one JSON file, replaced atomically, so a restart loses nothing."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

VERSION = 1


def atomic_write(path: Path, data: bytes, durable: bool = True) -> None:
    """Write to a temp file in the same directory, rename: readers see old or new, never half.

    `durable` also fsyncs file and directory, so the write survives a power cut (the checkpoint);
    CDI specs live on tmpfs (/var/run) and are rewritten from the checkpoint when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


class Checkpoint:
    """claim UID -> prepared record ({namespace, name, devices: [...]})."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.claims: dict[str, dict[str, Any]] = {}
        if path.exists():
            data = json.loads(path.read_text())
            if data.get("version") != VERSION:
                raise ValueError(f"{path}: unsupported checkpoint version {data.get('version')!r}")
            self.claims = data.get("claims", {})

    def get(self, uid: str) -> dict[str, Any] | None:
        with self._lock:
            return self.claims.get(uid)

    def put(self, uid: str, record: dict[str, Any]) -> None:
        with self._lock:
            self.claims[uid] = record
            self._save()

    def remove(self, uid: str) -> None:
        with self._lock:
            if self.claims.pop(uid, None) is not None:
                self._save()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return json.loads(json.dumps(self.claims))

    def _save(self) -> None:
        body = json.dumps({"version": VERSION, "claims": self.claims}, indent=1, sort_keys=True)
        atomic_write(self.path, body.encode())
