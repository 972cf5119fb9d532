"""Render the manifests of one fake-driver instance; several instances (driver names) run side by side."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import yaml

from drivers.fake_gpu import profiles
from drivers.fake_gpu.config import DEFAULT_CONTROL_PORT

TEMPLATE = Path(__file__).resolve().parent / "templates" / "driver.yaml.j2"


def instance_name(driver_name: str) -> str:
    """A DNS label for the driver name, used for the DaemonSet, app label, ServiceAccount and RBAC."""
    name = re.sub(r"[^a-z0-9-]+", "-", driver_name.lower()).strip("-")
    return f"fake-gpu-{name}"[:63].rstrip("-")


def device_classes(driver_name: str, profile: str) -> list[dict[str, str]]:
    """`<type>.<driver>` per device type of the profile, plus `<driver>` selecting all its devices."""
    out = [{"name": driver_name, "expression": f'device.driver == "{driver_name}"'}]
    for kind in profiles.load(profile).get("deviceClasses", []):
        out.append({"name": f"{kind}.{driver_name}",
                    "expression": f'device.driver == "{driver_name}" && '
                                  f'device.attributes["{driver_name}"].type == "{kind}"'})
    return out


def render(driver_name: str, namespace: str, *, image: str, profile: str = "gpu",
           options: dict[str, dict[str, Any]] | None = None, capabilities: str = "auto",
           dra_versions: str = "v1,v1beta1", health_versions: str = "v1alpha1,v1",
           control_port: int = DEFAULT_CONTROL_PORT, node_selector: dict[str, str] | None = None,
           tolerations: list[dict[str, Any]] | None = None, node_restriction: bool = True,
           plugin_root: str = "/var/lib/kubelet", cdi_root: str = "/var/run/cdi",
           health_interval: float = 10.0, metadata_versions: str = "v1beta1,v1alpha1") -> list[dict[str, Any]]:
    """The instance's objects as dicts, in apply order (ServiceAccount, RBAC, policy, classes, DaemonSet).

    `options`: profile options ({"gpu": {"count": 8, "consumable": True}}); `capabilities`: "auto" or
    e.g. "consumableCapacity=false,partitionableDevices=false" (see capabilities.py);
    `node_restriction=False` leaves out the ValidatingAdmissionPolicy (e.g. to show it matters).
    """
    app = instance_name(driver_name)
    opts = ",".join(f"{g}.{k}={str(v).lower() if isinstance(v, bool) else v}"
                    for g, kv in (options or {}).items() for k, v in kv.items())
    env = {"DRIVER_NAME": driver_name, "DEVICE_PROFILE": profile, "PROFILE_OPTIONS": opts,
           "CAPABILITIES": capabilities, "DRA_VERSIONS": dra_versions, "HEALTH_VERSIONS": health_versions,
           "CONTROL_PORT": str(control_port), "KUBELET_ROOT": plugin_root, "CDI_ROOT": cdi_root,
           "HEALTH_INTERVAL": str(health_interval), "METADATA_VERSIONS": metadata_versions, "PYTHONUNBUFFERED": "1"}
    labels = {"app.kubernetes.io/name": "fake-gpu-dra-driver", "app.kubernetes.io/instance": app,
              "dra-conformance.io/driver": driver_name[:63]}
    text = jinja2.Template(TEMPLATE.read_text(), undefined=jinja2.StrictUndefined).render(
        driver=driver_name, namespace=namespace, image=image, app=app, sa=app, role=f"dra-conformance:{app}",
        policy=f"{app}-slices-per-node", labels=labels, pod_labels={**labels, "app": app},
        classes=device_classes(driver_name, profile), env=env, control_port=control_port,
        node_selector=node_selector, node_restriction=node_restriction,
        tolerations=tolerations or [],  # workers only: kind control planes are tainted
        plugin_root=plugin_root.rstrip("/"), cdi_root=cdi_root)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


if __name__ == "__main__":
    import sys

    print(to_yaml(render(sys.argv[1] if len(sys.argv) > 1 else "gpu.fake.dra-conformance.io",
                         sys.argv[2] if len(sys.argv) > 2 else "dra-fake-gpu",
                         image="fake-gpu-dra-driver:dev")))
