"""The machine-readable event stream: one JSON object per line, flushed as the run goes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class EventWriter:
    """Appends events to events.jsonl; each line is flushed so a killed run leaves a readable stream."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("a", encoding="utf-8")

    def emit(self, event: str, **data: Any) -> None:
        if self._fh.closed:
            return
        line = json.dumps({"event": event, "ts": round(time.time(), 3), **data}, default=str)
        self._fh.write(line + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Events in order; a half-written last line (the writer was killed) is ignored."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
