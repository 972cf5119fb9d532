"""Reads feature-gate specs from a Kubernetes source tree, to check the version table against it.

kube_features.go keeps, per gate, a cumulative list of versioned specs
(`{Version: version.MustParse("1.34"), Default: true, PreRelease: featuregate.Beta, LockToDefault: …}`);
the spec in force at minor X is the last one whose version is <= X.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_GATE_BLOCK = re.compile(r"^\t(\w+): \{\n(.*?)^\t\},", re.S | re.M)
_SPEC = re.compile(
    r'Version:\s*version\.MustParse\("(\d+)\.(\d+)"\),\s*Default:\s*(true|false),'
    r"(?:[^}]*?LockToDefault:\s*(true|false))?[^}]*?PreRelease:\s*featuregate\.(\w+)"
    r"(?:[^}]*?LockToDefault:\s*(true|false))?"
)
_STAGES = {"Alpha": "alpha", "Beta": "beta", "GA": "ga", "Deprecated": "deprecated"}


@dataclass(frozen=True)
class GateSpec:
    stage: str
    default: bool
    locked: bool


def gate_specs(source: Path, minor: str) -> dict[str, GateSpec]:
    """Every gate of `pkg/features/kube_features.go` under `source`, as in force at `minor` ("1.34")."""
    text = (source / "pkg" / "features" / "kube_features.go").read_text()
    want = tuple(int(p) for p in minor.split("."))
    specs: dict[str, GateSpec] = {}
    for name, body in _GATE_BLOCK.findall(text):
        current = None
        for major, mnr, default, lock_a, stage, lock_b in _SPEC.findall(body):
            if (int(major), int(mnr)) <= want:
                current = GateSpec(_STAGES.get(stage, stage.lower()), default == "true",
                                   "true" in (lock_a, lock_b))
        if current is not None:
            specs[name] = current
    return specs
