"""Run `civicloop` as a real process: the console script installed next to this Python."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
CIVICLOOP = str(BIN / "civicloop")
START_TIMEOUT_S = 90.0  # the machine is shared: starting several workers can take a while


def clean_environment(**extra: str) -> dict[str, str]:
    """A bare environment: no CIVICLOOP_* setting leaks in from the caller; our venv first."""
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(Path.home()),
        "LANG": "C.UTF-8",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


class Server:
    """A started process serving HTTP on `base_url`."""

    def __init__(self, process: subprocess.Popen[str], base_url: str, log: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until(self, path: str, status: int = 200) -> httpx.Response:
        """Poll until `path` answers `status`; fail with the server's output if it never does."""
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                response = httpx.get(self.base_url + path, timeout=5)
                if response.status_code == status:
                    return response
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise AssertionError(f"{path} never answered {status} (last: {last}):\n{self.output()}")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as `docker stop` and systemd send it; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def is_listening(self) -> bool:
        try:
            httpx.get(self.base_url + "/healthz", timeout=2)
        except httpx.TransportError:
            return False
        return True


@contextmanager
def serving(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path, port: int
) -> Iterator[Server]:
    """Start a server process; whatever happens, nothing of it is left running afterwards."""
    log = cwd / f"server-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            list(args),
            env=dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: the workers go with it
        )
    try:
        yield Server(process, f"http://127.0.0.1:{port}", log)
    finally:
        # Also when the parent is gone: no worker may outlive the test.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
