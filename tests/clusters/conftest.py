"""Shared by the version-table tests."""

from __future__ import annotations

from pathlib import Path

# A made-up Kubernetes source tree (minor 1.99) with only the files the version table is read from.
SYNTHETIC_SOURCE = Path(__file__).with_name("data") / "kubernetes"
