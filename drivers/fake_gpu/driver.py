"""FakeDriver: wires inventory, publisher, gRPC services, registration and the control server."""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc

from drivers.fake_gpu import health, node_service, profiles, registration
from drivers.fake_gpu.binding import BindingController
from drivers.fake_gpu.capabilities import Capabilities, probe
from drivers.fake_gpu.checkpoint import Checkpoint
from drivers.fake_gpu.claim_status import ClaimStatusWriter
from drivers.fake_gpu.claims import ClaimSource
from drivers.fake_gpu.config import DriverConfig
from drivers.fake_gpu.control import ControlServer
from drivers.fake_gpu.faults import Faults
from drivers.fake_gpu.kubeapi import KubeApi
from drivers.fake_gpu.ledger import Ledger
from drivers.fake_gpu.metadata import MetadataWriter
from drivers.fake_gpu.preparer import Preparer
from drivers.fake_gpu.profiles import FakeDevice, Inventory
from drivers.fake_gpu.publisher import Publisher
from drivers.fake_gpu.reconciler import Reconciler
from drivers.fake_gpu.stubs import load as load_stubs

log = logging.getLogger(__name__)
GRPC_WORKERS = 64  # health streams and hung calls each hold a worker thread
BOOT = uuid.uuid4().hex  # tells this process from the next one (in a container both are pid 1)


def crash_process(exit_code: int, restart: bool) -> None:
    """What POST /crash does in a real driver process: die now, or re-exec with the same arguments."""
    sys.stdout.flush()
    sys.stderr.flush()
    if restart:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    os._exit(exit_code)


