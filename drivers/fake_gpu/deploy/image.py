"""The driver image, built without any registry: a local Debian bookworm base (python3 3.11) plus the
driver source and its dependencies installed by the host's pip with `--target` (cp311 manylinux
wheels). Online users can use deploy/Dockerfile instead.

    tag = ensure_image()          # content-addressed: rebuilt only when the driver or its deps change
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from dra_conformance.paths import cache_dir
from dra_conformance.proc import run
from drivers.fake_gpu.stubs import ensure_generated

HERE = Path(__file__).resolve().parent
DRIVER_DIR = HERE.parent
RUNTIME_PACKAGES = ("grpcio", "protobuf", "kubernetes", "pyyaml")
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
REPO = "dra-conformance.local/fake-gpu-driver"

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


def source_digest() -> str:
    """Hash of everything that goes into the image except the base: driver source and pins."""
    h = hashlib.sha256("\n".join(pinned_requirements()).encode())
    for f in sorted(DRIVER_DIR.rglob("*")):
        if f.is_file() and "deploy" not in f.parts and "gen" not in f.relative_to(DRIVER_DIR).parts \
                and f.suffix not in (".pyc", ".lock"):
            h.update(f.relative_to(DRIVER_DIR).as_posix().encode() + f.read_bytes())
    return h.hexdigest()[:12]


def ensure_image(*, log: Path | None = None) -> str:
    """The offline-built driver image for this source tree, built when not in the engine yet."""
    from clusters.kind.forge import images
    from clusters.kind.forge.base_image import ensure_base_image

    tag = f"{REPO}:{source_digest()}"

    def build() -> str:
        build_image(ensure_base_image(), tag, log=log or cache_dir("logs") / "driver-image.log")
        images.prune(REPO, "", keep=tag)  # each source change makes a new tag; keep only this one
        return tag
    return images.ensure(tag, build)


def build_image(base_image: str, tag: str, *, log: Path | None = None) -> str:
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


if __name__ == "__main__":
    print(ensure_image())
