"""Entry point: `python -m drivers.fake_gpu --node-name <node> [...]` (flags: config.py, --help)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading

from drivers.fake_gpu.claims import ApiClaimSource, ClaimSource, FileClaimSource
from drivers.fake_gpu.config import parse_args
from drivers.fake_gpu.driver import FakeDriver
from drivers.fake_gpu.kubeapi import KubeApi


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = parse_args(argv)
    api: KubeApi | None = None
    claims: ClaimSource
    if cfg.claims_file is not None:
        claims = FileClaimSource(cfg.claims_file)  # no API server: nothing is published
    else:
        api = KubeApi.connect(cfg.kubeconfig)
        claims = ApiClaimSource(api)
    driver = FakeDriver(cfg, claims=claims, api=api).start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    # One machine-readable line so a parent process (tests, benchmarks) knows where we listen.
    print(json.dumps({"event": "ready", "control": driver.control.url if driver.control else None,
                      "draSocket": str(cfg.dra_socket), "registrationSocket": str(cfg.registration_socket),
                      "pid": driver.state()["pid"]}), flush=True)
    done.wait()
    logging.info("shutting down")
    driver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
