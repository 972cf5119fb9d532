"""Reads, from a Kubernetes source tree, the API versions a release serves.

The API server's default resource config (`DefaultAPIResourceConfigSource` in
pkg/controlplane/instance.go) enables the stable group versions and lists every beta and alpha one
it can serve as disabled by default, "so we have a full list of what's possible to serve"; those
need runtime-config. Which resources a version serves is in its group's REST storage
(pkg/registry/<group>/rest/storage_<group>.go). kubeadm's config API versions are the packages
under cmd/kubeadm/app/apis/kubeadm.
"""

from __future__ import annotations

import re
from pathlib import Path

from dra_conformance.errors import HarnessError

GROUPS = ("resource", "scheduling")
_IMPORT = re.compile(r'^\t(\w+) "k8s\.io/api/(\w+)/(v\w+)"$', re.M)
_LIST = re.compile(r"^\t\w*APIGroupVersions(Enabled|Disabled)ByDefault = \[\]schema\.GroupVersion\{\n(.*?)^\t\}",
                   re.M | re.S)
_MEMBER = re.compile(r"^\t\t(\w+)\.SchemeGroupVersion,", re.M)
_STORAGE = re.compile(r'if resource := "(\w+)"; apiResourceConfigSource\.ResourceEnabled\((\w+)\.SchemeGroupVersion')
_KUBEADM_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?")


def served_apis(source: Path) -> dict[str, bool]:
    """{"resource.k8s.io/v1": True (on by default), "resource.k8s.io/v1beta1": False, …} for GROUPS."""
    path = source / "pkg" / "controlplane" / "instance.go"
    text = path.read_text()
    aliases = _aliases(text)
    apis = {aliases[alias]: state == "Enabled" for state, body in _LIST.findall(text)
            for alias in _MEMBER.findall(body) if alias in aliases}
    if not any(api.startswith("resource.k8s.io/") for api in apis):
        raise HarnessError(f"no resource.k8s.io version in the default resource config of {path}: "
                           "the source layout changed, clusters/kind/apisource.py needs updating")
    return apis


def kubeadm_apis(source: Path) -> frozenset[str]:
    """{"kubeadm.k8s.io/v1beta4", …}: the kubeadm config API versions the release reads."""
    apis = source / "cmd" / "kubeadm" / "app" / "apis" / "kubeadm"
    return frozenset(f"kubeadm.k8s.io/{d.name}" for d in apis.iterdir()
                     if d.is_dir() and _KUBEADM_VERSION.fullmatch(d.name))


def resources(source: Path) -> dict[str, frozenset[str]]:
    """{"resource.k8s.io/v1alpha3": {"devicetaintrules", …}, …}: what each version of GROUPS serves."""
    out: dict[str, set[str]] = {}
    for group in GROUPS:
        text = (source / "pkg" / "registry" / group / "rest" / f"storage_{group}.go").read_text()
        aliases = _aliases(text)
        for resource, alias in _STORAGE.findall(text):
            if alias in aliases:
                out.setdefault(aliases[alias], set()).add(resource)
    return {api: frozenset(names) for api, names in out.items()}


def _aliases(go_source: str) -> dict[str, str]:
    """Import alias → API version, for the k8s.io/api packages of GROUPS a Go file imports."""
    return {alias: f"{group}.k8s.io/{version}" for alias, group, version in _IMPORT.findall(go_source)
            if group in GROUPS}
