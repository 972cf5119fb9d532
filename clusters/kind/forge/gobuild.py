"""Building Go programs from the Go module proxy into the artefact cache."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from clusters.kind.forge import toolchain
from dra_conformance import proc
from dra_conformance.errors import HarnessError
from dra_conformance.progress import note

_MODULE_LOCKS: dict[str, threading.Lock] = {}
# How the go command reports a module version the proxy does not serve (403/404/410 from it).
_UNSERVED = re.compile(r"([\w.~/-]+@v[\w.+-]+): reading \S+: (?:403|404|410)\b")


def go_env(cgo: bool = False, gotoolchain: str | None = None) -> dict[str, str]:
    # GOFLAGS=-mod=mod lets `go build` resolve the wrapper module's requirements itself;
    # GOTOOLCHAIN is the toolchain `module()` chose for what is built, else auto (a newer one from
    # the proxy when a module asks for one).
    # The cold build is CPU-bound on 2 cores: GOGC=400 lets the compiler collect garbage less often
    # (more memory, which our hosts have, for less CPU).
    return {"CGO_ENABLED": "1" if cgo else "0", "GOFLAGS": "-mod=mod -buildvcs=false",
            "GOTOOLCHAIN": gotoolchain or "auto", "GOWORK": "off", "GOGC": "400"}


def require_go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise HarnessError("Go is not installed: the offline build needs the go command (golang.org/dl)")
    return go


@dataclass(frozen=True)
class Module:
    dir: Path
    toolchain: str | None  # the GOTOOLCHAIN its builds need; None: the host's go will do


def module_dir(spec: str) -> Path:
    """Download `module@version` into the module cache and return its directory."""
    return module(spec).dir


def module(spec: str) -> Module:
    """Download `module@version` with the Go toolchain it needs (see toolchain.py).

    The host's go is tried first: it refuses to unpack a module that needs a newer Go, but has
    fetched its go.mod and zip by then, which name the toolchain to unpack and build it with.
    """
    # The node image's two lanes ask for the same module at once: one downloads, the other waits.
    with _MODULE_LOCKS.setdefault(spec, threading.Lock()):
        return _module(spec)


@cache
def _module(spec: str) -> Module:
    info = _download(spec, "local")
    if "Dir" in info:
        return Module(Path(info["Dir"]), None)
    gomod = Path(info["GoMod"]).read_text() if "GoMod" in info else ""
    host = toolchain.host_version(require_go())
    wanted = toolchain.needed(gomod, _zip_file(info.get("Zip"), spec, ".go-version"), host)
    if wanted is None:  # not a Go version problem: unknown version, checksum, network
        raise HarnessError(f"cannot download {spec} from the Go module proxy: {info['why']}")
    note(f"GOTOOLCHAIN={wanted} for {spec} (its go.mod needs go {toolchain.directive(gomod, 'go')}, "
         f"this host's go is {host})")
    info = _download(spec, wanted)
    if "Dir" not in info:
        raise HarnessError(f"cannot download {spec} with GOTOOLCHAIN={wanted}: {info['why']}")
    return Module(Path(info["Dir"]), wanted)


def _download(spec: str, gotoolchain: str) -> dict[str, str]:
    """`go mod download -json`'s answer, with `why`: the first line of its error."""
    res = proc.run([require_go(), "mod", "download", "-json", spec], env=go_env(gotoolchain=gotoolchain),
                   check=False)
    info = json.loads(res.stdout or b"{}")
    why = (info.get("Error") or res.stderr.decode(errors="replace")).strip().splitlines() or ["no answer"]
    return {**info, "why": why[0]}


def _zip_file(zip_path: str | None, spec: str, name: str) -> str | None:
    """A file of a module zip as the proxy served it (its members are `module@version/<path>`)."""
    if not zip_path or not Path(zip_path).exists():
        return None
    with zipfile.ZipFile(zip_path) as zf:
        try:
            return zf.read(f"{spec}/{name}").decode()
        except KeyError:
            return None


def go_directive(gomod: str, default: str = "1.24.0") -> str:
    """The `go` line of a go.mod: a wrapper module must ask for at least the Go its requirement needs."""
    return toolchain.directive(gomod, "go") or default


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
    gotoolchain: str | None = None,
) -> None:
    """`go build` all `packages` in one call (they share the compile cache) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [require_go(), "build", "-trimpath", "-o", f"{out_dir}{os.sep}"]
    if ldflags:
        cmd += ["-ldflags", ldflags]
    if tags:
        cmd += ["-tags", tags]
    start = log.stat().st_size if log.exists() else 0
    try:
        proc.run([*cmd, *packages], cwd=workdir, env=go_env(cgo, gotoolchain), log=log)
    except HarnessError as exc:
        with log.open("rb") as f:  # only what this build wrote
            f.seek(start)
            missing = unserved(f.read().decode(errors="replace"))
        if missing:
            raise HarnessError(f"the build needs modules the Go module proxy does not serve: {', '.join(missing)} "
                               f"(full log: {log})") from exc
        raise


def unserved(output: str) -> list[str]:
    """module@version of every module the go command's `output` says the proxy did not serve."""
    return sorted(set(_UNSERVED.findall(output)))
