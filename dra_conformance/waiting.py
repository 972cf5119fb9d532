"""Polling with one central timeout table; a timeout reports the last observed state."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

import yaml

from dra_conformance.errors import WaitTimeout

T = TypeVar("T")
_TABLE = Path(__file__).with_name("timeouts.yaml")
# Each finished wait, with how long it took: a failed test's captured log shows where its time went.
_log = logging.getLogger(__name__)


@cache
def timeouts() -> dict[str, float]:
    table = yaml.safe_load(_TABLE.read_text())
    scale = float(os.environ.get("DRA_CONFORMANCE_TIMEOUT_SCALE", "1"))
    return {k: (v if k == "poll_interval" else v * scale) for k, v in table.items()}


def timeout(key: str) -> float:
    try:
        return timeouts()[key]
    except KeyError:
        raise KeyError(f"no timeout {key!r} in {_TABLE}") from None


def wait_for(
    what: str,
    probe: Callable[[], tuple[bool, T]],
    key: str,
    *,
    interval: float | None = None,
) -> T:
    """Call `probe` until it returns (True, state); return that state.

    `probe` returns (done, state): `state` is what was observed (an object or a short text) and is
    quoted in the error when the timeout `key` runs out. Exceptions from the probe count as the
    observed state and polling goes on, so transient API errors do not fail a wait.
    """
    start = time.monotonic()
    deadline = start + timeout(key)
    pause = interval if interval is not None else timeouts()["poll_interval"]
    last: object = "nothing observed yet"
    while True:
        try:
            done, state = probe()
            last = state
            if done:
                _log.info("%.1fs (%s) %s", time.monotonic() - start, key, what)
                return state
        except Exception as exc:  # noqa: BLE001 - the probe's failure is an observation
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout(key):.0f}s ({key}) waiting for {what}; "
                              f"last observed: {_short(last)}")
        time.sleep(pause)  # the poll interval between probes, not a convergence sleep


def _short(state: object, limit: int = 1500) -> str:
    text = str(state).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + " …"
