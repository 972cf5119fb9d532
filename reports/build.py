"""Turn a run's recorded results into its artefacts: results.json, certify.json, matrix.*, bundle.

Used by the plugin at the end of a run and by the CLI (`python -m reports build <run>`) to rebuild
or to merge runs; every step works on files, so a crashed run can be reported after the fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports import layout
from reports.bundle import Bundle, build_bundle
from reports.certify import evaluate, load_driver_profile
from reports.html import render_html
from reports.markdown import render_markdown
from reports.matrix import build_matrix, load_matrix_input, merge_matrices
from reports.records import RunResults


@dataclass
class RunArtefacts:
    matrix: list[Path]
    certify: dict[str, Any]
    bundle: Bundle | None
    problems: list[str] = field(default_factory=list)


def write_matrix(matrix: dict[str, Any], out_dir: Path, stem: str = layout.MATRIX) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.json", out_dir / f"{stem}.html", out_dir / f"{stem}.md"]
    paths[0].write_text(json.dumps(matrix, indent=2) + "\n")
    paths[1].write_text(render_html(matrix))
    paths[2].write_text(render_markdown(matrix))
    return paths


def build_run(results: RunResults, run_dir: Path, *, certify_requested: bool = False,
              bundle: bool = True) -> RunArtefacts:
    """Write every artefact of one run; each step is independent so one failure loses only its file."""
    problems: list[str] = []
    if results.certify is None:
        meta = results.metadata
        paths = layout.recorded_paths(meta.get("driver_profile"), run_dir, meta.get("cwd"))
        profile = load_driver_profile(paths[0] if paths else None)
        results.certify = evaluate(results, profile, requested=certify_requested)
    (run_dir / layout.CERTIFY).write_text(json.dumps(results.certify, indent=2) + "\n")
    results.save(run_dir)
    matrix_paths: list[Path] = []
    try:
        matrix_paths = write_matrix(build_matrix(results, run_dir), run_dir)
    except Exception as exc:  # noqa: BLE001 - keep results/bundle even if a renderer breaks
        problems.append(f"matrix not written: {type(exc).__name__}: {exc}")
    made = None
    if bundle:
        try:
            made = build_bundle(run_dir)
            problems += [f"bundle: {m} missing" for m in made.missing]
        except Exception as exc:  # noqa: BLE001
            problems.append(f"bundle not written: {type(exc).__name__}: {exc}")
    return RunArtefacts(matrix_paths, results.certify, made, problems)


def merge_runs(inputs: list[Path], out_dir: Path) -> list[Path]:
    """Merge run dirs / results.json / matrix.json files into one matrix under `out_dir`."""
    matrices = [load_matrix_input(p) for p in inputs]
    return write_matrix(merge_matrices(matrices), out_dir)
