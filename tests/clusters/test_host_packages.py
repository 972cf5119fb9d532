"""Each build step installs the Debian packages it declares before it runs.

Proven with the real step on this host after the package was removed with apt-get (what a fresh
host looks like to that step), never with a mocked apt. The packages removed here are leaves that
nothing running depends on; whatever apt removed along with them is put back afterwards. The
engine's, the capability filter's, the pause build's and Allure's packages are proven by the
cold-host proof (benchmarks/cold_host.sh), which removes them all before a whole run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from clusters.kind import host
from clusters.kind.forge import binaries, rootfs, toolbox_image
from dra_conformance import host_packages, proc
from dra_conformance.errors import HarnessError

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None,
                                reason="removing and installing Debian packages needs root and apt-get")
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def _installed() -> set[str]:
    out = proc.output(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"])
    return {line.split()[0] for line in out.splitlines() if line.endswith(" installed")}


@contextmanager
def _absent(package: str) -> Iterator[None]:
    """`package` removed from the host for the block; anything apt took with it comes back after."""
    before = _installed()
    proc.run(["apt-get", "remove", "-y", "-qq", package], env=_APT_ENV)
    assert package not in _installed()
    try:
        yield
    finally:
        if lost := sorted(before - _installed()):
            proc.run(["apt-get", "install", "-y", "-qq", *lost], env=_APT_ENV)


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty artefact cache, so the step builds instead of finding its artefact."""
    monkeypatch.setenv("DRA_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_every_declared_package_is_listed_once() -> None:
    listed = host_packages.all_packages()
    assert len(listed) == len(set(listed))
    assert {"libseccomp-dev", "debootstrap", "busybox-static", "docker.io"} <= set(listed)
    assert all(n.packages for n in host_packages.declared())


def test_runc_build_installs_libseccomp_dev(empty_cache: Path) -> None:
    with _absent("libseccomp-dev"):
        assert binaries.RUNC_PACKAGES.missing() == ["libseccomp-dev"]
        runc = binaries.runc() / "runc"
        assert "libseccomp-dev" in _installed()
    out = subprocess.run([runc, "--version"], capture_output=True, text=True, check=True).stdout
    assert "seccomp" in out, out  # built with the seccomp tag, linked against the installed library


def test_rootfs_installs_debootstrap(empty_cache: Path) -> None:
    with _absent("debootstrap"):
        assert rootfs.PACKAGES.missing() == ["debootstrap"]
        tree = rootfs.debian_rootfs("package-test", ["busybox"])
        assert "debootstrap" in _installed()
    assert (tree / "bin" / "busybox").exists() and (tree / "etc" / "debian_version").exists()


@pytest.mark.docker
def test_toolbox_image_installs_busybox_static() -> None:
    host.ensure_engine()
    with _absent("busybox-static"):
        assert toolbox_image.PACKAGES.missing() == ["busybox-static"]
        tag = toolbox_image.ensure_toolbox_image()
        assert "busybox-static" in _installed()
    out = subprocess.run([host.docker(), "run", "--rm", tag, "busybox", "echo", "toolbox"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "toolbox"


def test_a_step_without_apt_fails_in_one_line_naming_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    needs = host_packages.Needs("a step of this test", {"/nonexistent/dra-conformance-probe": "no-such-package"})
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no apt-get on PATH
    with pytest.raises(HarnessError) as exc:
        needs.ensure()
    assert str(exc.value).startswith("a step of this test needs the host packages no-such-package")
    assert "\n" not in str(exc.value)
