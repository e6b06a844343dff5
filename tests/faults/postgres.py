"""A PostgreSQL cluster of the test's own, that it may stop and start: the shared server at
127.0.0.1:5432 serves every other test and must never go down."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.platform.server import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# A test database needs no durability across a crash, and the machine is shared: keep it small.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c shared_buffers=16MB -c max_connections=60"
)


class Cluster:
    """One initdb'ed data directory served on a free loopback port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str | Path, timeout: float = 120) -> None:
        # initdb and the server refuse to run as root: run them as the postgres user.
        prefix: Sequence[str] = ("runuser", "-u", "postgres", "--") if os.geteuid() == 0 else ()
        done = subprocess.run(
            [*prefix, *map(str, args)], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            raise AssertionError(
                f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}"
                + (log.read_text(errors="replace") if log.exists() else "")
            )

    def init(self) -> None:
        self._run(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} {SERVER_OPTIONS}"
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-o", options,
            "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown, as a restart for an upgrade does it: sessions are cut off."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A started cluster, stopped and removed afterwards whatever happens."""
    # Not under pytest's tmp_path: its parents are root's own (0700) and postgres cannot enter.
    root = Path(tempfile.mkdtemp(prefix="civicloop-pg-"))
    try:
        root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        cluster = Cluster(root)
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.is_running():
                cluster._run(PG_BIN / "pg_ctl", "-D", cluster.data, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
