"""Run metadata (versions, profile, feature gates, kind configs) shared by every process of a run.

Fixtures call `set_run_metadata(request, k8s_patch=..., feature_gates={...}, kind_config=path)`.
The values are merged into `<run>/metadata.json` under a file lock, because under xdist the fixture
that builds the cluster runs in a worker while the controller writes the reports.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from reports import layout
from reports.context import run_dir

# Keys the builders understand; any other JSON-serialisable key is kept and shown as-is.
KNOWN_KEYS = {
    "k8s_version": "Kubernetes minor version, e.g. '1.34'",
    "k8s_patch": "exact version or node image, e.g. 'v1.34.3'",
    "profile": "feature profile: default | all-dra",
    "driver_profile": "path of the driver profile YAML",
    "driver": "driver name/version/image (dict or str)",
    "feature_gates": "{gate: bool} enabled on the cluster",
    "runtime_config": "{api/version: bool} --runtime-config of the API server",
    "kind_config": "path of the rendered kind config (or kind_configs: [paths])",
    "cluster": "cluster name / node image / anything else useful",
    "harness": "{revision, dirty, version}: the dra-conformance checkout that ran",
    "cluster_components": "{server: gitVersion, <component>: image} as read from the running cluster",
    "driver_images": "[{image, imageID}] the driver's plugin pods ran, as the kubelet reports them",
    "install_failure": "why the driver install did not become ready (also <run>/driver/install-failure.txt)",
    "setup_error": "the one-line error that ended the run before its tests (cluster or driver set-up)",
}


def harness_revision() -> dict[str, Any]:
    """The checkout that runs: git revision and whether it has local changes, or the package version."""
    import subprocess
    from importlib import metadata

    repo = Path(__file__).resolve().parents[1]
    out: dict[str, Any] = {}
    with suppress(metadata.PackageNotFoundError):
        out["version"] = metadata.version("dra-conformance")
    try:
        git = ["git", "-C", str(repo)]
        out["revision"] = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                                         check=True, timeout=10).stdout.strip()
        out["dirty"] = bool(subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"],
                                           capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        out.setdefault("revision", None)
    return out


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    with (root / ".metadata.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_metadata(root: Path) -> dict[str, Any]:
    path = root / layout.METADATA
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def merge_metadata(root: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Shallow-merge `fields` into `<root>/metadata.json` and return the result."""
    with _locked(root):
        data = read_metadata(root)
        data.update(json.loads(json.dumps(fields, default=str)))  # Paths etc. become strings
        tmp = root / f".{layout.METADATA}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(root / layout.METADATA)
        return data


def set_run_metadata(target: Any, **fields: Any) -> dict[str, Any]:
    """Record run metadata from a fixture/hook (`target`: request, item, session or config).

    Without an active run (reports off) this is a no-op returning {}.
    """
    root = run_dir(target)
    return merge_metadata(root, fields) if root is not None else {}


def run_metadata(target: Any) -> dict[str, Any]:
    """The run's metadata as recorded so far (all processes)."""
    root = run_dir(target)
    return read_metadata(root) if root is not None else {}
