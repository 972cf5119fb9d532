"""Test rig: a real FakeDriver over real Unix sockets, an in-memory claim source below it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from drivers.fake_gpu.claims import MemoryClaimSource
from drivers.fake_gpu.config import DriverConfig
from drivers.fake_gpu.control_client import ControlClient
from drivers.fake_gpu.driver import FakeDriver
from drivers.fake_gpu.kubelet_client import KubeletClient

NODE = "node-a"



def result(request: str, device: str, driver: str, pool: str = NODE, **extra: Any) -> dict[str, Any]:
    return {"request": request, "driver": driver, "pool": pool, "device": device, **extra}


def make_claim(name: str, results: list[dict[str, Any]], config: list[dict[str, Any]] | None = None,
               namespace: str = "ns", uid: str | None = None) -> dict[str, Any]:
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"namespace": namespace, "name": name, "uid": uid or str(uuid.uuid4())},
            "status": {"allocation": {"devices": {"results": results, "config": config or []}}}}


def ref(claim: dict[str, Any]) -> tuple[str, str, str]:
    m = claim["metadata"]
    return m["namespace"], m["name"], m["uid"]


class Rig:
    """One driver instance, its dirs, claims, a kubelet client and a control client."""

    def __init__(self, root: Path, **cfg: Any) -> None:
        self.root = root
        self.driver_name = cfg.pop("driver_name", f"t{uuid.uuid4().hex[:6]}.fake.io")
        self.claims = MemoryClaimSource()
        self.cfg_kw = {"node_name": NODE, "driver_name": self.driver_name, "plugin_root": root / "k",
                       "cdi_root": root / "cdi", "control_host": "127.0.0.1", "control_port": 0,
                       "capabilities": "", **cfg}
        self.driver: FakeDriver | None = None
        self.kubelet: KubeletClient | None = None
        self.control: ControlClient | None = None

    @property
    def cfg(self) -> DriverConfig:
        return DriverConfig(**self.cfg_kw)

    def start(self, register: bool = True) -> Rig:
        self.driver = FakeDriver(self.cfg, claims=self.claims, api=None).start()
        assert self.driver.control is not None
        self.control = ControlClient.local(self.driver.control.url)
        self.kubelet = KubeletClient(self.cfg.registration_socket)
        if register:
            self.kubelet.register()
        return self

    def stop(self) -> None:
        if self.kubelet:
            self.kubelet.close()
            self.kubelet = None
        if self.driver:
            self.driver.stop()
            self.driver = None

    def restart(self) -> Rig:
        self.stop()
        return self.start()

    def add(self, name: str, devices: list[str] | list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
        results = [d if isinstance(d, dict) else result("req", d, self.driver_name) for d in devices]
        claim = make_claim(name, results, **kw)
        self.claims.put(claim)
        return claim

    def spec_file(self, claim: dict[str, Any]) -> Path:
        return self.cfg.cdi_root / f"{self.driver_name}-{claim['metadata']['uid']}.json"
