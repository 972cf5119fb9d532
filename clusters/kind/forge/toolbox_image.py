"""The test pods' image: Debian's static busybox on scratch, tiny and buildable offline.

Suites and self-tests run `sh`, `env`, `cat` and `sleep` in it; it is loaded into every cluster the
harness uses, so no test pod ever pulls.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clusters.kind import host
from clusters.kind.forge import images
from dra_conformance.host_packages import needs
from dra_conformance.paths import cache_dir

REPO = "dra-conformance.local/toolbox"
BUSYBOX = Path("/bin/busybox")
PACKAGES = needs("the test pods' image", {str(BUSYBOX): "busybox-static"})


def ensure_toolbox_image() -> str:
    host.ensure_engine()
    PACKAGES.ensure()
    digest = hashlib.sha256(BUSYBOX.read_bytes()).hexdigest()[:10]
    return images.ensure(f"{REPO}:{digest}", lambda: images.build(
        f"{REPO}:{digest}", "FROM scratch\nCOPY busybox /bin/busybox\n"
                            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["sh"]\n',
        {"busybox": BUSYBOX}, log=cache_dir("logs") / "toolbox-image.log"))
