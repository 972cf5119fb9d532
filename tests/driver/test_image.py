"""The offline-built driver image, run as a container with testcontainers: the kubelet's side
talks to it over real Unix sockets shared through a bind mount (same path inside and out, so the
endpoint the plugin advertises is valid for both)."""

from __future__ import annotations

import pytest
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from clusters.kind import host
from dra_conformance.waiting import timeout, wait_for
from drivers.fake_gpu.deploy.image import ensure_image
from drivers.fake_gpu.kubelet_client import KubeletClient

pytestmark = pytest.mark.docker
DRIVER = "image.selftest.dra-conformance.io"


@pytest.fixture(scope="module")
def image() -> str:
    host.ensure_engine()
    # Ryuk (testcontainers' reaper) is an image that cannot be pulled offline; the `with` block
    # below removes the container itself.
    testcontainers_config.ryuk_disabled = True
    return ensure_image()


def test_image_serves_registration_and_health(image, short_tmp):
    (short_tmp / "claims.json").write_text("[]")
    args = (f"--node-name n1 --driver-name {DRIVER} --profile mixed --plugin-root {short_tmp} "
            f"--cdi-root {short_tmp}/cdi --claims-file {short_tmp}/claims.json --control-port 0")
    container = DockerContainer(image).with_command(args).with_volume_mapping(str(short_tmp), str(short_tmp), "rw")
    with container:
        def ready() -> tuple[bool, str]:
            out, err = container.get_logs()
            text = (out + err).decode(errors="replace")
            return '"ready"' in text, text[-500:] or "no output yet"
        wait_for("the driver container's ready line", ready, "driver_ready")
        kubelet = KubeletClient(short_tmp / "plugins_registry" / f"{DRIVER}-reg.sock")
        try:
            info = kubelet.register()
            assert (info.type, info.name) == ("DRAPlugin", DRIVER)
            assert {"v1.DRAPlugin", "v1beta1.DRAPlugin"} <= set(info.supported_versions)
            devices = kubelet.watch_health("v1").next(timeout=timeout("driver_ready"))
            assert {"gpu-0", "nic-0"} <= set(devices) and {d["health"] for d in devices.values()} == {"HEALTHY"}
        finally:
            kubelet.close()
