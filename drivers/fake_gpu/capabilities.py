"""Which optional ResourceSlice / ResourceClaim fields the cluster serves.

The API server silently drops fields whose feature gate is off, so publishing them anyway would
make the scheduler see something else than the driver thinks it published (e.g. partitions as
independent devices). The deployer passes what it knows (`--capabilities k=v,...`), or `auto`
probes the server with dry-run creates and reads back what survived.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.fake_gpu.kubeapi import KubeApi

_NAMES = {"consumableCapacity": "consumable_capacity", "partitionableDevices": "partitionable_devices",
          "countersInSeparateSlice": "counters_in_separate_slice", "deviceStatus": "device_status",
          "deviceTaints": "device_taints", "bindingConditions": "binding_conditions",
          "fractionalCapacity": "fractional_capacity"}


@dataclass(frozen=True)
class Capabilities:
    consumable_capacity: bool = True        # DRAConsumableCapacity: allowMultipleAllocations, requestPolicy
    partitionable_devices: bool = True      # DRAPartitionableDevices: sharedCounters, consumesCounters
    counters_in_separate_slice: bool = True  # 1.35+ layout; 1.34 wants counters next to their devices
    device_status: bool = True              # DRAResourceClaimDeviceStatus: claim status.devices
    device_taints: bool = True              # DRADeviceTaints: devices[].taints
    binding_conditions: bool = True         # DRADeviceBindingConditions: bindsToNode, binding(Failure)Conditions
    fractional_capacity: bool = True        # DRAFractionalCapacityRange: milli-unit request policies

    @classmethod
    def parse(cls, text: str) -> Capabilities:
        """`consumableCapacity=false,deviceStatus=true` (camelCase API-ish names); unset keys stay on."""
        caps = cls()
        for item in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = item.partition("=")
            if key not in _NAMES or value.lower() not in ("true", "false"):
                raise ValueError(f"bad capability {item!r}; use {'|'.join(_NAMES)}=true|false")
            caps = replace(caps, **{_NAMES[key]: value.lower() == "true"})
        return caps

    def to_json(self) -> dict[str, bool]:
        back = {v: k for k, v in _NAMES.items()}
        return {back[f.name]: v for f, v in zip(fields(self), asdict(self).values(), strict=True)}


def probe(api: KubeApi, driver: str, node: str) -> Capabilities:
    """Dry-run create slices carrying each optional field and see which fields come back."""
    base: dict[str, Any] = {
        "apiVersion": "resource.k8s.io/v1", "kind": "ResourceSlice",
        "metadata": {"name": f"{node}-{driver}-capability-probe"},
        "spec": {"driver": driver, "nodeName": node, "pool": {"name": node, "generation": 0,
                                                                 "resourceSliceCount": 1}},
    }
    consumable = _dry_run(api, base, {"devices": [{
        "name": "probe", "allowMultipleAllocations": True,
        "capacity": {"memory": {"value": "1Gi", "requestPolicy": {"default": "1Gi"}}}}]})
    consumable_ok = bool(consumable and consumable["spec"]["devices"][0].get("allowMultipleAllocations"))

    counters = {"sharedCounters": [{"name": "probe-set", "counters": {"memory": {"value": "1Gi"}}}]}
    consuming = {"name": "probe", "consumesCounters": [
        {"counterSet": "probe-set", "counters": {"memory": {"value": "1Gi"}}}]}
    same = _dry_run(api, base, {**counters, "devices": [consuming]})
    if same and same["spec"].get("sharedCounters") and same["spec"].get("devices"):
        partitionable, separate = True, False
    else:
        alone = _dry_run(api, base, counters)
        partitionable, separate = bool(alone and alone["spec"].get("sharedCounters")), True
    tainted = _dry_run(api, base, {"devices": [{
        "name": "probe", "taints": [{"key": "dra-conformance.io/probe", "effect": "NoSchedule"}]}]})
    binding = _dry_run(api, base, {"devices": [{
        "name": "probe", "bindsToNode": True, "bindingConditions": ["dra-conformance.io/probe"],
        "bindingFailureConditions": ["dra-conformance.io/probe-failed"]}]})
    # Without DRAFractionalCapacityRange the server checks a policy in whole units, where 200m,
    # 100m and 300m all read as 1 and pass; in milli units 200m is no step of 300m from 100m.
    fractional = consumable_ok and _dry_run(api, base, {"devices": [{
        "name": "probe", "allowMultipleAllocations": True, "capacity": {"share": {"value": "1", "requestPolicy": {
            "default": "200m", "validRange": {"min": "100m", "step": "300m"}}}}}]}) is None
    return Capabilities(consumable_capacity=consumable_ok, partitionable_devices=partitionable,
                        counters_in_separate_slice=separate,
                        device_taints=bool(tainted and tainted["spec"]["devices"][0].get("taints")),
                        binding_conditions=bool(binding and binding["spec"]["devices"][0].get("bindingConditions")),
                        fractional_capacity=fractional)


def _dry_run(api: KubeApi, base: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any] | None:
    body = {**base, "spec": {**base["spec"], **spec}}
    status, obj = api.request("POST", "/apis/resource.k8s.io/v1/resourceslices", body=body,
                              query={"dryRun": "All"}, check=False)
    return obj if status < 300 else None
