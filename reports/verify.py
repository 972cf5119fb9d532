"""`dra-conformance verify BUNDLE`: check a certification bundle against its SHA256SUMS, then say
what it certifies (driver, images, Kubernetes and its gates, harness revision, verdict)."""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from dra_conformance.errors import HarnessError
from reports import layout
from reports.bundle import verify_manifest
from reports.certify import verdict_lines


def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    return json.loads(path.read_text()) if path.is_file() else {}


def certifies(directory: Path) -> list[str]:
    meta, verdict = _read(directory, layout.METADATA), _read(directory, layout.CERTIFY)
    cluster = _read(directory, layout.CLUSTER)
    harness = meta.get("harness") or {}
    lines = [f"driver: {verdict.get('driver') or meta.get('driver_name') or '?'} "
             f"(profile {Path(meta.get('driver_profile') or '?').name})"]
    lines += [f"  image {i.get('image')} {i.get('imageID')}" for i in meta.get("driver_images") or []]
    server = (cluster.get("version") or {}).get("gitVersion") or meta.get("k8s_patch")
    lines.append(f"Kubernetes: {server or meta.get('k8s_version') or '?'} (cluster profile {meta.get('profile')})")
    for name, comp in sorted((cluster.get("control_plane") or {}).items()):
        lines.append(f"  {name}: {comp.get('image')} feature-gates={comp.get('feature-gates', '-')}")
    lines.append(f"harness: {harness.get('revision') or harness.get('version') or '?'}"
                 + (" (with local changes)" if harness.get("dirty") else ""))
    lines.append(f"run: {meta.get('run_id', '?')} from {meta.get('started_at', '?')}")
    lines += verdict_lines(verdict) if verdict else ["no certify verdict in the bundle"]
    if not verdict.get("requested"):
        lines.append("note: the run was not made with --certify")
    return lines


def verify(target: Path) -> tuple[list[str], list[str]]:
    """(problems, what it certifies) for a bundle directory or .tar.gz."""
    if target.is_dir():
        return verify_manifest(target), certifies(target)
    if not target.is_file():
        raise HarnessError(f"no bundle at {target}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(target) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise HarnessError(f"{target}: not a bundle tarball ({exc})") from None
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1:
            return [f"{target}: expected one top-level directory, found {len(roots)}"], []
        return verify_manifest(roots[0]), certifies(roots[0])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a certification bundle's SHA256SUMS and say what it certifies")
    p.add_argument("bundle", type=Path, help="the bundle directory or certification-<run>.tar.gz")
    p.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    problems, lines = verify(args.bundle)
    for problem in problems:
        print(f"✗ {problem}")
    if problems:
        print(f"dra-conformance: error: bundle {args.bundle} does not match its {len(problems)} checksum line(s)")
        return 1
    print(f"✓ {args.bundle}: every file matches SHA256SUMS")
    print("\n".join(lines))
    return 0
