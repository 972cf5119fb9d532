"""The nightly workflow's version matrix, from the version table: every released minor, and the
newest pre-release as a column of its own that may fail (its forge build or the release itself)."""

from __future__ import annotations

import json
from typing import Any

from clusters.kind import versions


def entries() -> list[dict[str, Any]]:
    """One matrix entry per minor the nightly runs, oldest first."""
    ordered = sorted(versions.minors(), key=versions.version_key)
    pre = [m for m in ordered if versions.prerelease(m)]
    chosen = [m for m in ordered if not versions.prerelease(m)] + pre[-1:]
    return [{"version": m, "patch": versions.release(m).patch, "prerelease": versions.prerelease(m)}
            for m in chosen]


def matrix_json() -> str:
    """One line of JSON for `strategy.matrix: ${{ fromJSON(...) }}`."""
    return json.dumps({"include": entries()})
