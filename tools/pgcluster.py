"""A throwaway PostgreSQL cluster for the tests and benchmarks: ``initdb`` and ``pg_ctl`` in a
temporary directory, listening on a Unix socket only.

The server refuses to run as root, so when this runs as root (as CI does) the cluster belongs to
the ``postgres`` system user and the commands run through ``runuser``. The server binaries are
found on ``PATH`` or under ``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs Debian's
``postgresql`` when they are missing.

Usage::

    with running_cluster() as cluster:
        url = cluster.create_database("test1")   # postgresql://postgres@/test1?host=...
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Cluster", "find_binary", "running_cluster"]


def find_binary(name: str) -> str | None:
    """The path of a PostgreSQL server binary, or ``None`` if it is not installed."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class Cluster:
    """A PostgreSQL cluster in ``root``; :meth:`start` it, :meth:`stop` it when done."""

    def __init__(self, root: Path, port: int = 55432) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root
        self.port = port
        self.as_root = os.geteuid() == 0
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql"
            )
        self.initdb, self.pg_ctl = initdb, pg_ctl

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._run(
            self.initdb,
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
            f"-c port={self.port} -c fsync=on -c max_connections=50"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL for a database of the cluster (over the Unix socket)."""
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running_cluster(port: int | None = None) -> Iterator[Cluster]:
    """A started cluster in a fresh temporary directory, stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="zhiyuan-pg-"))
    cluster = Cluster(root, port or 55432 + os.getpid() % 1000)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
