"""Kubernetes API clients for a kubeconfig (one per file and content, cached)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kubernetes import client, config


def api_client(kubeconfig: str) -> client.ApiClient:
    # Keyed by content too: a cluster made again at the same path gets a new port and certificates.
    return _client(str(kubeconfig), Path(kubeconfig).read_text())


@cache
def _client(kubeconfig: str, _content: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


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
