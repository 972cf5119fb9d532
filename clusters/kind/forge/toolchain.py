"""Which Go toolchain a module is built with: the host's go when the module's go.mod allows it,
else the newer one the module itself names, fetched by the go command from the Go module proxy
(GOTOOLCHAIN=go1.X.Y).

Kubernetes builds each release with the Go of its `.go-version` (hack/lib/golang.sh sets
GOTOOLCHAIN=go$(cat .go-version)), so that file wins; without one, go.mod's `toolchain` line, else
its `go` line (the oldest Go that may build it).
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache


def parse(version: str) -> tuple[int, ...]:
    """"go1.27.3", "1.27", "1.27rc1" → (1, 27, 3), (1, 27, 0), (1, 27, 0)."""
    m = re.match(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    if m is None:
        raise ValueError(f"not a Go version: {version!r}")
    return tuple(int(x or 0) for x in m.groups())


def directive(gomod: str, name: str) -> str | None:
    """The value of go.mod's `go` or `toolchain` line, without a leading "go"."""
    m = re.search(rf"^{name}\s+(?:go)?(\S+)", gomod, re.M)
    return m.group(1) if m else None


@cache
def host_version(go: str) -> str:
    """The version of the go command itself ("1.26.8"), not of a toolchain it would switch to."""
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "GOTOOLCHAIN": "local"}, check=True).stdout
    return out.strip().removeprefix("go").split()[0]


def needed(gomod: str, go_version_file: str | None, host: str) -> str | None:
    """GOTOOLCHAIN for a module whose go.mod needs a newer Go than `host`; None when `host` will do."""
    need = directive(gomod, "go")
    if need is None or parse(need) <= parse(host):
        return None
    candidates = [(go_version_file or "").strip(), directive(gomod, "toolchain") or "", need]
    return "go" + next(c for c in candidates if _at_least(c, need))


def _at_least(candidate: str, need: str) -> bool:
    try:
        return parse(candidate) >= parse(need)
    except ValueError:  # empty, or "devel" in a .go-version: not a toolchain the proxy serves
        return False
