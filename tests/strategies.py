"""Hypothesis strategies for zhiyuan's value types (import as ``from strategies import …``).

Datetimes are bounded to 2000–2100 and Asia/Shanghai by default: unbounded generation finds the
1919 DST fold and the 1941 spring-forward gap at once (STYLE.md §7), which are not zhiyuan's domain.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import AnomalyKind, Level, Region, RegionCode
from zhiyuan.hierarchy.codes import level_of, parent_of

__all__ = [
    "DIGITS",
    "SHANGHAI",
    "TreeRecord",
    "anomaly_kinds",
    "any_input",
    "aware_datetimes",
    "code_forms",
    "levels",
    "naive_datetimes",
    "offset_datetimes",
    "region_codes",
    "region_names",
    "regions",
    "sources",
    "tree_codes",
    "tree_records",
]

DIGITS = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}
"""Significant leading digits per level (an independent copy, not the library's table)."""

_MIN = datetime(2000, 1, 1)
_MAX = datetime(2100, 1, 1)

# --- time ------------------------------------------------------------------------------------


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes in Asia/Shanghai, 2000–2100."""
    return st.datetimes(min_value=_MIN, max_value=_MAX, timezones=st.just(SHANGHAI))


def offset_datetimes() -> st.SearchStrategy[datetime]:
    """Aware datetimes at an arbitrary fixed UTC offset (whole minutes), 2000–2100."""
    offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
        lambda m: timezone(timedelta(minutes=m))
    )
    return st.datetimes(min_value=_MIN, max_value=_MAX, timezones=offsets)


def naive_datetimes() -> st.SearchStrategy[datetime]:
    """Naive datetimes, 2000–2100 (the converter must refuse these)."""
    return st.datetimes(min_value=_MIN, max_value=_MAX)


# --- levels, codes, regions ------------------------------------------------------------------

levels: st.SearchStrategy[Level] = st.sampled_from(Level)
anomaly_kinds: st.SearchStrategy[AnomalyKind] = st.sampled_from(AnomalyKind)


def _segment(width: int, *, zero: bool) -> st.SearchStrategy[str]:
    """A code segment: nonzero, or (if ``zero``) sometimes all zeros, as in 东莞 ``441900003``."""
    nonzero = st.integers(min_value=1, max_value=10**width - 1).map(lambda n: f"{n:0{width}d}")
    if not zero:
        return nonzero
    return st.one_of(st.just("0" * width), nonzero)


@st.composite
def region_codes(draw: st.DrawFn, level: Level | None = None) -> str:
    """A valid canonical 12-digit code of ``level`` (any level if ``None``).

    The segment of the code's own level is nonzero and every segment below it is zero; segments
    above it may be zero (real codes such as 东莞's township ``441900003000`` skip the county).
    """
    lv = draw(levels) if level is None else level
    province = draw(st.integers(min_value=10, max_value=99).map(str))
    widths = (2, 2, 3, 3)  # city, county, township, village
    parts = [province]
    for depth, width in enumerate(widths, start=2):
        if depth < lv.depth:
            parts.append(draw(_segment(width, zero=True)))
        elif depth == lv.depth:
            parts.append(draw(_segment(width, zero=False)))
        else:
            parts.append("0" * width)
    code = "".join(parts)
    assert len(code) == 12
    return code


@st.composite
def code_forms(draw: st.DrawFn, code: str) -> object:
    """Any accepted spelling of the canonical ``code``: its short form, 12 digits, int, padded."""
    short = code[: DIGITS[level_of(code)]]
    form = draw(st.sampled_from(["short", "full", "int_short", "int_full", "spaced", "code_obj"]))
    if form == "short":
        return short
    if form == "full":
        return code
    if form == "int_short":
        return int(short)
    if form == "int_full":
        return int(code)
    if form == "spaced":
        left = draw(st.sampled_from(["", " ", "\t", "\n ", "\u3000"]))
        right = draw(st.sampled_from(["", " ", "\r\n", "\t "]))
        return left + draw(st.sampled_from([short, code])) + right
    return RegionCode(code)


_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_REAL_NAMES = [
    "城关镇",
    "太平镇",
    "东城街道",
    "和平村委会",
    "鼓楼区",
    "市中区",
    "芝罘区",
    "县",
    "市辖区",
    "城关",
    "和平村",
    "莫𡐓村委会",
    "高\ue170村委会",
    "八五一０农场杨木林子管理区",
    "（工业园区）城南街道",
]


def region_names() -> st.SearchStrategy[str]:
    """Names: real ones that repeat across the country (城关镇 ×88) and random CJK (no ``/``)."""
    return st.one_of(st.sampled_from(_REAL_NAMES), st.text(_CJK, min_size=1, max_size=8))


@st.composite
def regions(draw: st.DrawFn) -> Region:
    """A :class:`Region` whose level matches its code, with an optional name and parent."""
    code = draw(region_codes())
    name = draw(st.one_of(st.none(), region_names(), st.text()))
    parent = parent_of(code)
    parent_code = draw(st.sampled_from([parent, None])) if parent is not None else None
    return Region(code=code, name=name, level=level_of(code), parent_code=parent_code)


# --- random trees ----------------------------------------------------------------------------

# Small alphabets per segment, so that random codes share prefixes and form real trees.
_PROVINCES = ("11", "37", "52")
_CITIES = ("00", "01", "06")
_COUNTIES = ("00", "02", "71")
_TOWNSHIPS = ("000", "001", "101", "400")
_VILLAGES = ("000", "001", "201")


def _all_tree_codes() -> list[str]:
    out = set()
    for p in _PROVINCES:
        for c in _CITIES:
            for k in _COUNTIES:
                for t in _TOWNSHIPS:
                    for v in _VILLAGES:
                        out.add(p + c + k + t + v)
    return sorted(out)


_TREE_CODES = _all_tree_codes()


def tree_codes(*, min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[frozenset[str]]:
    """Random sets of valid 12-digit codes drawn from a small space, so they nest."""
    return st.frozensets(st.sampled_from(_TREE_CODES), min_size=min_size, max_size=max_size)


TreeRecord = tuple[object, str | None, object]


def _nearest_present(code: str, present: frozenset[str]) -> str | None:
    p = parent_of(code)
    while p is not None and p not in present:
        p = parent_of(p)
    return p


@st.composite
def tree_records(
    draw: st.DrawFn, *, min_size: int = 0, max_size: int = 40, names: bool = True
) -> list[TreeRecord]:
    """Rows ``(code form, name, declared parent form or None)`` for a clean random tree.

    Each declared parent is the nearest ancestor present (so nothing is reported), or ``None``
    where no ancestor is present. Codes come in any accepted form; rows come in random order.
    """
    codes = draw(tree_codes(min_size=min_size, max_size=max_size))
    rows: list[TreeRecord] = []
    for code in sorted(codes):
        parent = _nearest_present(code, codes)
        parent_form: Any = None if parent is None else draw(code_forms(parent))
        name = draw(region_names()) if names else None
        rows.append((draw(code_forms(code)), name, parent_form))
    return draw(st.permutations(rows))


def any_input() -> st.SearchStrategy[object]:
    """Anything a caller might pass where a code is expected."""
    return st.one_of(
        st.text(),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.none(),
        st.binary(max_size=14),
        st.lists(st.integers(), max_size=3),
        st.from_regex(r"\s*[0-9０-９]{1,13}\s*", fullmatch=True),
    )


# --- policy sources ----------------------------------------------------------------------------


def sources() -> st.SearchStrategy[Any]:
    """:class:`~zhiyuan.profiles.Source` values, or ``None`` (a policy of one's own)."""
    from zhiyuan.profiles import Source

    words = st.text(
        st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
    ).filter(str.strip)
    return st.none() | st.builds(
        Source,
        document=words,
        issuer=words,
        date=st.none() | st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)),
        clause=st.none() | words,
        url=st.none() | st.just("https://example.org/a.html"),
        region_code=st.none() | region_codes(),
        verified=st.booleans(),
        note=st.none() | words,
    )
