"""Fixtures for the ``zhiyuan.matching`` tests; the plain helpers they build on are in
:mod:`support.matching` (``tests/support/matching.py``)."""

from __future__ import annotations

import pytest

from support.matching import SIBLING, cand, dispatcher, need, tree
from zhiyuan.hierarchy import RegionTree
from zhiyuan.matching import Dispatcher, Need


@pytest.fixture
def m_tree() -> RegionTree:
    """The embedded seed tree."""
    return tree()


@pytest.fixture
def m_need() -> Need:
    """n1: 帮老 in 东果园社区, 09:00–11:00 on 1 May 2025, posted 07:00, headcount 1."""
    return need()


@pytest.fixture
def m_dispatcher() -> Dispatcher:
    """Three volunteers: two in the need's village (a, b), one in the sibling village (c)."""
    return dispatcher(cand("a"), cand("b"), cand("c", SIBLING))
