"""gRPC stubs for the kubelet protocols, generated from proto/ on first use into gen/ (git-ignored).

Every upstream kubelet proto is named api.proto, so protoc gets one virtual include root
(`drivers/fake_gpu/gen=proto`): descriptor names become `drivers/fake_gpu/gen/<api>/<version>/api.proto`
(unique in the global descriptor pool) and the generated `_pb2_grpc` modules import their `_pb2`
siblings as `drivers.fake_gpu.gen...`, which works as a package without rewriting imports.
Run `python -m drivers.fake_gpu.stubs` to generate ahead of time (the image build does).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
PROTO_DIR = HERE / "proto"
GEN_DIR = HERE / "gen"
VIRTUAL_ROOT = "drivers/fake_gpu/gen"
PACKAGE = "drivers.fake_gpu.gen"
APIS = ("pluginregistration/v1", "dra/v1", "dra/v1beta1", "dra_health/v1alpha1", "dra_health/v1",
        "podresources/v1")
_STAMP = ".stamp"


def _digest() -> str:
    import grpc_tools  # only needed when (re)generating, but the version is part of the key

    h = hashlib.sha256(getattr(grpc_tools, "__version__", "unknown").encode())
    for api in APIS:
        h.update(api.encode() + (PROTO_DIR / api / "api.proto").read_bytes())
    return h.hexdigest()


def _stamp_ok() -> bool:
    stamp = GEN_DIR / _STAMP
    if not stamp.exists():
        return False
    try:
        return stamp.read_text().strip() == _digest()
    except ImportError:  # no grpcio-tools (e.g. in the offline image): trust what was shipped
        return True


def ensure_generated() -> Path:
    """Generate the stubs unless gen/ already matches proto/; safe under pytest-xdist (file lock)."""
    GEN_DIR.mkdir(exist_ok=True)
    with open(GEN_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _stamp_ok():
            _generate()
    return GEN_DIR


def _generate() -> None:
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory(prefix="fake-gpu-gen-") as tmp:
        files = [f"{VIRTUAL_ROOT}/{api}/api.proto" for api in APIS]
        args = ["protoc", f"-I{VIRTUAL_ROOT}={PROTO_DIR}", f"--python_out={tmp}", f"--pyi_out={tmp}",
                f"--grpc_python_out={tmp}", *files]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed for {PROTO_DIR}")
        out = Path(tmp) / VIRTUAL_ROOT
        for d in [out, *(p for p in out.rglob("*") if p.is_dir())]:
            (d / "__init__.py").touch()
        shutil.copytree(out, GEN_DIR, dirs_exist_ok=True)
    (GEN_DIR / _STAMP).write_text(_digest() + "\n")


@dataclass(frozen=True)
class Stubs:
    reg: ModuleType
    reg_grpc: ModuleType
    dra_v1: ModuleType
    dra_v1_grpc: ModuleType
    dra_v1beta1: ModuleType
    dra_v1beta1_grpc: ModuleType
    health_v1alpha1: ModuleType
    health_v1alpha1_grpc: ModuleType
    health_v1: ModuleType
    health_v1_grpc: ModuleType
    podresources_v1: ModuleType
    podresources_v1_grpc: ModuleType


@cache
def load() -> Stubs:
    ensure_generated()

    def mod(api: str, suffix: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{api.replace('/', '.')}.api_{suffix}")

    mods: list[ModuleType] = []
    for api in APIS:
        mods += [mod(api, "pb2"), mod(api, "pb2_grpc")]
    return Stubs(*mods)


if __name__ == "__main__":
    print(ensure_generated())
