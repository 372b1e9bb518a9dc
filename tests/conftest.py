"""Shared test setup: hypothesis profiles, ``strategies`` on the path, and the real-data trees.

pytest runs with ``--import-mode=importlib``, so ``tests/`` is not on ``sys.path`` by itself; it is
put there here, and test modules import the shared strategies as ``from strategies import …``.

The whole-country NBS tree (665,271 regions, ~4 s to load) is built at most once per session by the
``nbs_tree`` fixture; the embedded seed trees come from :func:`zhiyuan.hierarchy.load_default`,
which caches them itself.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from zhiyuan.hierarchy import RegionTree, load_default

if TYPE_CHECKING:
    from pgcluster import Cluster

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
NBS_DIR = REPO_ROOT / "data" / "nbs"

for _path in (TESTS_DIR, REPO_ROOT / "tools"):  # shared test helpers; tools/pgcluster.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# No wall-clock limits in tests: hypothesis' per-example deadline is switched off. "ci" runs more
# examples; choose it with HYPOTHESIS_PROFILE=ci.
settings.register_profile("zhiyuan", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "zhiyuan"))

# The whole-country tree's cache goes to a temporary directory, never the user's own cache.
os.environ.setdefault("ZHIYUAN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "zhiyuan-test-cache"))


@pytest.fixture(scope="session")
def nbs_dir() -> Path:
    """``data/nbs`` of the repository (the real NBS 2023 named files and the 2019 structure)."""
    assert (NBS_DIR / "villages.csv.gz").is_file(), f"real division data missing at {NBS_DIR}"
    return NBS_DIR


@pytest.fixture(scope="session")
def nbs_tree(nbs_dir: Path) -> RegionTree:
    """The whole country, NBS 2023 edition, loaded once per session."""
    return RegionTree.from_nbs_dir(nbs_dir)


@pytest.fixture(scope="session")
def seed_tree() -> RegionTree:
    """The embedded seed cities, 2023 edition (names down to every village)."""
    return load_default()


@pytest.fixture(scope="session")
def seed_tree_2019() -> RegionTree:
    """The embedded seed cities, 2019 edition (codes only)."""
    return load_default(2019)


# --- the fuzz suite's input counts, printed after the run (summed over xdist workers) ----------

_FUZZ_FROM_WORKERS: dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    from fuzz_support import INPUTS

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["fuzz_inputs"] = dict(INPUTS)


def pytest_testnodedown(node: Any, error: object) -> None:
    for test, n in getattr(node, "workeroutput", {}).get("fuzz_inputs", {}).items():
        _FUZZ_FROM_WORKERS[test] = _FUZZ_FROM_WORKERS.get(test, 0) + n


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from fuzz_support import INPUTS

    counts = dict(INPUTS)
    for test, n in _FUZZ_FROM_WORKERS.items():
        counts[test] = counts.get(test, 0) + n
    if not counts:
        return
    terminalreporter.section("fuzz inputs")
    for test, n in sorted(counts.items()):
        terminalreporter.write_line(f"{n:>9,}  {test}")
    terminalreporter.write_line(f"{sum(counts.values()):>9,}  in all")


# --- real stores: SQLite files and a PostgreSQL cluster ------------------------------------------
# The cluster is started once per session (per xdist worker) from the server binaries on the
# machine (``initdb`` and ``pg_ctl``, as the ``postgres`` user when the tests run as root); every
# test that asks for a PostgreSQL store gets a fresh database in it. Nothing is mocked and
# nothing is skipped: without the binaries the PostgreSQL tests fail, saying what to install
# (``.ci/run`` installs them).

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    from pgcluster import running_cluster  # tools/ is on the path once this file has run

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
