"""The contract every policy class and every shipped profile keeps (出处 as data).

For each policy class and each profile of the shipped tables (``*_PROFILES``, found from the
packages' ``__all__``): lossless JSON and TOML round trips, a ``date`` for ``effective_from``, a
``source`` attribute (a cited :class:`~zhiyuan.profiles.Source` on every shipped profile), a
bilingual ``explain()`` naming the source, read-only tables, and ``for_region`` finding a profile
by the region it cites. Region codes are checked against the real NBS code lists in ``data/nbs``.
Hypothesis adds random sources (round trips, alone and inside a policy) and malformed ones (always
an :class:`~zhiyuan.errors.InvalidValue` or :class:`~zhiyuan.errors.InvalidInput` naming the
field, never another exception).
"""

from __future__ import annotations

import ast
import csv
import gzip
import inspect
import itertools
import json
import re
import sys
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import sources
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.credit import ConversionPolicy, CreditScorePolicy, DeedScheme, TimeBankPolicy
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.hierarchy import StandardItem, StationStandard, TeamStandard
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hours import HourPolicy
from zhiyuan.matching.dispatch import DispatchPolicy
from zhiyuan.profiles import Profiles, Source, shipped_tables
from zhiyuan.scoring import StarScheme
from zhiyuan.scoring.feedback import BayesianPrior
from zhiyuan.scoring.scorecards import Scorecard

NBS_DIR = Path(__file__).resolve().parent.parent / "data" / "nbs"

POLICY_CLASSES: tuple[type[Any], ...] = (
    HourPolicy,
    ConversionPolicy,
    CreditScorePolicy,
    TimeBankPolicy,
    StarScheme,
    Scorecard,
    DispatchPolicy,
    BayesianPrior,
    DeedScheme,
    TeamStandard,
    StationStandard,
)

EXPECTED_TABLES = {
    "HOUR_PROFILES": HourPolicy,
    "CONVERSION_PROFILES": ConversionPolicy,
    "CREDIT_PROFILES": CreditScorePolicy,
    "TIMEBANK_PROFILES": TimeBankPolicy,
    "STAR_PROFILES": StarScheme,
    "SCORECARD_PROFILES": Scorecard,
    "DEED_PROFILES": DeedScheme,
    "TEAM_STANDARD_PROFILES": TeamStandard,
    "STATION_STANDARD_PROFILES": StationStandard,
}
"""Every shipped table and the class of its profiles: a new table must be added here."""

SOURCE_FIELDS = frozenset(f.name for f in attrs.fields(Source))
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


TABLES = shipped_tables()
SHIPPED = [(table, name) for table in TABLES.values() for name in table]
SHIPPED_IDS = [f"{table.field}.{name}" for table, name in SHIPPED]
_REQUIRED_FIELDS: dict[type[Any], Any] = {
    Scorecard: TABLES["SCORECARD_PROFILES"]["station_stars"],
    TeamStandard: TeamStandard(required={"county": 8}),
    StationStandard: StationStandard(
        items=[StandardItem(id="sign", name="有标识牌", name_en="a sign")]
    ),
}
DEFAULTS: dict[type[Any], Any] = {
    cls: _REQUIRED_FIELDS[cls] if cls in _REQUIRED_FIELDS else cls() for cls in POLICY_CLASSES
}
"""One value per class: its default, or (a class with required fields) a shipped profile."""
EVERY_POLICY = [*DEFAULTS.values(), *(table[name] for table, name in SHIPPED)]


# --- the tables ----------------------------------------------------------------------------


