"""The driver's own opaque config, decoded strictly by apiVersion and kind, as a real driver does.

    apiVersion: fake.dra-conformance.io/v1alpha1
    kind: DeviceConfig
    env: {MODE: fast}        # scalars, shown in the container as DRA_PARAM_<CLASS|CLAIM>_<KEY>

Anything else (another group or kind, untyped parameters, unknown fields, non-scalar values) is
refused, and the prepare of its claim fails with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_VERSION, KIND = "fake.dra-conformance.io/v1alpha1", "DeviceConfig"
_FIELDS = {"apiVersion", "kind", "env"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DeviceConfig:
    env: dict[str, str]


def decode(parameters: Any) -> DeviceConfig:
    if not isinstance(parameters, dict):
        raise ConfigError(f"config parameters must be an object, got {type(parameters).__name__}")
    got = (parameters.get("apiVersion"), parameters.get("kind"))
    if got != (API_VERSION, KIND):
        raise ConfigError(f"unsupported config apiVersion/kind {got[0] or '<none>'}/{got[1] or '<none>'}: "
                          f"this driver decodes {API_VERSION} {KIND}")
    if unknown := sorted(set(parameters) - _FIELDS):
        raise ConfigError(f"{KIND}: unknown field(s) {unknown}")
    env = parameters.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(v, str | int | float | bool) for v in env.values()):
        raise ConfigError(f"{KIND}.env must map names to scalar values")
    return DeviceConfig({str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()})
