"""Progress for long steps: one line when a step starts and one with its duration when it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

# soft_wrap: a step line stays one line in CI logs (greppable, as the cold-host proof does).
console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def step(title: str) -> Iterator[None]:
    """Announce `title`, time it, and say whether it finished or failed."""
    start = time.monotonic()
    console.print(f"[bold cyan]▶[/] {title} …")
    try:
        yield
    except BaseException:
        console.print(f"[bold red]✗[/] {title} ({time.monotonic() - start:.1f}s)")
        raise
    console.print(f"[bold green]✓[/] {title} ({time.monotonic() - start:.1f}s)")


def note(message: str) -> None:
    console.print(f"  {message}")
