"""Device metadata (KEP-5304): a file per prepared request telling the container what it got.

As upstream's kubelet-plugin helper does it: for each request of a prepared claim, a DeviceMetadata
document (one JSON object per configured API version, newest first) under the plugin's data dir,
and a CDI device that bind-mounts it read-only into the container at
`/var/run/kubernetes.io/dra-device-attributes/resourceclaims/<claim>/<request>/<driver>-metadata.json`
(`resourceclaimtemplates/<pod claim name>/...` for a claim made from a template). The kubelet gives a
container the CDI devices of the requests it uses, so each container sees its own requests' files; a
file per driver keeps two drivers serving one request apart.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from drivers.fake_gpu.cdi import CDI_VERSION
from drivers.fake_gpu.checkpoint import atomic_write

CONTAINER_DIR = "/var/run/kubernetes.io/dra-device-attributes"
GROUP = "metadata.resource.k8s.io"
VERSIONS = ("v1beta1", "v1alpha1")  # the ones a driver may write, newest first
POD_CLAIM_ANNOTATION = "resource.kubernetes.io/pod-claim-name"


def check_versions(versions: list[str]) -> None:
    """Raise ValueError unless `versions` is v1beta1, optionally followed by v1alpha1 (or empty)."""
    if versions not in ([], list(VERSIONS[:1]), list(VERSIONS)):
        raise ValueError(f"metadata versions {versions}: v1beta1, optionally followed by v1alpha1 (or none)")


def container_path(claim: dict[str, Any], request: str, driver: str) -> str:
    """Where a container finds the file of `request` (a base request name) of `claim`."""
    pod_claim = (claim["metadata"].get("annotations") or {}).get(POD_CLAIM_ANNOTATION)
    where = f"resourceclaimtemplates/{pod_claim}" if pod_claim else f"resourceclaims/{claim['metadata']['name']}"
    return f"{CONTAINER_DIR}/{where}/{request}/{driver}-metadata.json"


class MetadataWriter:
    """`versions` empty: the driver writes no metadata."""

    def __init__(self, driver: str, data_dir: Path, cdi_root: Path, versions: list[str]) -> None:
        self.driver, self.data_dir, self.cdi_root, self.versions = driver, data_dir, cdi_root, versions

    def write(self, claim: dict[str, Any], devices: dict[str, list[dict[str, Any]]]) -> list[dict[str, str]]:
        """Write the files for `devices` (full request name -> DeviceMetadata devices of this driver);
        returns their mounts ({request, cdiDeviceID, hostPath, containerPath}), one per base request,
        for the checkpoint and the prepare response."""
        if not self.versions:
            return []
        meta = claim["metadata"]
        by_base: dict[str, list[tuple[str, list[dict[str, Any]]]]] = {}
        for request, devs in devices.items():
            by_base.setdefault(request.split("/", 1)[0], []).append((request, devs))
        mounts = []
        for base, requests in by_base.items():
            host = self._claim_dir(meta["namespace"], meta["name"]) / base / "metadata.json"
            doc: dict[str, Any] = {
                "kind": "DeviceMetadata",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
                             "generation": 1},
                "requests": [{"name": name, "devices": devs} for name, devs in requests]}
            if pod_claim := (meta.get("annotations") or {}).get(POD_CLAIM_ANNOTATION):
                doc["podClaimName"] = pod_claim
            stream = "".join(json.dumps({"apiVersion": f"{GROUP}/{v}", **doc}) + "\n" for v in self.versions)
            atomic_write(host, stream.encode(), durable=False)
            host.chmod(0o644)  # containers may run as any user
            mounts.append({"request": base, "cdiDeviceID": f"{self.driver}/metadata={meta['uid']}_{base}",
                           "hostPath": str(host), "containerPath": container_path(claim, base, self.driver)})
        self.write_specs(meta["uid"], mounts)
        return mounts

    def write_specs(self, uid: str, mounts: list[dict[str, str]]) -> None:
        """The CDI spec of each mount (again after a reboot emptied the CDI directory)."""
        for m in mounts:
            spec = {"cdiVersion": CDI_VERSION, "kind": f"{self.driver}/metadata", "devices": [{
                "name": f"{uid}_{m['request']}", "containerEdits": {"mounts": [
                    {"hostPath": m["hostPath"], "containerPath": m["containerPath"], "options": ["ro", "bind"]}]}}]}
            atomic_write(self._spec_path(uid, m["request"]), json.dumps(spec, indent=1).encode(), durable=False)

    def specs_missing(self, uid: str, mounts: list[dict[str, str]]) -> bool:
        return any(not self._spec_path(uid, m["request"]).exists() for m in mounts)

    def remove(self, namespace: str, name: str, uid: str) -> None:
        shutil.rmtree(self._claim_dir(namespace, name), ignore_errors=True)
        for spec in self.cdi_root.glob(f"{self.driver}_metadata_{uid}_*.json"):
            spec.unlink(missing_ok=True)

    def _claim_dir(self, namespace: str, name: str) -> Path:
        return self.data_dir / "dra-device-metadata" / f"{namespace}_{name}"

    def _spec_path(self, uid: str, request: str) -> Path:
        return self.cdi_root / f"{self.driver}_metadata_{uid}_{request}.json"


def device_entry(driver: str, pool: str, spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """A device of a DeviceMetadata request: its published attributes, and its network data if any."""
    entry: dict[str, Any] = {"driver": driver, "pool": pool, "name": spec["name"]}
    if spec.get("attributes"):
        entry["attributes"] = spec["attributes"]
    if status.get("networkData"):
        entry["networkData"] = status["networkData"]
    return entry
