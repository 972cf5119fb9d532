"""Kubernetes API clients for a kubeconfig (one per file, cached)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kubernetes import client, config


@cache
def api_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(Path(kubeconfig)))


def core(kubeconfig: str | Path) -> client.CoreV1Api:
    return client.CoreV1Api(api_client(str(kubeconfig)))
