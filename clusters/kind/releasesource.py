"""What a Kubernetes release's own source says: its k8s.io/kubernetes module at a tag, from the Go
module proxy (as the forge builds it), read into the facts the version table records."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from clusters.kind import apisource
from clusters.kind.forge import gobuild
from clusters.kind.gatesource import GateSpec, gate_specs
from dra_conformance import proc
from dra_conformance.errors import HarnessError

MODULE = "k8s.io/kubernetes"
_MINOR = re.compile(r"(\d+)\.(\d+)")
_PATCH = re.compile(r"v(\d+)\.(\d+)\.\d+(?:-[0-9A-Za-z.]+)?")


@dataclass(frozen=True)
class Facts:
    minor: str                  # "1.38"
    patch: str                  # "v1.38.0-beta.0"
    gates: dict[str, GateSpec]  # every feature gate of kube_features.go, as in force at `minor`
    apis: dict[str, bool]       # resource/scheduling API versions served: on by default or not
    resources: dict[str, frozenset[str]]  # what each of those versions serves
    kubeadm_apis: frozenset[str]

    @property
    def prerelease(self) -> bool:
        return "-" in self.patch


def parse_minor(text: str) -> str:
    """"1.38" or "v1.38" → "1.38"; anything else is a one-line error."""
    m = _MINOR.fullmatch(text.strip().removeprefix("v"))
    if m is None:
        raise HarnessError(f"not a Kubernetes minor: {text!r} (want e.g. 1.38)")
    return f"{int(m.group(1))}.{int(m.group(2))}"


def check_patch(minor: str, patch: str) -> str:
    """`patch` when it is a release tag of `minor` (v1.38.0, v1.38.0-beta.0); else a one-line error."""
    m = _PATCH.fullmatch(patch)
    if m is None or f"{m.group(1)}.{m.group(2)}" != minor:
        raise HarnessError(f"not a patch of Kubernetes {minor}: {patch!r} (want e.g. v{minor}.0 or v{minor}.0-rc.0)")
    return patch


def newest_patch(minor: str) -> str:
    """The newest release of `minor` the Go module proxy serves; its newest pre-release before any."""
    res = proc.run([gobuild.require_go(), "list", "-m", "-json", "-versions", MODULE], env=gobuild.go_env(),
                   check=False)
    info = json.loads(res.stdout or b"{}")
    if res.returncode or "Error" in info:
        why = (info.get("Error") or res.stderr.decode(errors="replace")).strip().splitlines() or ["no answer"]
        raise HarnessError(f"cannot list {MODULE} versions on the Go module proxy: {why[0]}")
    served = [v for v in info.get("Versions", []) if v.startswith(f"v{minor}.")]  # in semver order
    if not served:
        raise HarnessError(f"the Go module proxy serves no {MODULE} v{minor}.x")
    return ([v for v in served if "-" not in v] or served)[-1]


def source(patch: str) -> Path:
    """The release's source tree in the Go module cache, downloaded first when absent."""
    return gobuild.module_dir(f"{MODULE}@{patch}")


def read(tree: Path, minor: str, patch: str) -> Facts:
    return Facts(minor, patch, gate_specs(tree, minor), apisource.served_apis(tree), apisource.resources(tree),
                 apisource.kubeadm_apis(tree))


def facts(minor: str, patch: str) -> Facts:
    return read(source(check_patch(minor, patch)), minor, patch)
