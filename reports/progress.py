"""Live progress for long runs: a counts line every few seconds, aggregated in the controller.

One line (not a redrawn bar) so it reads the same in a terminal, under xdist and in CI logs, and
never fights pytest's own output; short runs (under one interval) print nothing.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

_STYLES = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("E", "red"),
           "skipped": ("↷", "yellow"), "xfailed": ("x", "yellow"), "xpassed": ("X", "yellow")}


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s"


class LiveProgress:
    def __init__(self, write: Callable[[str], None], *, interval: float, color: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._write = write
        self._clock = clock
        self.interval = interval
        self._color = color
        self.total = 0
        self.counts: Counter[str] = Counter()
        self._start = clock()
        self._last = self._start

    def set_total(self, total: int) -> None:
        # Tests start now: cluster and driver set-up before collection must not skew the ETA.
        self.total = total
        self._start = self._last = self._clock()

    def update(self, outcome: str) -> None:
        self.counts[outcome] += 1
        now = self._clock()
        if self.interval > 0 and now - self._last >= self.interval:
            self._last = now
            self._write(self.render(now))

    def render(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        done = sum(self.counts.values())
        elapsed = now - self._start
        line = Text("dra-conformance ", style="bold cyan")
        line.append(f"{done}/{self.total or '?'}")
        if self.total:
            line.append(f" ({100 * done // self.total}%)")
        for outcome, (glyph, style) in _STYLES.items():
            if self.counts[outcome]:
                line.append(f"  {glyph} {self.counts[outcome]} {outcome}", style=style)
        line.append(f"  · {_clock(elapsed)}", style="dim")
        if self.total and 0 < done < self.total:
            line.append(f" · ETA {_clock(elapsed / done * (self.total - done))}", style="dim")
        buf = io.StringIO()
        Console(file=buf, force_terminal=self._color, no_color=not self._color, width=400,
                highlight=False).print(line, end="")
        return buf.getvalue()
