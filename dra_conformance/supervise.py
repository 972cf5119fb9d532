"""Runs pytest as a child that cleans up, however the run is ended.

The child runs in a session of its own, so a terminal's Ctrl-C, a CI system's SIGTERM to the
process group or a hang-up reach only this parent. The parent turns the first of them into one
SIGINT for the child (pytest's interrupt path: partial report, cluster and objects removed) and
lets no later signal cut that clean-up short. The child's output goes through the parent, so a
closed stdout (`| tee` killed by the same Ctrl-C) costs the parent its echo, never the child its
clean-up. A child that dies anyway (kill -9, OOM) gets `after_death` run for it (the CLI deletes
the clusters it owned), and leaves its objects in a cluster to the next run's sweep of dead runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SIGNAL_FILE_ENV = "DRA_CONFORMANCE_SIGNAL_FILE"  # the child's report names the signal from it
RUN_ID_ENV = "DRA_CONFORMANCE_RUN_ID"


def interrupted_by() -> str | None:
    """In the child: the name of the signal that ended the run (None when none did)."""
    path = os.environ.get(SIGNAL_FILE_ENV)
    try:
        return Path(path).read_text().strip() or None if path else None
    except OSError:
        return None


class _Relay(threading.Thread):
    """Copies one child stream to ours; a broken pipe on ours stops the echo, not the copy."""

    def __init__(self, source: BinaryIO, sink: BinaryIO, on_broken: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.source, self.sink, self.on_broken, self.broken = source, sink, on_broken, False

    def run(self) -> None:
        for chunk in iter(lambda: self.source.read1(65536), b""):
            if self.broken:
                continue
            try:
                self.sink.write(chunk)
                self.sink.flush()
            except (BrokenPipeError, OSError):
                self.broken = True
                self.on_broken()


def run(argv: list[str], run_id: str, cwd: Path, after_death: Callable[[], None]) -> int:
    """Run `argv` (a pytest command) under supervision; its exit code, or 128+signal if one ended it."""
    with tempfile.NamedTemporaryFile("w", prefix="dra-signal-", delete=False) as f:
        signal_file = Path(f.name)
    env = {**os.environ, SIGNAL_FILE_ENV: str(signal_file), RUN_ID_ENV: run_id}
    if sys.stdout.isatty():  # the child writes to a pipe: keep colours and the terminal's width
        env.setdefault("PY_COLORS", "1")
        env.setdefault("FORCE_COLOR", "1")
        env.setdefault("COLUMNS", str(os.get_terminal_size().columns))
    got: list[int] = []
    children: list[subprocess.Popen[bytes]] = []
    lock = threading.RLock()  # the relay thread (broken pipe) and signal handlers both interrupt

    def interrupt(signum: int) -> None:
        name = signal.Signals(signum).name
        with lock:
            if got:
                _say(f"dra-conformance: {name} again: still cleaning up, please wait")
                return
            got.append(signum)
            signal_file.write_text(name)
        _say(f"dra-conformance: {name}: interrupting the run; it cleans up before it exits")
        for child in children:
            child.send_signal(signal.SIGINT)

    # Handlers first: a signal that comes while the child starts must not kill only us.
    previous = {s: signal.signal(s, lambda signum, _frame: interrupt(signum)) for s in SIGNALS}
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=cwd, start_new_session=True)
    with lock:
        children.append(child)
        if got:
            child.send_signal(signal.SIGINT)
    # Nobody reads our output any more: end the run as SIGPIPE would, but with its clean-up.
    relays = [_Relay(child.stdout, sys.stdout.buffer, lambda: interrupt(signal.SIGPIPE)),
              _Relay(child.stderr, sys.stderr.buffer, lambda: None)]
    for relay in relays:
        relay.start()
    try:
        code = child.wait()
        for relay in relays:
            relay.join()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        signal_file.unlink(missing_ok=True)
    if code < 0:  # killed: it did not get to clean up after itself
        _say(f"dra-conformance: the run was killed ({signal.Signals(-code).name}); cleaning up after it")
        after_death()
    if got:
        return 128 + got[0]
    return code if code >= 0 else 128 - code


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except OSError:
        pass
