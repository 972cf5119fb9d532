"""Where a process finds the current run: the run directory kept on the pytest config.

The controller creates the run directory; xdist workers receive its path through `workerinput`
(see plugin.py), so fixtures in any process reach the same directory through their config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

RUN_DIR_KEY = pytest.StashKey[Path]()
DIAGNOSTICS_KEY = pytest.StashKey[list[dict[str, str]]]()  # on the item: what diagnostics_sink wrote
PREPARED_KEY = pytest.StashKey[bool]()  # on the item: the driver prepared a device for one of its pods


def config_of(target: Any) -> pytest.Config:
    """The config behind a Config, Session, Item or FixtureRequest."""
    if isinstance(target, pytest.Config):
        return target
    config = getattr(target, "config", None)
    if isinstance(config, pytest.Config):
        return config
    raise TypeError(f"expected a pytest Config, Session, Item or FixtureRequest, got {type(target).__name__}")


def item_of(target: Any) -> pytest.Item | None:
    """The test item behind an Item or a function-scoped FixtureRequest (None for wider scopes)."""
    if isinstance(target, pytest.Item):
        return target
    node = getattr(target, "node", None)
    return node if isinstance(node, pytest.Item) else None


def record_prepare(target: Any) -> None:
    """Note that the test saw the driver prepare a device on a node (a pod with claims ran): the
    reports tell driver-exercised tests from API-only ones by it."""
    item = item_of(target)
    if item is not None:
        item.stash[PREPARED_KEY] = True


def run_dir(target: Any) -> Path | None:
    """This run's output directory, or None when reports are off (--no-reports, dry run)."""
    return config_of(target).stash.get(RUN_DIR_KEY, None)


def log_path(target: Any, name: str) -> Path | None:
    """A file under `<run>/logs/` for harness logs (kind, driver) that the bundle should carry."""
    root = run_dir(target)
    if root is None:
        return None
    path = root / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