def test_the_discovered_tables_are_exactly_the_expected_ones() -> None:
    assert set(TABLES) == set(EXPECTED_TABLES)
    for name, table in TABLES.items():
        assert table.kind is EXPECTED_TABLES[name]
        assert table.field == name
        assert len(table) >= 1
        # each table lives in the module of its class
        assert getattr(sys.modules[table.kind.__module__], name) is table
    assert {t.kind for t in TABLES.values()} <= set(POLICY_CLASSES)


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_a_table_is_read_only(name: str) -> None:
    table = TABLES[name]
    first = next(iter(table))
    before = dict(table)
    with pytest.raises(TypeError):
        table[first] = table[first]  # type: ignore[index]
    with pytest.raises(TypeError):
        table["mine"] = table[first]  # type: ignore[index]
    with pytest.raises(TypeError):
        del table[first]  # type: ignore[attr-defined]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        table[first].effective_from = date(2000, 1, 1)
    with pytest.raises(NotFound):
        table["no such profile"]
    assert dict(table) == before


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_a_region_without_a_profile_of_its_own_or_above_is_not_found(name: str) -> None:
    table = TABLES[name]
    covered = {code[:2] for code in table.regions()}
    for province in ("65", "54", "15"):  # 新疆, 西藏, 内蒙古: no shipped profile cites them
        assert province not in covered
        with pytest.raises(NotFound):
            table.for_region(province)


def _docstring_after(module: Any, name: str) -> str:
    """The string literal right after ``name = …`` in ``module`` (a constant's docstring)."""
    body = ast.parse(inspect.getsource(module)).body
    for here, after in itertools.pairwise(body):
        target = here.target if isinstance(here, ast.AnnAssign) else None
        if isinstance(here, ast.Assign) and len(here.targets) == 1:
            target = here.targets[0]
        if isinstance(target, ast.Name) and target.id == name:
            assert isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            assert isinstance(after.value.value, str)
            return after.value.value
    raise AssertionError(f"{name} not assigned in {module.__name__}")


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_a_tables_docstring_names_every_profile_and_only_cited_links(name: str) -> None:
    table = TABLES[name]
    doc = _docstring_after(sys.modules[table.kind.__module__], name)
    assert set(re.findall(r"^- ``([a-z0-9_]+)``", doc, re.MULTILINE)) == set(table)
    cited = " ".join(
        f"{p.source.url or ''} {p.source.note or ''}" for p in table.values() if p.source
    )
    for url in re.findall(r"https?://[^\s)]+", doc):
        assert url in cited, f"{url} is in the docstring but cited by no profile"


# --- every shipped profile -----------------------------------------------------------------


@pytest.mark.parametrize(("table", "name"), SHIPPED, ids=SHIPPED_IDS)
def test_a_shipped_profile_cites_its_source(table: Profiles[Any], name: str) -> None:
    profile = table[name]
    assert isinstance(profile, table.kind)
    source = profile.source
    assert isinstance(source, Source)
    assert source.document.strip() and source.issuer.strip()
    assert source.date is None or type(source.date) is date
    if source.verified:  # a text that was read can be read again
        assert source.url is not None and source.url.startswith(("http://", "https://"))
    if source.url is not None:
        assert re.fullmatch(r"https?://\S+", source.url)


@pytest.mark.parametrize(("table", "name"), SHIPPED, ids=SHIPPED_IDS)
def test_a_shipped_profile_round_trips_through_json_and_toml(
    table: Profiles[Any], name: str
) -> None:
    profile = table[name]
    for back in (
        from_json(to_json(profile), table.kind),
        from_toml(to_toml(profile), table.kind),
    ):
        assert back == profile
        assert back.source == profile.source and back.source is not None
        assert type(back.effective_from) is date


@pytest.mark.parametrize(("table", "name"), SHIPPED, ids=SHIPPED_IDS)
def test_a_shipped_profiles_explanation_is_bilingual_and_names_its_source(
    table: Profiles[Any], name: str
) -> None:
    profile = table[name]
    text = profile.explain()
    assert CJK.search(text) and LATIN.search(text)
    assert profile.source.document in text
    assert profile.source.issuer in text
    assert profile.effective_from.isoformat() in text
    assert ("核实 / verified" in text) is profile.source.verified


@cache
def _nbs_codes() -> frozenset[str]:
    """The province, city and county codes of the NBS 2023 edition (short forms)."""
    codes: set[str] = set()
    for file in ("provinces", "cities", "counties"):
        with gzip.open(NBS_DIR / f"{file}.csv.gz", "rt", encoding="utf-8", newline="") as f:
            codes.update(row["code"] for row in csv.DictReader(f))
    return frozenset(codes)


