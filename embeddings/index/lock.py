"""One build at a time, across processes: a lock file in the index folder, held by the build that
runs and released with its process (a crashed build never leaves it held)."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from embeddings.errors import IndexStateError

LOCK_FILE = ".lock"
BUILD_LOCK_TIMEOUT = 3600.0
"""How long a build waits for another one before it gives up (an hour: a large corpus takes long)."""
LOCK_POLL_SECONDS = 0.2


@contextmanager
def build_lock(index_dir: Path, on_wait: Callable[[str], None], timeout: float = BUILD_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the index folder's lock file for one build; wait (saying who holds it) while another
    process or thread builds. The lock goes with the process: a crashed build never leaves it held."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another build"
            on_wait(f"{holder} is building the index in {index_dir}; waiting for it to finish")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexStateError(
                            f"{holder} has held the index in {index_dir} for over {timeout:.0f} s; "
                            "if that build is stuck, stop it"
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
        os.ftruncate(fd, 0)
        since = dt.datetime.now().isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} (since {since})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
