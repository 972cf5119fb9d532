"""Reads the version table (versions.yaml): releases, gate stages, features, profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dra_conformance.errors import HarnessError

TABLE = Path(__file__).with_name("versions.yaml")
MATURITIES = ("alpha", "beta", "ga")


@dataclass(frozen=True)
class Stage:
    stage: str  # alpha | beta | ga | deprecated
    default: bool
    locked: bool = False

    @classmethod
    def parse(cls, text: str) -> Stage:
        words = text.split()
        if len(words) not in (2, 3) or words[1] not in ("on", "off") or words[2:] not in ([], ["locked"]):
            raise ValueError(f"bad gate stage {text!r}: want '<stage> on|off [locked]'")
        return cls(words[0], words[1] == "on", len(words) == 3)


@dataclass(frozen=True)
class Release:
    minor: str      # "1.34"
    patch: str      # "v1.34.4"
    node_image: str
    kubeadm_api: str
    apis: dict[str, bool]
    quirks: tuple[str, ...]


@cache
def table() -> dict[str, Any]:
    return yaml.safe_load(TABLE.read_text())


def minors() -> list[str]:
    return list(table()["versions"])


def default_minor() -> str:
    return table()["default_version"]


def prerelease(minor: str) -> bool:
    """Whether the table's patch for `minor` is a pre-release tag (alpha, beta, rc)."""
    return bool(table()["versions"][minor].get("prerelease", False))


def version_key(minor: str) -> tuple[int, ...]:
    """"1.38" → (1, 38): minors compare as numbers, not strings ("1.100" > "1.99")."""
    return tuple(int(p) for p in minor.split("."))


def release(version: str | None = None) -> Release:
    """The release for "1.34", "v1.34" or an exact "v1.34.4"/"1.34.4"/"v1.38.0-beta.0" (a patch,
    pre-release tags included, overrides the table's)."""
    version = version or default_minor()
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+)(-[0-9A-Za-z.]+)?)?", version.strip())
    minor = f"{m.group(1)}.{m.group(2)}" if m else None
    if minor not in table()["versions"]:
        raise HarnessError(f"unknown Kubernetes version {version!r}; supported: {', '.join(minors())}")
    entry = table()["versions"][minor]
    patch = f"v{minor}.{m.group(3)}{m.group(4) or ''}" if m.group(3) is not None else entry["patch"]
    image = entry["node_image"].rsplit(":", 1)[0] + ":" + patch
    return Release(minor, patch, image, entry["kubeadm_api"],
                   {api: state in (True, "on") for api, state in entry["apis"].items()},
                   tuple(entry.get("quirks", ())))


def gate_stage(gate: str, minor: str) -> Stage | None:
    """The gate's stage at `minor`, or None where the gate does not exist."""
    spec = table()["gates"].get(gate)
    if spec is None:
        raise KeyError(f"gate {gate} is not in {TABLE}")
    text = spec["stages"].get(minor)
    return Stage.parse(text) if text else None


def graduated(gate: str, minor: str) -> bool:
    """Whether `gate` is gone at `minor` because its feature went GA: removed after its last stage
    was GA and on, what it guarded is simply always there (as DynamicResourceAllocation in 1.38).
    A gate dropped before GA took its feature with it."""
    if gate_stage(gate, minor) is not None:
        return False
    earlier = [m for m in minors() if version_key(m) < version_key(minor) and gate_stage(gate, m)]
    last = gate_stage(gate, max(earlier, key=version_key)) if earlier else None
    return last is not None and last.stage == "ga" and last.default


def gates_at(minor: str) -> dict[str, Stage]:
    return {g: s for g in table()["gates"] if (s := gate_stage(g, minor)) is not None}


def features() -> dict[str, dict[str, Any]]:
    return table()["features"]


def feature(key: str) -> dict[str, Any]:
    try:
        return features()[key]
    except KeyError:
        raise HarnessError(f"unknown feature {key!r}; known: {', '.join(features())}") from None


def maturity(key: str, minor: str) -> str | None:
    """alpha | beta | ga for feature `key` at `minor`; None where the feature does not exist."""
    gate = feature(key)["gate"]
    stage = gate_stage(gate, minor)
    if stage is None:
        return "ga" if graduated(gate, minor) else None
    return stage.stage


def profile_names() -> list[str]:
    return list(table()["profiles"])


def profile(name: str) -> dict[str, Any]:
    try:
        return table()["profiles"][name]
    except KeyError:
        raise HarnessError(f"unknown profile {name!r}; known: {', '.join(profile_names())}") from None


def profile_gates(name: str, minor: str) -> dict[str, bool]:
    """Gates the profile sets explicitly at `minor`; never one the release does not know."""
    wanted = profile(name)["gates"]
    known = gates_at(minor)
    if wanted == "none":
        return {}
    if wanted == "all":
        return dict.fromkeys(known, True)
    return {g: bool(on) for g, on in wanted.items() if g in known}


def enabled_gates(name: str, minor: str) -> dict[str, bool]:
    """Every known gate's effective value under the profile (defaults plus the profile's settings)."""
    return {g: s.default for g, s in gates_at(minor).items()} | profile_gates(name, minor)


def feature_enabled(key: str, profile_name: str, minor: str) -> bool:
    gate = feature(key)["gate"]
    return enabled_gates(profile_name, minor).get(gate, graduated(gate, minor))


def runtime_config(name: str, minor: str) -> dict[str, str]:
    """API versions to switch on: the profile's own plus those its enabled features need."""
    rel = release(minor)
    wanted = list(profile(name).get("runtime_config", []))
    for key, spec in features().items():
        if feature_enabled(key, name, minor):
            wanted += spec.get("apis", {}).get(minor, [])
    return {api: "true" for api in dict.fromkeys(wanted) if api in rel.apis and not rel.apis[api]}


def served_apis(name: str, minor: str) -> list[str]:
    rel = release(minor)
    return [api for api, on in rel.apis.items() if on] + list(runtime_config(name, minor))


def quirks(minor: str) -> dict[str, dict[str, Any]]:
    return {q: table()["quirks"][q] for q in release(minor).quirks}