def _short(code: str) -> str:
    """A 12-digit code without the zeros of the levels below it (``440307000000`` → ``440307``)."""
    for width in (2, 4, 6, 9):
        if code[width:] == "0" * (12 - width):
            return code[:width]
    return code


def _child(code: str) -> str:
    """A made-up code one level below ``code`` (segment 99…), for a walk up to ``code``."""
    short = _short(code)
    width = {2: 2, 4: 2, 6: 3, 9: 3}[len(short)]
    return (short + "9" * width).ljust(12, "0")


REGIONAL = [(table, name) for table, name in SHIPPED if table[name].source.region_code is not None]


def test_profiles_cite_the_regions_the_brief_names() -> None:
    assert TABLES["STAR_PROFILES"].for_region("440307").name == "longgang"  # 龙岗区
    assert TABLES["CONVERSION_PROFILES"].for_region("371082").name == "rongcheng"  # 荣成市
    assert TABLES["HOUR_PROFILES"]["national"].source.region_code is None
    assert TABLES["STAR_PROFILES"]["national"].source.region_code is None
    assert len(REGIONAL) >= 20


@pytest.mark.parametrize(("table", "name"), REGIONAL, ids=[f"{t.field}.{n}" for t, n in REGIONAL])
def test_a_profile_is_found_by_the_region_it_cites(table: Profiles[Any], name: str) -> None:
    profile = table[name]
    code = profile.source.region_code
    assert code == normalize_code(code) and len(code) == 12
    assert _short(code) in _nbs_codes(), f"{code} is not an NBS 2023 code"
    same = [p for p in table.values() if p.source and p.source.region_code == code]
    latest = max(same, key=lambda p: p.effective_from)
    assert table.for_region(code) is latest
    assert table.for_region(_short(code)) is latest
    assert table.for_region(_child(code)) is latest  # a region below it has its profile
    assert table.regions()[code].latest is latest
    assert table.for_region(_child(code), on=profile.effective_from) is profile  # in force then
    if len(same) == 1:
        assert latest is profile


# --- every policy class --------------------------------------------------------------------


@pytest.mark.parametrize("cls", POLICY_CLASSES, ids=lambda c: c.__name__)
def test_every_policy_class_has_a_source_and_a_dated_start(cls: type[Any]) -> None:
    assert attrs.has(cls)
    field = attrs.fields_dict(cls)["source"]
    assert field.default is None  # a policy of one's own cites nothing
    policy = DEFAULTS[cls]
    assert type(policy.effective_from) is date  # a date, not a datetime
    if cls is not Scorecard:
        assert policy.source is None
        assert "none given" in policy.explain()
    for bad in (datetime(2024, 1, 1), "2024-01-01", None):
        with pytest.raises(InvalidValue) as err:
            attrs.evolve(policy, effective_from=bad)
        assert err.value.field == "effective_from"


@pytest.mark.parametrize("cls", POLICY_CLASSES, ids=lambda c: c.__name__)
def test_every_policy_class_round_trips_and_explains_itself_in_two_languages(
    cls: type[Any],
) -> None:
    policy = DEFAULTS[cls]
    assert from_json(to_json(policy), cls) == policy
    assert from_toml(to_toml(policy), cls) == policy
    text = policy.explain()
    assert CJK.search(text) and LATIN.search(text)
    assert policy.effective_from.isoformat() in text
    cited = attrs.evolve(policy, source=Source(document="《某某办法》", issuer="某某区文明办"))
    assert "《某某办法》" in cited.explain() and "某某区文明办" in cited.explain()
    assert from_json(to_json(cited), cls) == cited
    assert from_toml(to_toml(cited), cls) == cited


# --- random sources ------------------------------------------------------------------------

present_sources = sources().filter(lambda s: s is not None)


@given(present_sources)
def test_a_random_source_round_trips_on_its_own(source: Source) -> None:
    assert from_json(to_json(source), Source) == source
    assert from_toml(to_toml(source), Source) == source


