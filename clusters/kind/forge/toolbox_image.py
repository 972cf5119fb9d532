"""The test pods' image: Debian's static busybox on scratch, tiny and buildable offline.

Suites and self-tests run `sh`, `env`, `cat` and `sleep` in it; it is loaded into every cluster the
harness uses, so no test pod ever pulls.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clusters.kind import host
from clusters.kind.forge import images
from dra_conformance.paths import cache_dir

REPO = "dra-conformance.local/toolbox"
BUSYBOX = Path("/bin/busybox")


def ensure_toolbox_image() -> str:
    host.ensure_engine()
    host.ensure_packages({str(BUSYBOX): "busybox-static"})
    digest = hashlib.sha256(BUSYBOX.read_bytes()).hexdigest()[:10]
    return images.ensure(f"{REPO}:{digest}", lambda: images.build(
        f"{REPO}:{digest}", "FROM scratch\nCOPY busybox /bin/busybox\n"
                            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["sh"]\n',
        {"busybox": BUSYBOX}, log=cache_dir("logs") / "toolbox-image.log"))
