"""The one place that starts external processes (checkov, semgrep, pip-audit, ...).

Every tool runs with a timeout, a controlled environment (offline flags, no writes to
the user's home), and gives a clear error when it is missing or fails. Tools are
looked up beside the running interpreter first (the venv auditor is installed in),
then on PATH.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import AuditorError

DEFAULT_TIMEOUT_S = 900.0


class ToolError(AuditorError):
    """A tool is missing, timed out or failed in a way its output cannot explain.

    Providers turn this into ERROR findings: a scan that could not look never passes.
    """


@dataclass(frozen=True)
class ToolResult:
    tool: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def find_tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise ToolError(f"{name} is not installed (looked beside {sys.executable} and on PATH)")
    return found


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment with every tool's phone-home switched off."""
    env = dict(os.environ)
    env.update(
        {
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "BC_SKIP_MAPPING": "TRUE",
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONWARNINGS": "ignore",
        }
    )
    if extra:
        env.update(extra)
    return env


def run_tool(
    name: str,
    args: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ok_codes: Sequence[int] = (0,),
    cancel: threading.Event | None = None,
) -> ToolResult:
    """Run a tool to completion and return its output; raise ToolError on any failure."""
    exe = find_tool(name)
    with tempfile.TemporaryDirectory(prefix=f"auditor-{name}-") as home:
        full_env = tool_env({"HOME": home, "XDG_CACHE_HOME": home, "XDG_CONFIG_HOME": home, **(env or {})})
        try:
            proc = subprocess.Popen(
                [exe, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=str(cwd) if cwd else None,
                text=True,
                start_new_session=True,  # so a timeout can end the tool and its children
            )
        except OSError as exc:
            raise ToolError(f"cannot start {name}: {exc}") from None
        stop = threading.Event()
        if cancel is not None:
            threading.Thread(target=_kill_on_cancel, args=(proc, cancel, stop), daemon=True).start()
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise ToolError(f"{name} timed out after {timeout:.0f} s") from None
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            stop.set()
    if cancel is not None and cancel.is_set():
        raise ToolError(f"{name} was cancelled")
    if proc.returncode not in ok_codes:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        raise ToolError(f"{name} exited with {proc.returncode}: {' | '.join(tail) or 'no output'}")
    return ToolResult(name, tuple(args), proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_on_cancel(proc: subprocess.Popen[str], cancel: threading.Event, stop: threading.Event) -> None:
    while not stop.is_set():
        if cancel.wait(0.2):
            _kill_group(proc)
            return
