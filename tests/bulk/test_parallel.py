"""Row ranges on threads (``zhiyuan.bulk._parallel``): the ranges cover every row once, in order;
the results do not depend on how many ranges the rows were split into; and a forked child makes
its own pool instead of waiting on threads it does not have."""

from __future__ import annotations

import itertools
import multiprocessing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.bulk import _parallel


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 64), st.integers(1, 1 << 20))
def test_ranges_cover_every_row_once_in_order(n: int, threads: int, least: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIYUAN_THREADS", str(threads))
        mp.setattr(_parallel, "LEAST", least)
        parts = _parallel.ranges(n)
    assert parts[0].start == 0 and parts[-1].stop == n
    assert all(a.stop == b.start for a, b in itertools.pairwise(parts))
    assert 1 <= len(parts) <= threads
    if len(parts) > 1:
        assert min(p.stop - p.start for p in parts) >= least


def test_run_gives_the_results_in_the_ranges_order() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIYUAN_THREADS", "4")
        mp.setattr(_parallel, "LEAST", 10)
        got = _parallel.run(lambda rows: (rows.start, rows.stop), 100)
    assert got == [(0, 25), (25, 50), (50, 75), (75, 100)]


def test_a_count_that_is_not_a_number_is_ignored() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_parallel, "LEAST", 1)
        mp.setenv("ZHIYUAN_THREADS", "many")
        default = len(_parallel.ranges(1000))
        mp.setenv("ZHIYUAN_THREADS", "1")
        assert len(_parallel.ranges(1000)) == 1
    assert default >= 1


def _sum_in_ranges(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    _parallel.LEAST = 1
    queue.put(sum(_parallel.run(lambda rows: rows.stop - rows.start, 1000)))


def test_a_forked_child_makes_its_own_pool() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIYUAN_THREADS", "3")
        mp.setattr(_parallel, "LEAST", 1)
        assert sum(_parallel.run(lambda rows: rows.stop - rows.start, 1000)) == 1000  # a pool
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_sum_in_ranges, args=(queue,))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert queue.get(timeout=5) == 1000
