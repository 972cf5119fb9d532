"""Names inside a run directory, shared by the plugin, the builders and the CLI."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import Any

METADATA = "metadata.json"
EVENTS = "events.jsonl"
RESULTS = "results.json"
RUN_LOG = "run.log"
JUNIT = "junit.xml"
ALLURE_RESULTS = "allure-results"
ALLURE_REPORT = "allure-report"
DIAGNOSTICS = "diagnostics"
LOGS = "logs"
DRIVER = "driver"  # the driver as installed: images, manifests, chart and values, pods, logs
CLUSTER = "cluster.json"  # component versions and gates as read from the cluster
CERTIFY = "certify.json"
MATRIX = "matrix"  # stem: matrix.json / matrix.html / matrix.md
BUNDLE = "certification"
LATEST = "latest"


def safe_name(text: str, limit: int = 100) -> str:
    """A file-name-safe form of `text` (e.g. a nodeid); a hash suffix keeps long names unique."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "unnamed"
    if len(name) <= limit:
        return name
    return f"{name[:limit - 9]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def new_run_dir(root: Path, k8s_version: str | None, profile: str | None) -> Path:
    """Create `<root>/<UTC timestamp>-<k8s>-<profile>`; a counter keeps same-second runs apart."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = safe_name("-".join([stamp, *([k8s_version] if k8s_version else []), profile or "default"]))
    for n in range(1, 1000):
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run directory under {root}")


def point_latest(run_dir: Path) -> None:
    """Make `<root>/latest` a relative symlink to `run_dir`, swapped atomically."""
    link = run_dir.parent / LATEST
    tmp = run_dir.parent / f".{LATEST}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)


def recorded_paths(value: Any, run_dir: Path, cwd: str | None = None) -> list[Path]:
    """Paths named in run metadata; relative ones are looked up in the run dir, then the run's cwd."""
    if not value:
        return []
    out = []
    for v in value if isinstance(value, (list, tuple)) else [value]:
        path = Path(str(v))
        if not path.is_absolute():
            candidates = [run_dir / path] + ([Path(cwd) / path] if cwd else [])
            path = next((c for c in candidates if c.exists()), candidates[0])
        out.append(path)
    return out
