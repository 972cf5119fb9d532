"""Allure HTML: install allure-commandline from npm once (cached outside the repo) and render.

The npm package bundles the whole Allure 2 distribution (jars), so after the one install it works
offline with Java. Java and npm are installed from Debian when missing (as root); where they cannot
be, that is not a run failure: one line says why the artefact is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

from dra_conformance.errors import HarnessError
from dra_conformance.host_packages import needs
from dra_conformance.paths import cache_dir
from dra_conformance.proc import run

ALLURE_VERSION = "2.46.1"
PACKAGE = "allure-commandline"
PACKAGES = needs("rendering Allure HTML", {"java": "openjdk-17-jre-headless", "npm": "npm"})


class AllureUnavailable(HarnessError):
    """Allure HTML cannot be produced here (no Java, no npm, install failed)."""


def _installed(prefix: Path) -> Path | None:
    pkg = prefix / "node_modules" / PACKAGE / "package.json"
    binary = prefix / "node_modules" / ".bin" / "allure"
    try:
        version = json.loads(pkg.read_text()).get("version")
    except (OSError, json.JSONDecodeError):
        return None
    return binary if version == ALLURE_VERSION and binary.exists() else None


def ensure_allure(log: Path | None = None) -> Path:
    """Path of the `allure` launcher, installing allure-commandline@ALLURE_VERSION on first use."""
    try:
        PACKAGES.ensure()
    except HarnessError as exc:
        raise AllureUnavailable(f"Allure HTML skipped: {exc}") from exc
    prefix = cache_dir("tools", "allure", ALLURE_VERSION)
    binary = _installed(prefix)
    if binary:
        return binary
    try:
        run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-package-lock",
             f"{PACKAGE}@{ALLURE_VERSION}"], log=log, timeout=600)
    except HarnessError as exc:
        raise AllureUnavailable(f"Allure HTML skipped: npm install failed: {exc}") from exc
    binary = _installed(prefix)
    if binary is None:
        raise AllureUnavailable(f"Allure HTML skipped: {PACKAGE}@{ALLURE_VERSION} missing after npm install")
    return binary


def render_allure(results: Path, out: Path, log: Path | None = None) -> Path:
    """`allure generate <results> -o <out> --clean --single-file`; returns out/index.html."""
    if not results.is_dir() or not any(results.iterdir()):
        raise AllureUnavailable(f"Allure HTML skipped: no Allure results in {results}")
    binary = ensure_allure(log)
    try:
        run([binary, "generate", results, "-o", out, "--clean", "--single-file"], log=log, timeout=600)
    except HarnessError as exc:
        raise AllureUnavailable(f"Allure HTML skipped: allure generate failed: {exc}") from exc
    return out / "index.html"
