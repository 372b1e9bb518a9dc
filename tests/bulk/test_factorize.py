"""Ids into codes: every path of ``factorize`` (a lookup table for dense integers, integers parsed
from ids written as one prefix and digits, Arrow's dictionary encoding for other strings, pandas
or numpy for the rest) gives pandas' sorted factorization, code for code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.bulk import _parallel
from zhiyuan.bulk._frames import _bytes_order, _digit_codes, factorize

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=20)


def _same_as_pandas(values: list[object]) -> None:
    arr = np.array(values, dtype=object)
    codes, uniques = factorize(arr)
    want_codes, want_uniques = pd.factorize(arr, sort=True)
    assert codes.tolist() == want_codes.tolist()
    assert [str(u) for u in uniques.tolist()] == [str(u) for u in want_uniques.tolist()]
    assert [str(u) for u in uniques[codes].tolist()] == [str(v) for v in values]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 18).flatmap(
        lambda w: st.lists(
            st.text(alphabet="0123456789", min_size=w, max_size=w), min_size=1, max_size=60
        )
    )
)
def test_digit_ids_of_one_length_code_as_their_strings_do(values: list[str]) -> None:
    assert _digit_codes(pa.array(values)) is not None  # the fast path is the one taken
    _same_as_pandas(values)


PREFIXES = st.text(alphabet="vVZY志愿-_0", max_size=4).filter(lambda p: not p[-1:].isdigit())


def _forms(values: list[str]) -> list[pa.Array | pa.ChunkedArray]:
    """The same strings as Arrow gives them: 32- and 64-bit offsets, string views, a slice of
    a longer array (its offsets do not start at 0), chunks."""
    k = len(values) // 2
    return [
        pa.array(values),
        pa.array(values, type=pa.large_string()),
        pa.array(values, type=pa.string_view()),
        pa.array(["x", *values], type=pa.string_view()).slice(1),
        pa.array(["x", *values, "y"]).slice(1, len(values)),
        pa.array(["x", *values], type=pa.large_string()).slice(1),
        pa.chunked_array([values[:k], values[k:]], type=pa.string()),
    ]


@settings(max_examples=150, deadline=None)
@given(
    PREFIXES,
    st.sampled_from([300, 10**18]).flatmap(
        lambda top: st.lists(st.integers(0, top - 1), min_size=1, max_size=60)
    ),
    st.sampled_from([None, 1, 6, 18]),
)
def test_ids_of_a_prefix_and_digits_code_as_their_strings_do(
    prefix: str, numbers: list[int], width: int | None
) -> None:
    if width is None:  # several widths, no leading zeros
        values = [f"{prefix}{n}" for n in numbers]
    else:  # one width, zero-padded
        values = [f"{prefix}{n % 10**width:0{width}d}" for n in numbers]
    want_codes, want_uniques = pd.factorize(np.array(values, dtype=object), sort=True)
    for form in _forms(values):  # the fast path is the one taken, whatever the array's form
        got = _digit_codes(form)
        assert got is not None, form.type
        assert got[0].tolist() == want_codes.tolist(), form.type
        assert got[1].to_numpy().tolist() == want_uniques.tolist(), form.type
    _same_as_pandas(values)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([0, 7, 370602_00000000, 10**17]),
    st.lists(st.integers(0, 5000), min_size=1, max_size=60),
    st.sampled_from(["", "v"]),
)
def test_ids_near_one_another_code_through_a_table(
    base: int, offsets: list[int], prefix: str
) -> None:
    """Numbers in a narrow range, near 0 or far from it (an export's ``370602…`` ids), at one
    width or several: coded through a table over their range, as pandas codes the strings."""
    values = [f"{prefix}{base + k}" for k in offsets]
    assert _digit_codes(pa.array(values)) is not None
    _same_as_pandas(values)


def test_a_long_prefix_before_eighteen_digits_parses() -> None:
    """The prefix is read as leading zeros: a long one (in UTF-8 bytes) before the widest
    digits still parses, at one width and at several."""
    prefix = "志愿服务编号-ZY-"
    for values in (
        [f"{prefix}{n:018d}" for n in (10**18 - 1, 0, 5, 10**17)],
        [f"{prefix}{n}" for n in (10**18 - 1, 0, 5, 10**17, 99, 100)],
    ):
        assert _digit_codes(pa.array(values)) is not None
        _same_as_pandas(values)


@settings(max_examples=100, deadline=None)
@given(
    PREFIXES,
    st.lists(st.integers(0, 10**6), min_size=1, max_size=80),
    st.sampled_from([None, 7]),
    st.integers(2, 5),
)
def test_ids_parsed_in_ranges_on_threads_code_alike(
    prefix: str, numbers: list[int], width: int | None, threads: int
) -> None:
    """A long column is checked and parsed in one range a core: split into ranges of any
    size, the ids code as pandas codes them, and a bad id in any range (past the sample the
    first range checks) sends the whole column to dictionary encoding."""
    values = [f"{prefix}{n}" if width is None else f"{prefix}{n:07d}" for n in numbers]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIYUAN_THREADS", str(threads))
        mp.setattr(_parallel, "LEAST", 1)
        got = _digit_codes(pa.array(values, type=pa.large_string()))
        assert got is not None
        want_codes, want_uniques = pd.factorize(np.array(values, dtype=object), sort=True)
        assert got[0].tolist() == want_codes.tolist()
        assert got[1].to_numpy().tolist() == want_uniques.tolist()
        past_sample = (values * (1100 // len(values) + 1))[:1100]  # the sample is 1,024
        for bad in (f"{prefix}x", f"{prefix}+1", f"{prefix}1 ", "0" * 19):
            assert _digit_codes(pa.array([*past_sample, bad])) is None, bad
            _same_as_pandas([*past_sample, bad])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(DIGITS, st.text(min_size=0, max_size=6)), min_size=1, max_size=60))
def test_any_strings_code_as_pandas_codes_them(values: list[str]) -> None:
    _same_as_pandas(values)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 14).flatmap(
        lambda w: st.lists(
            st.text(alphabet="0123456789abcdefXY志愿é\x00\x01", min_size=w, max_size=w),
            min_size=1,
            max_size=60,
        )
    )
)
def test_strings_of_one_width_code_as_pandas_codes_them(values: list[str]) -> None:
    """Strings of one length (in bytes, when every character is ASCII: then their bytes sort
    them; with a NUL or a wider character, Arrow does) code as pandas codes them."""
    if all(v.isascii() and "\x00" not in v for v in values):
        assert _bytes_order(pa.array(sorted(set(values)))) is not None
    _same_as_pandas(values)


def test_what_the_digit_path_leaves_to_dictionary_encoding() -> None:
    for values in (
        ["07", "7"],  # leading zeros at several widths: one number, two strings
        ["a1", "b1"],  # two prefixes
        ["v1", "v"],  # no digits after the prefix
        ["0" * 19, "1" * 19],  # 19 digits do not fit every int64
        ["１２", "３４"],  # full-width digits are not ASCII
        ["", ""],
        ["12a", "123"],
        ["v1", "v-1"],  # a sign is not a digit
        ["v1", "w2"],  # another prefix of the same length
        ["v 1", "v12"],
        ["v1", "v1\u00e9"],  # a byte past ASCII after the digits
    ):
        assert _digit_codes(pa.array(values)) is None
        _same_as_pandas(values)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(DIGITS, st.text(alphabet="abc一二", min_size=1, max_size=4)),
        min_size=1,
        max_size=40,
    )
)
def test_every_kind_of_pandas_string_column_codes_alike(values: list[str]) -> None:
    from zhiyuan.bulk._frames import Coded, series_values

    want_codes, want_uniques = pd.factorize(np.array(values, dtype=object), sort=True)
    for dtype in (object, "string[python]", "string[pyarrow]", pd.ArrowDtype(pa.string())):
        got = series_values("volunteer", pd.Series(values, dtype=dtype))
        if isinstance(got, Coded):
            codes, names = got.codes, got.names
        else:
            codes, names = factorize(got)
        assert codes.tolist() == want_codes.tolist(), dtype
        assert [str(n) for n in names.tolist()] == [str(u) for u in want_uniques.tolist()], dtype
