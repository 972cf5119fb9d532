"""The supervised pytest process (`python -m dra_conformance.child <pytest args>`).

Should the supervisor die (kill -9 of it alone), the kernel sends this process SIGINT
(PR_SET_PDEATHSIG), so the run still takes pytest's interrupt path and cleans up; its output then
goes to /dev/null, since nobody reads the pipe any more and a write to it would fail the clean-up.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    import pytest

    parent = os.getppid()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if os.getppid() != parent:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, on_sigint)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    if os.getppid() != parent:  # the supervisor died before the line above took effect
        os.kill(os.getpid(), signal.SIGINT)
    return int(pytest.main(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
