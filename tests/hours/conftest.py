"""Fixtures for the ``zhiyuan.hours`` core tests; the plain helpers they build on are in
:mod:`support.hours` (``tests/support/hours.py``)."""

from __future__ import annotations

from datetime import date

import pytest

from support.hours import registry, volunteer
from zhiyuan.hierarchy import Registry
from zhiyuan.hours import Volunteer


@pytest.fixture
def h_registry() -> Registry:
    """A fresh registry with the organizations of :data:`ORGS`."""
    return registry()


@pytest.fixture
def h_volunteer() -> Volunteer:
    """An adult volunteer (born 1990-05-20) with an ID number and phone."""
    return volunteer("v1", born=date(1990, 5, 20), phone="13812345678")
