"""Command-line options and the harness's pytest plugins; nothing else lives here."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "fixtures.liveness",
    "fixtures.cluster",
    "fixtures.driver",
    "fixtures.objects",
    "fixtures.driver_control",
    "fixtures.selection",
    "fixtures.diagnostics",
    "reports.plugin",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("dra-conformance", "DRA conformance target")
    g.addoption("--k8s-version", default=None, help="Kubernetes version to test (default: the table's default)")
    g.addoption("--profile", default=None,
                help="cluster profile: default | all-dra (default: default; under --certify the first that "
                     "turns on what the driver's claims need)")
    g.addoption("--workers", type=int, default=2, help="worker nodes of a created cluster")
    g.addoption("--kubeconfig", default=None, help="test an existing cluster instead of creating one")
    g.addoption("--keep-cluster", action="store_true", help="leave a created cluster running afterwards")
    g.addoption("--image-source", default="auto", choices=("auto", "kindest", "forge"),
                help="where node images come from (auto: pull kindest/node, else build offline)")
    g.addoption("--driver-profile", default=None,
                help="driver profile YAML (default: the bundled fake GPU/NIC driver)")