class FakeDriver:
    def __init__(self, cfg: DriverConfig, *, claims: ClaimSource, api: KubeApi | None,
                 crash: Callable[[int, bool], None] = crash_process) -> None:
        self.cfg, self.api, self.crash = cfg, api, crash
        self.stubs = load_stubs()
        if api is not None and cfg.capabilities == "auto":
            self.caps = probe(api, cfg.driver_name, cfg.node_name)
        else:
            self.caps = Capabilities.parse("" if cfg.capabilities == "auto" else cfg.capabilities)
        self.faults = Faults()
        self.hub = health.HealthHub(pool=cfg.node_name, interval=cfg.health_interval)
        # The kubelet wipes a plugin's slices when it goes away and again on its own start-up:
        # like a real driver, publish again whenever the kubelet (re-)registers us.
        self.registration = registration.RegistrationState(on_registered=self._republish_async)
        self.publisher = Publisher(api, cfg.driver_name, cfg.node_name, self.caps)
        self.status = ClaimStatusWriter(api, cfg.driver_name, enabled=self.caps.device_status)
        self._inv_lock = threading.Lock()
        self._inventory = profiles.build(cfg.profile, cfg.node_name, cfg.options)
        self.checkpoint = Checkpoint(cfg.checkpoint_file)
        self.ledger = Ledger(cfg.ledger_file)
        self.preparer = Preparer(driver=cfg.driver_name, node=cfg.node_name, claims=claims,
                                 checkpoint=self.checkpoint, ledger=self.ledger, cdi_root=cfg.cdi_root,
                                 inventory=self.inventory, status=self.status,
                                 metadata=MetadataWriter(cfg.driver_name, cfg.plugin_dir, cfg.cdi_root,
                                                         cfg.metadata_versions))
        self._serving_lock = threading.Lock()
        self._dra_server: grpc.Server | None = None
        self._reg_server: grpc.Server | None = None
        self.control: ControlServer | None = None
        self.reconciler = Reconciler(lambda: self.publisher.publish(self.inventory()), self.serving,
                                     cfg.resync_interval)
        self.binding = BindingController(api, cfg.driver_name, cfg.node_name, self.update_inventory)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, control: bool = True) -> FakeDriver:
        cfg = self.cfg
        for d in (cfg.plugin_dir, cfg.registry_dir, cfg.cdi_root):
            d.mkdir(parents=True, exist_ok=True)
        inv = self._inventory
        self.hub.set_inventory([d.name for d in inv.devices], inv.health_timeout_seconds)
        self._publish_or_log()
        self.serve()
        self.reconciler.start()
        self.binding.start()
        if control:
            self.control = ControlServer(self, cfg.control_host, cfg.control_port).start()
        return self

    def serve(self) -> None:
        """Serve the kubelet. DRA service first: the kubelet connects to the endpoint right after GetInfo."""
        with self._serving_lock:
            if self._reg_server is not None:
                return
            self.hub.resume()
            self._dra_server = self._serve(self.cfg.dra_socket, self._add_dra_services)
            self._reg_server = self._serve(self.cfg.registration_socket, self._add_registration)

    def unserve(self) -> None:
        """Stop every kubelet-facing service and remove the sockets: to the kubelet the plugin is
        gone, as when its process stops; the control server stays up so a test can bring it back."""
        with self._serving_lock:
            self.hub.stop()
            self.faults.release()
            for server in (self._reg_server, self._dra_server):
                if server is not None:
                    server.stop(grace=1).wait()
            self._reg_server = self._dra_server = None
            for sock in (self.cfg.registration_socket, self.cfg.dra_socket):
                sock.unlink(missing_ok=True)
            self.registration.reset()

    def serving(self) -> bool:
        with self._serving_lock:
            return self._reg_server is not None

    def stop(self, withdraw: bool = True) -> None:
        """Graceful shutdown: stop serving, end health streams, withdraw the pool's slices."""
        if self.control:
            self.control.stop()
        self.reconciler.stop()
        self.binding.stop()
        self.unserve()
        if withdraw and not self.cfg.keep_slices_on_exit:
            try:
                self.publisher.withdraw()
            except Exception as exc:  # noqa: BLE001 - shutting down anyway; say why slices stay
                log.warning("could not withdraw ResourceSlices: %s", exc)

    def _serve(self, path: Any, add: Callable[[grpc.Server], None]) -> grpc.Server:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=GRPC_WORKERS))
        add(server)
        if server.add_insecure_port(f"unix://{path}") != 1:
            raise RuntimeError(f"cannot listen on {path}")
        server.start()
        return server

    def _add_dra_services(self, server: grpc.Server) -> None:
        s = self.stubs
        mods = {"v1": (s.dra_v1_grpc, s.dra_v1), "v1beta1": (s.dra_v1beta1_grpc, s.dra_v1beta1)}
        for v in self.cfg.dra_versions:
            grpc_mod, pb = mods[v]
            svc = node_service.servicer(grpc_mod, pb, preparer=self.preparer, faults=self.faults,
                                        ledger=self.ledger, with_share_id=(v == "v1"))
            grpc_mod.add_DRAPluginServicer_to_server(svc, server)
        hmods = {"v1alpha1": (s.health_v1alpha1_grpc, s.health_v1alpha1),
                 "v1": (s.health_v1_grpc, s.health_v1)}
        for v in self.cfg.health_versions:
            grpc_mod, pb = hmods[v]
            hsvc = health.servicer(grpc_mod, pb, v, self.hub)
            grpc_mod.add_DRAResourceHealthServicer_to_server(hsvc, server)

    def _add_registration(self, server: grpc.Server) -> None:
        svc = registration.servicer(
            self.stubs, driver=self.cfg.driver_name, endpoint=str(self.cfg.dra_socket),
            versions=registration.supported_versions(self.cfg.dra_versions, self.cfg.health_versions),
            state=self.registration, faults=self.faults)
        self.stubs.reg_grpc.add_RegistrationServicer_to_server(svc, server)

    # --- inventory -------------------------------------------------------------------------
    def inventory(self) -> Inventory:
        with self._inv_lock:
            return self._inventory

    def set_inventory(self, *, profile: str | None = None, options: dict[str, dict[str, Any]] | None = None,
                      devices: list[dict[str, Any]] | None = None,
                      counter_sets: list[dict[str, Any]] | None = None) -> Inventory:
        """Swap the fake hardware, republish and push the new device list to health streams.

        Raises the API error if publishing failed (the inventory is changed anyway, like hardware).
        """
        def swap(cur: Inventory) -> Inventory:
            if devices is not None:
                return Inventory(profile=cur.profile, devices=[FakeDevice.from_api(d) for d in devices],
                                 counter_sets=counter_sets or [], device_classes=cur.device_classes,
                                 health_timeout_seconds=cur.health_timeout_seconds)
            return profiles.build(profile or cur.profile, self.cfg.node_name, options)
        return self.update_inventory(swap)

    def update_inventory(self, change: Callable[[Inventory], Inventory]) -> Inventory:
        """Apply `change` to the inventory atomically, then republish as set_inventory does."""
        with self._inv_lock:
            inv = self._inventory = change(self._inventory)
        self.hub.set_inventory([d.name for d in inv.devices], inv.health_timeout_seconds)
        self.publisher.publish(inv)
        return inv

    def _republish_async(self) -> None:
        threading.Thread(target=self._publish_or_log, name="republish", daemon=True).start()

    def _publish_or_log(self) -> None:
        try:
            self.publisher.publish(self._inventory)
        except Exception as exc:  # noqa: BLE001 - serve the kubelet anyway; /state shows the error
            log.error("publishing ResourceSlices failed: %s", exc)

    # --- observation -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        cfg = self.cfg
        return {
            "driver": cfg.driver_name, "node": cfg.node_name, "pool": cfg.node_name, "pid": os.getpid(), "boot": BOOT,
            "sockets": {"dra": str(cfg.dra_socket), "registration": str(cfg.registration_socket)},
            "versions": registration.supported_versions(cfg.dra_versions, cfg.health_versions),
            "capabilities": self.caps.to_json(),
            "serving": self.serving(),
            "registration": self.registration.to_json(),
            "inventory": self.inventory().to_json(),
            "health": self.hub.snapshot(),
            "healthStreams": {"open": self.hub.open_streams(), "opened": dict(self.hub.streams_opened)},
            "prepared": self.checkpoint.snapshot(),
            "claims": self.ledger.snapshot(),
            "faults": self.faults.snapshot(),
            "slices": {"generation": self.publisher.generation, "published": self.publisher.desired,
                       "error": self.publisher.last_error},
            "claimStatus": {"served": self.status.served, "errors": list(self.status.errors)},
            "binding": self.binding.snapshot(),
            "metadata": {"versions": self.preparer.metadata.versions},
        }
