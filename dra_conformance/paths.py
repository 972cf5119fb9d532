"""Where things live: the repo, the artefact cache (outside the repo) and run output."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cache_dir(*parts: str) -> Path:
    """Built artefacts (binaries, rootfs, images' tarballs), keyed by what they were built from."""
    root = Path(os.environ.get("DRA_CONFORMANCE_CACHE", Path.home() / ".cache" / "dra-conformance"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Run output (git-ignored); one sub-folder per run."""
    path = Path(os.environ.get("DRA_CONFORMANCE_OUT", REPO / "reports" / "out"))
    path.mkdir(parents=True, exist_ok=True)
    return path
