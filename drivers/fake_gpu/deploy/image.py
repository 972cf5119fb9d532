"""The driver image, built without any registry: a local Debian bookworm base (python3 3.11) plus the
driver source and its dependencies installed by the host's pip with `--target` (cp311 manylinux
wheels). Online users can use deploy/Dockerfile instead.

    tag = build_image(ensure_base_image(), "fake-gpu-dra-driver:dev")   # base from the forge
    load_into_kind(tag, cluster="dra")                                    # or load_into_nodes(tag, [...])
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from dra_conformance.errors import HarnessError
from dra_conformance.paths import cache_dir
from dra_conformance.proc import run
from drivers.fake_gpu.stubs import ensure_generated

HERE = Path(__file__).resolve().parent
DRIVER_DIR = HERE.parent
RUNTIME_PACKAGES = ("grpcio", "protobuf", "kubernetes", "pyyaml")
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
DEFAULT_TAG = "fake-gpu-dra-driver:dev"

OFFLINE_DOCKERFILE = """\
FROM {base}
COPY site-packages /opt/fake-gpu/site-packages
COPY app /opt/fake-gpu/app
ENV PYTHONPATH=/opt/fake-gpu/site-packages:/opt/fake-gpu/app PYTHONUNBUFFERED=1
WORKDIR /opt/fake-gpu/app
ENTRYPOINT ["python3", "-m", "drivers.fake_gpu"]
"""


def pinned_requirements() -> list[str]:
    """The host's installed versions: the image runs exactly what the tests ran (stubs included)."""
    return [f"{name}=={metadata.version(name)}" for name in RUNTIME_PACKAGES]


def site_packages(log: Path | None = None) -> Path:
    """cp311 manylinux wheels installed with --target, cached by the pinned requirement set."""
    reqs = pinned_requirements()
    key = hashlib.sha256("\n".join([*reqs, *PLATFORMS]).encode()).hexdigest()[:16]
    target = cache_dir("fake-gpu-image", f"site-packages-{key}")
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target)
    platform_args = [a for p in PLATFORMS for a in ("--platform", p)]
    run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--target", target, "--only-binary=:all:", *platform_args, "--python-version", "3.11",
         "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none", *reqs], log=log)
    (target / ".complete").touch()
    return target


def _copy_driver(dest: Path) -> None:
    ensure_generated()
    shutil.copytree(DRIVER_DIR, dest / "drivers" / "fake_gpu",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".lock", "deploy"))
    # deploy/ is host-side tooling; the driver process never imports it


def build_image(base_image: str, tag: str = DEFAULT_TAG, *, log: Path | None = None) -> str:
    """`docker build` (classic builder: DOCKER_BUILDKIT=0, no registry access) FROM `base_image`.

    `base_image` must be local and have Debian bookworm's python3 (3.11) on PATH; the forge's
    `clusters.kind.forge.base_image.ensure_base_image()` provides one. Returns `tag`.
    """
    deps = site_packages(log)
    with tempfile.TemporaryDirectory(prefix="fake-gpu-image-") as tmp:
        ctx = Path(tmp)
        shutil.copytree(deps, ctx / "site-packages", ignore=shutil.ignore_patterns(".complete"))
        _copy_driver(ctx / "app")
        (ctx / "Dockerfile").write_text(OFFLINE_DOCKERFILE.format(base=base_image))
        run(["docker", "build", "--pull=false", "-t", tag, str(ctx)], env={"DOCKER_BUILDKIT": "0"}, log=log)
    return tag


def load_into_kind(tag: str, cluster: str, *, log: Path | None = None) -> None:
    run(["kind", "load", "docker-image", tag, "--name", cluster], log=log)


def load_into_nodes(tag: str, nodes: list[str]) -> None:
    """Without the kind binary: `docker save | docker exec -i <node> ctr -n k8s.io images import -`."""
    for node in nodes:
        save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "exec", "-i", node, "ctr", "-n", "k8s.io", "images", "import", "-"],
                             stdin=save.stdout, capture_output=True)
        if save.stdout:
            save.stdout.close()
        if save.wait() != 0 or imp.returncode != 0:
            raise HarnessError(f"loading {tag} into node {node} failed: "
                               f"{imp.stderr.decode(errors='replace').strip()[-300:]}")


if __name__ == "__main__":
    print(build_image(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else DEFAULT_TAG))
