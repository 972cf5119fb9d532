"""Driver settings: command-line flags, each with an environment variable fallback (for the DaemonSet)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.fake_gpu.metadata import check_versions

DEFAULT_DRIVER = "gpu.fake.dra-conformance.io"
DEFAULT_CONTROL_PORT = 8470


@dataclass
class DriverConfig:
    node_name: str
    driver_name: str = DEFAULT_DRIVER
    profile: str = "gpu"
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # {"gpu": {"count": 8}}
    plugin_root: Path = Path("/var/lib/kubelet")
    cdi_root: Path = Path("/var/run/cdi")
    control_host: str = "0.0.0.0"
    control_port: int = DEFAULT_CONTROL_PORT   # 0: any free port (printed in the ready line)
    kubeconfig: str | None = None
    claims_file: Path | None = None            # tests only: claims from a file, no API server
    capabilities: str = "auto"                 # "auto" (probe the server) or "k=v,..." (capabilities.py)
    dra_versions: list[str] = field(default_factory=lambda: ["v1", "v1beta1"])
    health_versions: list[str] = field(default_factory=lambda: ["v1alpha1", "v1"])
    health_interval: float = 10.0
    metadata_versions: list[str] = field(default_factory=lambda: ["v1beta1", "v1alpha1"])  # KEP-5304; []: none
    resync_interval: float = 5.0               # seconds between slice reconciles; 0: only on registration
    keep_slices_on_exit: bool = False

    @property
    def registry_dir(self) -> Path:
        return self.plugin_root / "plugins_registry"

    @property
    def plugin_dir(self) -> Path:
        return self.plugin_root / "plugins" / self.driver_name

    @property
    def dra_socket(self) -> Path:
        return self.plugin_dir / "dra.sock"

    @property
    def registration_socket(self) -> Path:
        return self.registry_dir / f"{self.driver_name}-reg.sock"

    @property
    def checkpoint_file(self) -> Path:
        return self.plugin_dir / "checkpoint.json"

    @property
    def ledger_file(self) -> Path:
        return self.plugin_dir / "ledger.json"


def parse_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """`gpu.count=8 gpu.consumable=true` -> {"gpu": {"count": 8, "consumable": True}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        group, dot, name = key.partition(".")
        if not sep or not dot:
            raise ValueError(f"option {item!r} is not <group>.<name>=<value>")
        value: Any = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        out.setdefault(group, {})[name] = value
    return out


def _csv(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_args(argv: list[str] | None = None) -> DriverConfig:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m drivers.fake_gpu", description=__doc__)
    p.add_argument("--driver-name", default=env("DRIVER_NAME", DEFAULT_DRIVER))
    p.add_argument("--node-name", default=env("NODE_NAME"), help="required (env NODE_NAME)")
    p.add_argument("--profile", default=env("DEVICE_PROFILE", "gpu"), help="profiles/<name>.yaml")
    p.add_argument("--option", action="append", default=_csv(env("PROFILE_OPTIONS", "")),
                   help="profile option <group>.<name>=<value>, repeatable (env PROFILE_OPTIONS, a,b)")
    p.add_argument("--plugin-root", default=env("KUBELET_ROOT", "/var/lib/kubelet"))
    p.add_argument("--cdi-root", default=env("CDI_ROOT", "/var/run/cdi"))
    p.add_argument("--control-host", default=env("CONTROL_HOST", "0.0.0.0"))
    p.add_argument("--control-port", type=int, default=int(env("CONTROL_PORT", str(DEFAULT_CONTROL_PORT))))
    p.add_argument("--kubeconfig", default=env("KUBECONFIG"), help="default: in-cluster, then ~/.kube/config")
    p.add_argument("--claims-file", default=env("CLAIMS_FILE"), help="tests only: read claims from JSON")
    p.add_argument("--capabilities", default=env("CAPABILITIES", "auto"))
    p.add_argument("--dra-versions", default=env("DRA_VERSIONS", "v1,v1beta1"))
    p.add_argument("--health-versions", default=env("HEALTH_VERSIONS", "v1alpha1,v1"),
                   help="empty: no health service")
    p.add_argument("--metadata-versions", default=env("METADATA_VERSIONS", "v1beta1,v1alpha1"),
                   help="DeviceMetadata versions written for containers, newest first (empty: no metadata)")
    p.add_argument("--health-interval", type=float, default=float(env("HEALTH_INTERVAL", "10")))
    p.add_argument("--resync-interval", type=float, default=float(env("RESYNC_INTERVAL", "5")),
                   help="seconds between ResourceSlice reconciles while serving (0: only on registration)")
    p.add_argument("--keep-slices-on-exit", action="store_true",
                   default=env("KEEP_SLICES_ON_EXIT", "") == "true")
    a = p.parse_args(argv)
    if not a.node_name:
        p.error("--node-name (or NODE_NAME) is required")
    dra, health = _csv(a.dra_versions), _csv(a.health_versions)
    if not set(dra) <= {"v1", "v1beta1"} or not dra:
        p.error("--dra-versions: a non-empty subset of v1,v1beta1")
    if not set(health) <= {"v1alpha1", "v1"}:
        p.error("--health-versions: a subset of v1alpha1,v1")
    metadata = _csv(a.metadata_versions)
    try:
        check_versions(metadata)
    except ValueError as exc:
        p.error(f"--metadata-versions: {exc}")
    try:
        options = parse_options(a.option)
    except ValueError as exc:
        p.error(str(exc))
    return DriverConfig(
        node_name=a.node_name, driver_name=a.driver_name, profile=a.profile, options=options,
        plugin_root=Path(a.plugin_root), cdi_root=Path(a.cdi_root), control_host=a.control_host,
        control_port=a.control_port, kubeconfig=a.kubeconfig,
        claims_file=Path(a.claims_file) if a.claims_file else None, capabilities=a.capabilities,
        dra_versions=dra, health_versions=health, health_interval=a.health_interval, metadata_versions=metadata,
        resync_interval=a.resync_interval, keep_slices_on_exit=a.keep_slices_on_exit)
