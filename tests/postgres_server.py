"""A real PostgreSQL server for the tests, started in a temporary folder and stopped afterwards.

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres` user (which the
Debian package creates); as anyone else, as that user. Where no server binary exists, the tests
that need one are skipped with one line saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"), Path("/usr/lib/postgresql/17/bin"))
START_SECONDS = 60


def _binary(name: str) -> Path | None:
    found = shutil.which(name)
    if found:
        return Path(found)
    return next((d / name for d in BIN_DIRS if (d / name).exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One server: `url(database)` names a database on it, `restart()` stops and starts it."""

    def __init__(self, folder: Path, initdb: Path, pg_ctl: Path) -> None:
        self.folder, self.pg_ctl = folder, pg_ctl
        self.data = folder / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(folder, "postgres", "postgres")
        self._run([str(initdb), "-D", str(self.data), "-U", "verbatim", "--auth=trust", "-E", "UTF8", "--no-sync"])
        self.start()

    def _run(self, argv: list[str]) -> None:
        command = ["runuser", "-u", "postgres", "--", *argv] if self._as_root else argv
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_SECONDS + 30)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.folder / "server.log"
        self._run(
            [
                str(self.pg_ctl),
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(START_SECONDS),
                "-o",
                options,
                "start",
            ]
        )

    def stop(self) -> None:
        self._run([str(self.pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://verbatim@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[Server]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on this machine: the PostgreSQL store is not tested"
        )
    folder = Path(tempfile.mkdtemp(prefix="verbatim-pg-"))  # not under pytest's root-only folder
    server = Server(folder, initdb, pg_ctl)
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