@given(st.sampled_from(EVERY_POLICY), sources())
def test_a_random_source_round_trips_inside_any_policy(policy: Any, source: Source | None) -> None:
    cited = attrs.evolve(policy, source=source)
    assert cited.source == source
    for back in (from_json(to_json(cited), type(cited)), from_toml(to_toml(cited), type(cited))):
        assert back == cited
        assert back.source == source
    if source is not None:
        assert source.document in cited.explain()


# --- malformed sources ---------------------------------------------------------------------

_junk = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), max_size=2),
)
_WRONG: dict[str, st.SearchStrategy[Any]] = {
    "document": st.one_of(_junk, st.sampled_from(["", "  ", "\u3000"])),
    "issuer": st.one_of(_junk, st.sampled_from(["", " \t"])),
    "date": st.one_of(
        st.integers(-(10**6), 10**6),
        st.booleans(),
        st.lists(st.integers(0, 9), max_size=3),
        st.sampled_from(["2024-13-01", "yesterday", "2024-01-01T00:00:00+08:00"]),
    ),
    "clause": st.one_of(_junk, st.sampled_from(["", "  "])),
    "url": st.one_of(_junk, st.sampled_from(["", "  "])),
    "note": st.one_of(_junk, st.sampled_from(["", "  "])),
    "region_code": st.one_of(
        st.booleans(),
        st.lists(st.integers(0, 9), max_size=3),
        st.sampled_from(["abc", "37x", "12345", "1234567", "", "3"]),
    ),
    "verified": st.one_of(
        st.integers(-5, 5),
        st.sampled_from(["yes", "true", "", "1"]),
        st.lists(st.booleans(), max_size=2),
    ),
}
_GOOD: dict[str, Any] = {"document": "《某某办法》", "issuer": "某某区文明办"}


@st.composite
def malformed_sources(draw: st.DrawFn) -> tuple[object, str]:
    """Plain data that is no valid source, with the name of the field an error must name."""
    kind = draw(st.sampled_from(["not a mapping", "unknown key", "wrong value", "missing"]))
    if kind == "not a mapping":
        return draw(st.one_of(_junk.filter(lambda v: not isinstance(v, dict)), st.text())), "source"
    if kind == "unknown key":
        extra = draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in SOURCE_FIELDS))
        return {**_GOOD, extra: draw(st.one_of(st.integers(), st.text()))}, "source"
    if kind == "missing":
        gone = draw(st.sampled_from(sorted(_GOOD)))
        return {k: v for k, v in _GOOD.items() if k != gone}, gone
    field = draw(st.sampled_from(sorted(_WRONG)))
    return {**_GOOD, field: draw(_WRONG[field])}, field


@given(st.sampled_from(EVERY_POLICY), malformed_sources())
def test_a_malformed_source_in_json_is_invalid_input_naming_the_field(
    policy: Any, bad: tuple[object, str]
) -> None:
    value, field = bad
    data = json.loads(to_json(policy))
    data["source"] = value
    with pytest.raises(InvalidInput) as err:
        from_json(json.dumps(data), type(policy))
    assert "source" in str(err.value)
    assert field in str(err.value)


@given(st.sampled_from(EVERY_POLICY), malformed_sources())
def test_a_malformed_source_in_toml_is_invalid_input_naming_the_field(
    policy: Any, bad: tuple[object, str]
) -> None:
    value, field = bad
    data = json.loads(to_json(policy))
    data["source"] = value
    with pytest.raises(InvalidInput) as err:
        from_toml(to_toml(data), type(policy))
    assert "source" in str(err.value)
    assert field in str(err.value)


@given(st.sampled_from(EVERY_POLICY), malformed_sources())
def test_a_malformed_source_given_directly_is_invalid_value_naming_the_field(
    policy: Any, bad: tuple[object, str]
) -> None:
    value, field = bad
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(policy, source=value)
    # no mapping, an unknown key or a missing one is the policy's ``source`` (the constructor
    # cannot tell which key); a bad value is named by the source's own field
    missing = isinstance(value, dict) and field not in value
    assert err.value.field == ("source" if missing else field)
