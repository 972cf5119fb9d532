"""CDI specs: what a container sees of its devices, as environment variables.

One spec file per prepared claim (`<cdi-root>/<driver>-<claimUID>.json`, kind `<driver>/claim`),
one CDI device per allocation result. Variables of one device carry a per-device key K, because
CDI edits of several devices cannot append to one shared variable (the last writer would win).
The scheme is documented in README.md; parse_env() reads it back from `env` output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from drivers.fake_gpu import device_config
from drivers.fake_gpu.checkpoint import atomic_write

CDI_VERSION = "0.6.0"   # the CDI library rejects older versions for vendor names with dots (ours)
CDI_CLASS = "claim"
_PER_DEVICE = ("DEVICE", "REQUEST", "CLAIM", "POOL", "SHARE_ID", "ADMIN_ACCESS", "CONFIG")


def kind(driver: str) -> str:
    return f"{driver}/{CDI_CLASS}"


def spec_path(root: Path, driver: str, claim_uid: str) -> Path:
    return root / f"{driver}-{claim_uid}.json"


def device_id(driver: str, claim_uid: str, index: int) -> str:
    return f"{kind(driver)}={claim_uid}-{index}"


def env_name(text: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())


def device_key(device: str, claim_uid: str, share_id: str | None) -> str:
    key = f"{device}_{claim_uid[:8]}" + (f"_{share_id[:8]}" if share_id else "")
    return env_name(key)


def device_env(*, driver: str, node: str, claim: dict[str, Any], result: dict[str, Any],
               configs: list[dict[str, Any]]) -> dict[str, str]:
    """Variables for one allocation result (`configs`: the opaque configs that apply to it, each a
    valid DeviceConfig: the preparer refuses the claim otherwise)."""
    meta = claim["metadata"]
    share = result.get("shareID")
    k = device_key(result["device"], meta["uid"], share)
    env = {
        "DRA_DRIVER": driver,
        "DRA_NODE": node,
        f"DRA_DEVICE_{k}": result["device"],
        f"DRA_REQUEST_{k}": result["request"],
        f"DRA_CLAIM_{k}": f"{meta['namespace']}/{meta['name']}",
        f"DRA_POOL_{k}": result["pool"],
        f"DRA_ADMIN_ACCESS_{k}": "true" if result.get("adminAccess") else "false",
    }
    if share:
        env[f"DRA_SHARE_ID_{k}"] = share
    if result.get("adminAccess"):
        env["DRA_ADMIN_ACCESS"] = "true"  # only ever "true": no other device can contradict it
    if configs:
        env[f"DRA_CONFIG_{k}"] = json.dumps(configs, sort_keys=True, separators=(",", ":"))
    for cfg in configs:  # flat, like the upstream test driver's user_/admin_ variables
        src = "CLASS" if cfg["source"] == "FromClass" else "CLAIM"
        for key, value in device_config.decode(cfg.get("parameters")).env.items():
            env[f"DRA_PARAM_{src}_{env_name(key)}"] = value
    return env


def write_spec(root: Path, driver: str, claim_uid: str, devices: list[dict[str, str]]) -> Path:
    """`devices[i]` is the env of CDI device `<uid>-<i>`."""
    spec = {
        "cdiVersion": CDI_VERSION,
        "kind": kind(driver),
        "devices": [
            {"name": f"{claim_uid}-{i}",
             "containerEdits": {"env": [f"{k}={v}" for k, v in sorted(env.items())]}}
            for i, env in enumerate(devices)
        ],
    }
    path = spec_path(root, driver, claim_uid)
    atomic_write(path, json.dumps(spec, indent=1).encode(), durable=False)
    return path


def remove_spec(root: Path, driver: str, claim_uid: str) -> bool:
    path = spec_path(root, driver, claim_uid)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def parse_env(lines: str | Iterable[str]) -> list[dict[str, Any]]:
    """Read the scheme back from `env` output: one dict per device, sorted by device name."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    out = []
    for name, device in env.items():
        if not name.startswith("DRA_DEVICE_"):
            continue
        k = name.removeprefix("DRA_DEVICE_")
        cfg = env.get(f"DRA_CONFIG_{k}")
        out.append({"key": k, "device": device, "request": env.get(f"DRA_REQUEST_{k}"),
                    "claim": env.get(f"DRA_CLAIM_{k}"), "pool": env.get(f"DRA_POOL_{k}"),
                    "shareID": env.get(f"DRA_SHARE_ID_{k}"),
                    "adminAccess": env.get(f"DRA_ADMIN_ACCESS_{k}") == "true",
                    "config": json.loads(cfg) if cfg else []})
    return sorted(out, key=lambda d: (d["device"], d["claim"] or "", d["shareID"] or ""))
