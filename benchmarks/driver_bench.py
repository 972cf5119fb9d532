"""Fake-driver benchmark: NodePrepareResources latency over the real Unix socket, and publishing 1,000 devices.

    .venv/bin/python benchmarks/driver_bench.py [--iterations 200] [--kubeconfig ~/.kube/config]

Prepare latency is measured as the kubelet sees it (gRPC round trip incl. claim lookup, CDI spec
write and checkpoint fsync); claims come from memory, so no API-server time is included. The
publish time needs a real API server (--kubeconfig); without one the script says so.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.fake_gpu import profiles, slices  # noqa: E402
from drivers.fake_gpu.capabilities import Capabilities, probe  # noqa: E402
from drivers.fake_gpu.claims import MemoryClaimSource  # noqa: E402
from drivers.fake_gpu.config import DriverConfig  # noqa: E402
from drivers.fake_gpu.driver import FakeDriver  # noqa: E402
from drivers.fake_gpu.kubelet_client import KubeletClient  # noqa: E402
from drivers.fake_gpu.publisher import Publisher  # noqa: E402

DRIVER = "bench.fake.dra-conformance.io"
NODE = "bench-node"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_prepare(iterations: int, per_call: int) -> list[float]:
    root = Path(tempfile.mkdtemp(prefix="fgb", dir="/tmp"))
    claims = MemoryClaimSource()
    cfg = DriverConfig(node_name=NODE, driver_name=DRIVER, plugin_root=root / "k", cdi_root=root / "cdi",
                       options={"gpu": {"count": 8}}, capabilities="")
    driver = FakeDriver(cfg, claims=claims, api=None).start(control=False)
    kubelet = KubeletClient(cfg.registration_socket)
    kubelet.register()
    try:
        samples = []
        for i in range(iterations + 5):  # the first calls warm up the channel
            refs = []
            for j in range(per_call):
                uid = str(uuid.uuid4())
                name = f"c{i}-{j}"
                claims.put({"metadata": {"namespace": "bench", "name": name, "uid": uid},
                            "status": {"allocation": {"devices": {"results": [
                                {"request": "gpu", "driver": DRIVER, "pool": NODE, "device": f"gpu-{j % 8}"}]}}}})
                refs.append(("bench", name, uid))
            start = time.perf_counter()
            resp = kubelet.prepare(refs)
            elapsed = time.perf_counter() - start
            assert all(not r.error for r in resp.claims.values()), resp
            kubelet.unprepare(refs)
            if i >= 5:
                samples.append(elapsed * 1000)
        return samples
    finally:
        kubelet.close()
        driver.stop()
        shutil.rmtree(root, ignore_errors=True)


def bench_publish(kubeconfig: str | None, devices: int) -> str:
    inv = profiles.build("gpu", NODE, {"gpu": {"count": devices}})
    start = time.perf_counter()
    objs = slices.build(DRIVER, NODE, inv, Capabilities(), 1)
    local_ms = (time.perf_counter() - start) * 1000
    local = f"building {len(objs)} slices locally: {local_ms:.1f} ms"
    if not kubeconfig:
        return f"publish {devices} devices: no API server given (--kubeconfig), not measured; {local}"
    try:
        from drivers.fake_gpu.kubeapi import KubeApi

        api = KubeApi.connect(kubeconfig)
        api.get("/version")
    except Exception as exc:  # noqa: BLE001 - report and carry on with the local numbers
        return f"publish {devices} devices: API server not reachable ({exc}); {local}"
    node = f"{NODE}-{uuid.uuid4().hex[:6]}"
    pub = Publisher(api, DRIVER, node, probe(api, DRIVER, node))
    inv = profiles.build("gpu", node, {"gpu": {"count": devices}})
    start = time.perf_counter()
    written = pub.publish(inv)
    elapsed = time.perf_counter() - start
    pub.withdraw()
    return f"publish {devices} devices in {len(written)} ResourceSlices: {elapsed:.2f} s (real API server); {local}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--kubeconfig")
    args = ap.parse_args()
    for per_call in (1, 8):
        s = bench_prepare(args.iterations, per_call)
        print(f"NodePrepareResources, {per_call} claim(s)/call, n={len(s)}: "
              f"p50 {statistics.median(s):.2f} ms  p99 {percentile(s, 99):.2f} ms  max {max(s):.2f} ms")
    print(bench_publish(args.kubeconfig, args.devices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
