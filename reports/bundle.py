"""The certification bundle: everything a vendor submits for one run, with a SHA256SUMS manifest.

<run>/certification/ and <run>/certification-<run_id>.tar.gz hold: the driver profile, the run
metadata (harness revision, versions, feature gates, runtime config), the cluster's components and
gates as read from it (cluster.json), the rendered kind configs, the driver as installed (driver/:
images with IDs, applied manifests, chart and values, the pods' image IDs, their logs), JUnit, the
run log and harness logs, per-failure diagnostics, results/matrix/certify verdict, and SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports import layout
from reports.metadata import read_metadata

MANIFEST = "SHA256SUMS"
_RUN_FILES = (layout.METADATA, layout.RESULTS, layout.EVENTS, layout.RUN_LOG, layout.CERTIFY, layout.CLUSTER,
              f"{layout.MATRIX}.json", f"{layout.MATRIX}.html", f"{layout.MATRIX}.md")


@dataclass
class Bundle:
    directory: Path
    tarball: Path
    missing: list[str]  # things the metadata named but that were not on disk


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def _index(meta: dict[str, Any], certify: dict[str, Any] | None, files: list[str]) -> str:
    harness = meta.get("harness") or {}
    revision = harness.get("revision") or harness.get("version") or "unknown"
    lines = ["# DRA conformance certification bundle", "",
             f"- run: `{meta.get('run_id', '?')}`",
             f"- harness: `{revision}`" + (" (with local changes)" if harness.get("dirty") else ""),
             f"- Kubernetes: {meta.get('k8s_version', '?')} ({meta.get('k8s_patch') or 'patch unknown'})",
             f"- profile: {meta.get('profile', 'default')}",
             f"- driver profile: {meta.get('driver_profile') or '—'}"]
    lines += [f"- driver image: `{i.get('image')}` `{i.get('imageID')}`" for i in meta.get("driver_images") or []]
    if meta.get("setup_error"):
        lines.append(f"- set-up FAILED, no test ran: {meta['setup_error']}")
    if meta.get("install_failure"):
        lines.append(f"- driver install FAILED: {meta['install_failure']}")
    if certify:
        lines.append(f"- certify: {'passed' if certify.get('passed') else 'FAILED'}"
                     + ("" if certify.get("requested") else " (not requested with --certify)"))
        if contract := certify.get("contract"):
            lines.append(f"- contract tier: {contract['passed']}/{contract['total']} passed")
    if components := meta.get("cluster_components"):
        lines += ["", "## Cluster components (as read from the cluster)", ""]
        lines += [f"- {name}: `{value}`" for name, value in components.items()]
    for key, title in (("feature_gates", "Feature gates"), ("runtime_config", "Runtime config")):
        value = meta.get(key)
        if value:
            lines += ["", f"## {title}", ""]
            items = value.items() if isinstance(value, dict) else ((v, "") for v in value)
            lines += [f"- `{k}`{'=' + str(v).lower() if v != '' else ''}" for k, v in items]
    if certify and certify.get("exercised"):
        lines += ["", "## Tests passed: driver-exercised / API-only", ""]
        lines += [f"- `{f}`: {c['driver']['passed']}/{c['driver']['total']} driver-exercised, "
                  f"{c['api']['passed']}/{c['api']['total']} API-only" for f, c in certify["exercised"].items()]
    lines += ["", "## Files", "", *[f"- `{f}`" for f in files],
              "", f"Verify with `dra-conformance verify <bundle>` or `sha256sum -c {MANIFEST}` inside this directory."]
    return "\n".join(lines) + "\n"


def build_bundle(run_dir: Path) -> Bundle:
    meta = read_metadata(run_dir)
    run_id = meta.get("run_id") or run_dir.name
    out = run_dir / layout.BUNDLE
    if out.exists():
        shutil.rmtree(out)  # rebuilt from scratch so the manifest matches the contents exactly
    out.mkdir()
    missing: list[str] = []

    for name in _RUN_FILES:
        if (run_dir / name).is_file():
            _copy(run_dir / name, out / name)
    junit = (layout.recorded_paths(meta.get("junit_xml"), run_dir, meta.get("cwd")) or [run_dir / layout.JUNIT])[0]
    if junit.is_file():
        _copy(junit, out / layout.JUNIT)
    else:
        missing.append(f"JUnit XML ({junit})")
    for folder in (layout.DIAGNOSTICS, layout.LOGS, layout.DRIVER):
        if (run_dir / folder).is_dir():
            _copy(run_dir / folder, out / folder)
    named = (("driver_profile", "driver-profile"), ("kind_config", "kind"), ("kind_configs", "kind"))
    for key, target in named:
        for n, src in enumerate(layout.recorded_paths(meta.get(key), run_dir, meta.get("cwd"))):
            if not src.is_file():
                missing.append(f"{key} ({src})")
                continue
            dst = out / target / src.name
            if dst.exists():  # two kind configs with one file name: keep both
                dst = dst.with_name(f"{n}-{src.name}")
            _copy(src, dst)

    certify = None
    if (run_dir / layout.CERTIFY).is_file():
        certify = json.loads((run_dir / layout.CERTIFY).read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    (out / "README.md").write_text(_index(meta, certify, files))
    write_manifest(out)

    tarball = run_dir / f"{layout.BUNDLE}-{layout.safe_name(run_id)}.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(out, arcname=f"{layout.BUNDLE}-{layout.safe_name(run_id)}")
    return Bundle(out, tarball, missing)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: Path) -> Path:
    """SHA256SUMS in `sha256sum` format (two spaces, relative paths) so `sha256sum -c` verifies it."""
    lines = [f"{_sha256(p)}  {p.relative_to(directory).as_posix()}"
             for p in sorted(directory.rglob("*")) if p.is_file() and p.name != MANIFEST]
    path = directory / MANIFEST
    path.write_text("\n".join(lines) + "\n")
    return path


def verify_manifest(directory: Path) -> list[str]:
    """Problems found (empty list = every listed file is present and matches, nothing unlisted)."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return [f"{MANIFEST} missing in {directory}"]
    problems, listed = [], set()
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.partition("  ")
        listed.add(rel)
        path = directory / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif _sha256(path) != digest:
            problems.append(f"checksum mismatch: {rel}")
    for p in directory.rglob("*"):
        rel = p.relative_to(directory).as_posix()
        if p.is_file() and p.name != MANIFEST and rel not in listed:
            problems.append(f"not in manifest: {rel}")
    return problems
