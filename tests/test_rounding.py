"""One integer rounding kernel (``Rounding.divide`` and ``snap``) for the object path and the
columnar twins: exact against fractions, and the same on numpy arrays as on Python ints."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan.hours import Rounding

NUMS = st.integers(-(10**12), 10**12)
DENS = st.integers(1, 10**6)


def exact(r: Rounding, num: int, den: int) -> int:
    x = Fraction(num, den)
    if r is Rounding.DOWN:
        return math.floor(x)
    if r is Rounding.UP:
        return math.ceil(x)
    return math.floor(x + Fraction(1, 2))


@given(st.sampled_from(list(Rounding)), NUMS, DENS)
def test_divide_rounds_the_exact_quotient(r: Rounding, num: int, den: int) -> None:
    assert r.divide(num, den) == exact(r, num, den)
    assert r.snap(num, den) == exact(r, num, den) * den


@given(st.sampled_from(list(Rounding)), st.lists(NUMS, max_size=30), DENS)
def test_arrays_round_as_ints_do(r: Rounding, nums: list[int], den: int) -> None:
    arr = np.array(nums, dtype=np.int64)
    assert r.divide(arr, den).tolist() == [r.divide(n, den) for n in nums]
    assert r.snap(arr, den).tolist() == [r.snap(n, den) for n in nums]
