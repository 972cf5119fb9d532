"""Play the kubelet against a real FakeDriver over real Unix sockets in short tmp dirs.

Claims come from an in-memory ClaimSource (no API server at this level); everything above it —
sockets, gRPC, CDI files, checkpoint, control HTTP server — is the real thing.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.driver.rig import Rig


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """Unix socket paths must stay under ~107 bytes: pytest's tmp_path is too deep."""
    path = Path(tempfile.mkdtemp(prefix="fg", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def rig_factory(short_tmp: Path) -> Iterator[Any]:
    rigs: list[Rig] = []

    def make(**cfg: Any) -> Rig:
        rig = Rig(short_tmp / f"r{len(rigs)}", **cfg)
        rigs.append(rig)
        return rig

    yield make
    for r in rigs:
        r.stop()


@pytest.fixture
def rig(rig_factory: Any) -> Rig:
    return rig_factory().start()
