"""Running external commands: output to a log, failures as one-line HarnessErrors."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from dra_conformance.errors import HarnessError


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `cmd`; with `log`, append its output there instead of capturing it.

    On failure the error names the command and its last line of output, so the user sees the cause
    without a traceback; the full output stays in the log.
    """
    args = [os.fspath(c) for c in cmd]
    full_env = {**os.environ, **env} if env else None
    try:
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("ab") as out:
                out.write(f"$ {shlex.join(args)}\n".encode())
                out.flush()
                res = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                     input=input, timeout=timeout)
        else:
            res = subprocess.run(args, capture_output=True, env=full_env, cwd=cwd, input=input,
                                 timeout=timeout)
    except FileNotFoundError as exc:
        raise HarnessError(f"command not found: {args[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"`{shlex.join(args[:4])}` did not finish within {timeout:.0f}s") from exc
    if check and res.returncode != 0:
        raise HarnessError(f"`{shlex.join(args[:6])}` failed (exit {res.returncode}): {_last_line(res, log)}")
    return res


def output(cmd: Sequence[str | os.PathLike[str]], **kwargs) -> str:
    """Run `cmd` and return its stdout as text."""
    return run(cmd, **kwargs).stdout.decode()


def _last_line(res: subprocess.CompletedProcess[bytes], log: Path | None) -> str:
    text = (res.stderr or b"") + (res.stdout or b"") if log is None else log.read_bytes()[-4000:]
    lines = [ln.strip() for ln in text.decode(errors="replace").splitlines() if ln.strip()]
    tail = lines[-1] if lines else "no output"
    return tail + (f" (full log: {log})" if log else "")


def alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs (a zombie nobody reaped does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    try:  # the state follows the parenthesised command name, which may itself hold spaces
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
