"""Fixtures for the ``zhiyuan.scoring`` tests; the plain helpers they build on are in
:mod:`support.scoring` (``tests/support/scoring.py``)."""

from __future__ import annotations

import pytest

from support.scoring import jurisdiction, star_ledger, volunteer
from zhiyuan.hierarchy import Jurisdiction
from zhiyuan.hours import HourLedger, Volunteer


@pytest.fixture
def s_volunteer() -> Volunteer:
    """v1, living in 友谊街社区 (芝罘区), registered 2015-01-01."""
    return volunteer("v1")


@pytest.fixture
def s_ledger(s_volunteer: Volunteer) -> HourLedger:
    """An empty :data:`QR_POLICY` ledger with :func:`s_volunteer` registered."""
    return star_ledger(s_volunteer)


@pytest.fixture
def s_jurisdiction() -> Jurisdiction:
    """The admins of :data:`ADMINS`, each with ``approve_star`` on their subtree."""
    return jurisdiction()
