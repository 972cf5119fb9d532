"""Debian packages on the host: each step declares what it needs next to its code, and installs it
before it runs.

A declaration is made once, at import time of the step's module, so the harness can list every
package it may install (`dra-conformance doctor --packages`, used by the cold-host proof) without
a second list that could drift from the steps.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from dra_conformance import proc
from dra_conformance.errors import HarnessError
from dra_conformance.paths import cache_dir
from dra_conformance.progress import step

_DECLARED: list[Needs] = []
_APT = threading.Lock()  # parallel forge steps must not run apt-get at the same time


@dataclass(frozen=True)
class Needs:
    """What one step needs: probe (a command on PATH or an absolute path) → Debian package."""

    step: str
    packages: dict[str, str]

    def missing(self) -> list[str]:
        return sorted({pkg for probe, pkg in self.packages.items() if not present(probe)})

    def ensure(self) -> None:
        """apt-get install whatever is missing, or fail in one line that names the step."""
        with _APT:
            missing = self.missing()
            if not missing:
                return
            if shutil.which("apt-get") is None or os.geteuid() != 0:
                raise HarnessError(f"{self.step} needs the host packages {', '.join(missing)}, and there is "
                                   "no root apt-get to install them")
            log = cache_dir("host") / "apt.log"
            env = {"DEBIAN_FRONTEND": "noninteractive"}
            with step(f"Installing host packages for {self.step}: {' '.join(missing)}"):
                proc.run(["apt-get", "update", "-qq"], log=log, env=env)
                proc.run(["apt-get", "install", "-y", "-qq", *missing], log=log, env=env)
            if still := self.missing():
                raise HarnessError(f"{self.step}: apt-get installed {', '.join(missing)} but "
                                   f"{', '.join(still)} still lacks what it provides (log: {log})")


def needs(step_name: str, packages: dict[str, str]) -> Needs:
    """Declare (at module level) the packages a step needs; call `.ensure()` when the step runs."""
    declared = Needs(step_name, packages)
    _DECLARED.append(declared)
    return declared


def declared() -> list[Needs]:
    """Every declaration of the modules that make up the harness (importing them declares)."""
    import clusters.kind.cluster  # noqa: F401 - engine, forge steps, kind
    import drivers.fake_gpu.deploy.image  # noqa: F401 - the driver image
    import reports.allure  # noqa: F401 - Allure HTML

    return list(_DECLARED)


def all_packages() -> list[str]:
    return sorted({pkg for n in declared() for pkg in n.packages.values()})


def present(probe: str) -> bool:
    if probe.startswith("/"):
        return Path(probe).exists()
    return shutil.which(probe) is not None or any(Path(d, probe).exists() for d in ("/usr/sbin", "/sbin"))
