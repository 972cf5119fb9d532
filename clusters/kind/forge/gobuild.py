"""Building Go programs from the Go module proxy into the artefact cache."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from dra_conformance import proc
from dra_conformance.errors import HarnessError


def go_env(cgo: bool = False) -> dict[str, str]:
    # GOFLAGS=-mod=mod lets `go build` resolve the wrapper module's requirements itself;
    # GOTOOLCHAIN=auto fetches a newer toolchain from the proxy when a module asks for one.
    # The cold build is CPU-bound on 2 cores: GOGC=400 lets the compiler collect garbage less often
    # (more memory, which our hosts have, for less CPU).
    return {"CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "-mod=mod -buildvcs=false",
            "GOTOOLCHAIN": "auto", "GOWORK": "off", "GOGC": "400"}


def require_go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise HarnessError("Go is not installed: the offline build needs the go command (golang.org/dl)")
    return go


def module_dir(spec: str) -> Path:
    """Download `module@version` into the module cache and return its directory."""
    res = proc.run([require_go(), "mod", "download", "-json", spec], env=go_env(), check=False)
    info = json.loads(res.stdout or b"{}")
    if "Dir" not in info:
        why = (info.get("Error") or res.stderr.decode(errors="replace")).strip().splitlines() or ["no answer"]
        raise HarnessError(f"cannot download {spec} from the Go module proxy: {why[0]}")
    return Path(info["Dir"])


def go_directive(gomod: str, default: str = "1.24.0") -> str:
    """The `go` line of a go.mod: a wrapper module must ask for at least the Go its requirement needs."""
    m = re.search(r"^go (\S+)", gomod, re.M)
    return m.group(1) if m else default


def wrapper_module(
    workdir: Path,
    *,
    go_version: str,
    requires: Mapping[str, str],
    replaces: Mapping[str, str] | None = None,
    imports: Iterable[str] = (),
    main: str | None = None,
    extra: str = "",
) -> Path:
    """Write a throwaway module that pins what to build; `imports` keeps packages in the graph."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = ["module draconformance.local/forge", "", f"go {go_version}", ""]
    lines += [f"require {m} {v}" for m, v in requires.items()]
    lines += [f"replace {m} => {target}" for m, target in (replaces or {}).items()]
    (workdir / "go.mod").write_text("\n".join(lines) + "\n" + extra)
    if imports:
        body = "\n".join(f'\t_ "{p}"' for p in imports)
        (workdir / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{body}\n)\n")
    if main:
        (workdir / "main.go").write_text(main)
    return workdir


def build(
    workdir: Path,
    packages: Iterable[str],
    out_dir: Path,
    *,
    log: Path,
    ldflags: str = "",
    tags: str = "",
    cgo: bool = False,
) -> None:
    """`go build` all `packages` in one call (they share the compile cache) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [require_go(), "build", "-trimpath", "-o", f"{out_dir}{os.sep}"]
    if ldflags:
        cmd += ["-ldflags", ldflags]
    if tags:
        cmd += ["-tags", tags]
    proc.run([*cmd, *packages], cwd=workdir, env=go_env(cgo), log=log)
