"""Fixtures for the ``zhiyuan.platform`` tests; the plain helpers they build on are in
:mod:`support.platform` (``tests/support/platform.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.platform import LK_VILLAGE, Clock, make, volunteer
from zhiyuan.platform import Platform


@pytest.fixture
def clock() -> Clock:
    """A fresh clock at :data:`START` (2025-03-10 18:00)."""
    return Clock()


@pytest.fixture
def make_city(clock: Clock) -> Callable[..., Platform]:
    """Build a platform on the test clock: ``make_city(policies=…, grants=…, catalog=…)``."""

    def build(**kw: Any) -> Platform:
        return make(clock, **kw)

    return build


@pytest.fixture
def city(make_city: Callable[..., Platform]) -> Platform:
    """A platform with the default policies (1 h = 1 point, no time bank, the test stars) and
    volunteers v1, v2 of 东果园社区 (城阳) and v9 of 南苑社区 (龙口), self-registered."""
    c = make_city()
    for v in (volunteer("v1"), volunteer("v2"), volunteer("v9", LK_VILLAGE)):
        c.register(v, by=v.id)
    return c


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A SQLite file in a fresh directory (not yet created)."""
    return tmp_path / "city.db"
