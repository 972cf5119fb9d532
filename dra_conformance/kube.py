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


def api_client_with_token(kubeconfig: str, token: str) -> client.ApiClient:
    """The kubeconfig's server and CA, but authenticated as someone else (a bearer token)."""
    base = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=base)
    conf = client.Configuration()
    conf.host, conf.ssl_ca_cert, conf.verify_ssl = base.host, base.ssl_ca_cert, base.verify_ssl
    conf.api_key = {"BearerToken": f"Bearer {token}"}
    return client.ApiClient(conf)
