"""Fixtures for the journal and store tests: real SQLite files and a real PostgreSQL cluster.

The cluster is started once per session from the server binaries on the machine (``initdb`` and
``pg_ctl``, as the ``postgres`` user when the tests run as root); every test that asks for a
PostgreSQL store gets a fresh database in it. Nothing is mocked and nothing is skipped: without
the binaries the PostgreSQL tests fail, saying what to install (``.ci/run`` installs them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import Cluster, running_cluster

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty PostgreSQL database."""
    return pg_cluster.create_database(f"t{next(_names)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a fresh temporary directory (not yet created)."""
    return f"sqlite:///{tmp_path / 'city.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each persistent store in turn."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url
