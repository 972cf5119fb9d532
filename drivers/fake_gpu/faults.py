"""Fault injection and call accounting for the gRPC methods, driven through the control surface.

Faults queue per RPC and are consumed by the next calls in order: "fail the next 2 prepares, then
hang one". A hung call blocks until released (or until the kubelet cancels it); nothing here
sleeps to wait for a state: tests wait on the counters (wait_for) instead.

A fault may target claims: `namespace` (a test's own namespace) and `claim` (a claim name) make it
apply only to calls naming such a claim, so tests running side by side on one node do not take
each other's faults; with scope "claim" only those claims of the call get the error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

RPCS = ("prepare", "unprepare", "getinfo")
ACTIONS = ("fail", "hang", "delay")
COUNTERS = ("calls", "ok", "failed", "hanging", "inflight")


@dataclass
class Fault:
    action: str
    count: int = 1              # calls it applies to; -1: until cleared
    message: str = "injected failure"
    code: str = "INTERNAL"      # gRPC status code name for scope "call"
    scope: str = "call"         # "call": gRPC error; "claim": every claim of the call gets `message`
    seconds: float = 0.0        # for "delay"
    namespace: str | None = None  # only calls naming a claim of this namespace
    claim: str | None = None      # ... and of this name
    released: bool = field(default=False, repr=False)  # a targeted release() let its hung calls go

    def targets(self, namespace: str, name: str) -> bool:
        return self.namespace in (None, namespace) and self.claim in (None, name)

    def validate(self) -> Fault:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {self.action!r}")
        if self.scope not in ("call", "claim"):
            raise ValueError(f"scope must be call or claim, not {self.scope!r}")
        if self.count == 0 or self.count < -1:
            raise ValueError("count must be positive or -1 (until cleared)")
        return self


GAVE_UP = Fault("fail", message="the caller gave up while the call hung", code="CANCELLED")


class Faults:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: dict[str, list[Fault]] = {rpc: [] for rpc in RPCS}
        self._stats: dict[str, dict[str, int]] = {rpc: dict.fromkeys(COUNTERS, 0) for rpc in RPCS}
        self._released: dict[str, int] = dict.fromkeys(RPCS, 0)
        self._hung: list[tuple[str, Fault]] = []  # (rpc, fault) of each call hanging now

    def add(self, rpc: str, fault: Fault) -> None:
        self._check(rpc)
        with self._cond:
            self._queue[rpc].append(fault.validate())

    def clear(self, rpc: str | None = None, namespace: str | None = None) -> None:
        """Drop queued faults of `rpc` (all RPCs if None); with `namespace`, only those targeting it."""
        with self._cond:
            for r in [rpc] if rpc else RPCS:
                self._check(r)
                self._queue[r][:] = [f for f in self._queue[r] if namespace is not None and f.namespace != namespace]

    def release(self, rpc: str | None = None, namespace: str | None = None) -> int:
        """Let every call now hanging in `rpc` (all RPCs if None) go on; with `namespace`, only calls
        hung by faults targeting it. Returns how many calls were let go."""
        with self._cond:
            rpcs = [rpc] if rpc else list(RPCS)
            if namespace is None:
                n = sum(self._stats[r]["hanging"] for r in rpcs)
                for r in rpcs:
                    self._released[r] += 1
            else:
                mine = [h for h in self._hung if h[0] in rpcs and h[1].namespace == namespace]
                n = len(mine)
                for _, fault in mine:
                    fault.released = True
            self._cond.notify_all()
            return n

    def wake(self) -> None:
        """Re-check waiters (a call was cancelled by its client)."""
        with self._cond:
            self._cond.notify_all()

    def enter(self, rpc: str, active: Callable[[], bool],
              claims: Sequence[tuple[str, str]] = ()) -> Fault | None:
        """Start of a call naming `claims` ((namespace, name)): apply delay/hang here; return the
        fault if the call must fail."""
        with self._cond:
            st = self._stats[rpc]
            st["calls"] += 1
            st["inflight"] += 1
            self._cond.notify_all()
            fault = self._take(rpc, claims)
            if fault is None or fault.action == "fail":
                return fault
            if fault.action == "delay":
                self._cond.wait_for(lambda: not active(), timeout=fault.seconds)
                return None
            st["hanging"] += 1
            hung = (rpc, fault)
            self._hung.append(hung)
            self._cond.notify_all()
            gen = self._released[rpc]
            self._cond.wait_for(lambda: self._released[rpc] != gen or fault.released or not active())
            self._hung.remove(hung)
            st["hanging"] -= 1
            self._cond.notify_all()
            # A caller that gave up gets nothing done: the work of a call nobody waits for is lost.
            return None if active() else GAVE_UP

    def leave(self, rpc: str, ok: bool) -> None:
        with self._cond:
            st = self._stats[rpc]
            st["inflight"] -= 1
            st["ok" if ok else "failed"] += 1
            self._cond.notify_all()

    def wait(self, rpc: str, counter: str, at_least: int, timeout: float) -> bool:
        """Block until stats[rpc][counter] >= at_least (e.g. a call is hanging), or the timeout."""
        self._check(rpc)
        if counter not in COUNTERS:
            raise ValueError(f"counter must be one of {COUNTERS}")
        with self._cond:
            return self._cond.wait_for(lambda: self._stats[rpc][counter] >= at_least, timeout=timeout)

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {"stats": {r: dict(s) for r, s in self._stats.items()},
                    "pending": {r: [asdict(f) for f in q] for r, q in self._queue.items()}}

    def _take(self, rpc: str, claims: Sequence[tuple[str, str]]) -> Fault | None:
        """The first queued fault that applies to a call naming `claims` (untargeted ones always do)."""
        queue = self._queue[rpc]
        fault = next((f for f in queue if (f.namespace is None and f.claim is None)
                      or any(f.targets(ns, name) for ns, name in claims)), None)
        if fault is not None and fault.count > 0:
            fault.count -= 1
            if fault.count == 0:
                queue.remove(fault)
        return fault

    @staticmethod
    def _check(rpc: str) -> None:
        if rpc not in RPCS:
            raise ValueError(f"rpc must be one of {RPCS}, not {rpc!r}")
