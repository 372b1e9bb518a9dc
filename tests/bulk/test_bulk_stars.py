"""``zhiyuan.bulk.rate_stars`` against :meth:`StarScheme.rate_many`: random schemes (every field),
random certified rows, registration dates, held levels and marks must give every volunteer the
same level, counted minutes, next level, minutes missing and unmet conditions; and the whole
chain — records through :func:`evaluate_hours` into :func:`rate_stars` — equals a ledger's
certified rows rated by the object path.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest

np = pytest.importorskip("numpy")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.bulk import (  # noqa: E402
    EVIDENCE,
    PURPOSES,
    UNMET_RULES,
    Columns,
    counted_rows,
    evaluate_hours,
    rate_stars,
    rate_stars_frame,
)
from zhiyuan.bulk.stars import _months_since  # noqa: E402
from zhiyuan.errors import InvalidValue  # noqa: E402
from zhiyuan.hierarchy import Level, Organization, Registry, load_default  # noqa: E402
from zhiyuan.hours import (  # noqa: E402
    Evidence,
    HourLedger,
    HourPolicy,
    HourRow,
    Purpose,
    ServiceRecord,
    Volunteer,
)
from zhiyuan.scoring import STAR_PROFILES, Downgrade, StarRating, StarScheme, Window  # noqa: E402

SH = SHANGHAI
REGION = "370602001001"
CATEGORIES = ("助老", "助残", "环保", "应急救援")


def volunteer(vid: str, registered: date = date(2015, 1, 1)) -> Volunteer:
    return Volunteer(id=vid, name="志愿者", home_region=REGION, registered_on=registered)


def rows_to_columns(rows: list[HourRow]) -> dict[str, Any]:
    return {
        "volunteer": np.array([r.volunteer_id for r in rows], dtype=object),
        "day": np.array([r.service_date for r in rows], dtype="datetime64[D]"),
        "minutes": np.array([r.minutes for r in rows], dtype=np.int64),
        "weighted_minutes": np.array([r.weighted_minutes for r in rows], dtype=np.int64),
        "evidence": np.array([EVIDENCE.index(r.evidence) for r in rows], dtype=np.int64),
        "category": np.array([r.category for r in rows], dtype=object),
        "purposes": np.array(
            [sum(1 << PURPOSES.index(p) for p in r.purposes) for r in rows], dtype=np.int64
        ),
    }


def as_tuple(r: StarRating) -> tuple[Any, ...]:
    return (
        r.level,
        r.counted_minutes,
        r.next_level,
        r.minutes_missing,
        {f.rule for f in r.unmet},
    )


def assert_same(got: Any, expected: dict[str, StarRating]) -> None:
    assert sorted(got.volunteer_ids.tolist()) == sorted(expected)
    for i, vid in enumerate(got.volunteer_ids.tolist()):
        row = (
            int(got.level[i]),
            int(got.counted_minutes[i]),
            int(got.next_level[i]) or None,
            int(got.minutes_missing[i]),
            {UNMET_RULES[b] for b in range(len(UNMET_RULES)) if int(got.unmet[i]) >> b & 1},
        )
        assert row == as_tuple(expected[vid]), (vid, row, str(expected[vid]))


# --- strategies --------------------------------------------------------------------------------


@st.composite
def schemes(draw: st.DrawFn) -> StarScheme:
    """Random valid star schemes, every field exercised."""
    steps = draw(st.lists(st.integers(1, 400), min_size=1, max_size=7))
    thresholds = tuple(int(x) for x in np.cumsum(steps))
    n = len(thresholds)
    return StarScheme(
        name="random",
        thresholds_hours=thresholds,
        window=draw(st.sampled_from(Window)),
        window_years=draw(st.integers(1, 10)),
        evidence=draw(st.none() | st.frozensets(st.sampled_from(Evidence), max_size=4)),
        categories=draw(
            st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=3)
        ),
        weighted=draw(st.booleans()),
        min_months=tuple(draw(st.lists(st.integers(0, 36), max_size=n))),
        sequential_from=draw(st.none() | st.integers(2, n)) if n >= 2 else None,
        clean_years=draw(st.none() | st.integers(1, 5)),
        approving=(Level.COUNTY,) * n,
        downgrade=draw(st.sampled_from(Downgrade)),
    )


DATES = st.dates(date(2000, 1, 1), date(2035, 12, 31))


@st.composite
def certified(draw: st.DrawFn) -> tuple[list[str], list[HourRow]]:
    vids = [f"v{i}" for i in range(draw(st.integers(1, 5)))]
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        minutes = draw(st.integers(0, 2000 * 60))
        rows.append(
            HourRow(
                draw(st.sampled_from([*vids, "stranger"])),  # a volunteer nobody rates
                draw(DATES),
                minutes,
                draw(st.integers(0, 3 * minutes)),
                draw(st.sampled_from(Evidence)),
                draw(st.sampled_from(CATEGORIES)),
                draw(st.frozensets(st.sampled_from(Purpose))),
                REGION,
            )
        )
    return vids, rows


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=400)
@given(scheme=schemes(), data=certified(), today=DATES, extra=st.data())
def test_rate_stars_equals_rate_many(
    scheme: StarScheme,
    data: tuple[list[str], list[HourRow]],
    today: date,
    extra: st.DataObject,
) -> None:
    vids, rows = data
    # Registration around month ends and leap days, where whole months are subtle.
    registered = {v: extra.draw(st.dates(date(1999, 1, 1), date(2036, 1, 1))) for v in vids}
    held = {v: extra.draw(st.integers(0, scheme.top)) for v in vids}
    marks = {v: extra.draw(st.lists(DATES, max_size=3)) for v in vids}
    as_of = datetime(today.year, today.month, today.day, 23, 30, tzinfo=SH)
    vols = [volunteer(v, registered[v]) for v in vids]
    expected = scheme.rate_many(vols, rows, as_of, held=held, marks=marks)
    cols = rows_to_columns(rows)
    got = rate_stars(
        cols, scheme, as_of, volunteers=vids, registered_on=registered, held=held, marks=marks
    )
    assert_same(got, expected)
    # the same with arrays aligned to the volunteers, and marks as a pair of arrays
    pairs = [(v, d) for v, ds in marks.items() for d in ds]
    got2 = rate_stars(
        cols,
        scheme,
        as_of,
        volunteers=np.array(vids, dtype=object),
        registered_on=np.array([registered[v] for v in vids], dtype="datetime64[D]"),
        held=np.array([held[v] for v in vids]),
        marks=([v for v, _ in pairs], [d for _, d in pairs]),
    )
    for name, values in got.as_dict().items():
        assert got2.as_dict()[name].tolist() == values.tolist(), name


@settings(max_examples=150, deadline=None)
@given(
    scheme=schemes(),
    data=certified(),
    today=DATES,
    threads=st.integers(2, 5),
    statuses=st.lists(st.integers(0, 2), min_size=40, max_size=40),
)
def test_rows_split_across_threads_rate_alike(
    scheme: StarScheme,
    data: tuple[list[str], list[HourRow]],
    today: date,
    threads: int,
    statuses: list[int],
) -> None:
    """The rows counted in ranges on several threads (as a long column is) give what one
    range gives, for every volunteer, with and without ``volunteers=`` and ``status``."""
    from zhiyuan.bulk import _parallel

    vids, rows = data
    as_of = datetime(today.year, today.month, today.day, 23, 30, tzinfo=SH)
    cols = rows_to_columns(rows)
    cols["status"] = np.array(statuses[: len(rows)], dtype=np.int8)
    scheme = attrs.evolve(scheme, min_months=(), sequential_from=None, clean_years=None)
    for volunteers in (None, vids):
        whole = rate_stars(cols, scheme, as_of, volunteers=volunteers)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ZHIYUAN_THREADS", str(threads))
            mp.setattr(_parallel, "LEAST", 1)
            split = rate_stars(cols, scheme, as_of, volunteers=volunteers)
        for name, values in whole.as_dict().items():
            assert split.as_dict()[name].tolist() == values.tolist(), name


@st.composite
def day_of_records(draw: st.DrawFn) -> list[ServiceRecord]:
    out = []
    for i in range(draw(st.integers(0, 25))):
        start = datetime(2024, 1, 1, tzinfo=SH) + timedelta(
            minutes=draw(st.integers(0, 400 * 24 * 60))
        )
        out.append(
            ServiceRecord(
                id=f"r{i}",
                volunteer_id=draw(st.sampled_from(("v1", "v2", "v3"))),
                activity_id="a",
                organization_id="o1",
                region_code=REGION,
                category=draw(st.sampled_from(CATEGORIES)),
                start=start,
                end=start + timedelta(minutes=draw(st.integers(1, 16 * 60))),
                evidence=draw(st.sampled_from(Evidence)),
            )
        )
    return sorted(out, key=lambda r: r.start)


@settings(max_examples=60)
@given(records=day_of_records(), scheme=st.sampled_from(sorted(STAR_PROFILES)))
def test_records_to_stars_equal_the_ledger_chain(records: list[ServiceRecord], scheme: str) -> None:
    """Records → evaluate_hours → counted_rows → rate_stars == ledger → rows → rate_many."""
    policy = HourPolicy(
        daily_cap_minutes=480, auto_certify=set(Evidence), category_weights={"助老": 150}
    )
    vols = [volunteer(v) for v in ("v1", "v2", "v3")]
    ledger = HourLedger(
        Registry(load_default(), [Organization(id="o1", name="协会", region_code=REGION)]),
        policies=[policy],
        volunteers=vols,
    )
    now = datetime(2025, 6, 1, tzinfo=SH)
    ledger.post_many(records, at=now)
    as_of = datetime(2025, 6, 2, tzinfo=SH)
    expected = STAR_PROFILES[scheme].rate_many(vols, ledger.rows(as_of=as_of), as_of)
    cols = {
        "volunteer": [r.volunteer_id for r in records],
        "start": [int(r.start.timestamp()) for r in records],
        "end": [int(r.end.timestamp()) for r in records],
        "evidence": [r.evidence.value for r in records],
        "category": [r.category for r in records],
    }
    if not records:
        cols = {k: np.zeros(0, dtype=np.int64) for k in cols}
    result = evaluate_hours(cols, policy, now=now)
    got = rate_stars(
        counted_rows(cols, result),
        STAR_PROFILES[scheme],
        as_of,
        volunteers=["v1", "v2", "v3"],
        registered_on={v.id: v.registered_on for v in vols},
    )
    assert_same(got, expected)


MONTH_ENDS = st.builds(
    lambda d, back: d.replace(day=calendar.monthrange(d.year, d.month)[1] - back),
    DATES,
    st.integers(0, 3),
)  # the 28th–31st of every month (and 29 Februaries), where whole months are subtle


@settings(max_examples=500)
@given(registered=st.lists(MONTH_ENDS | DATES, min_size=1, max_size=20), today=MONTH_ENDS | DATES)
def test_whole_months_are_relativedeltas(registered: list[date], today: date) -> None:
    from dateutil.relativedelta import relativedelta

    days = np.array(registered, dtype="datetime64[D]").astype(np.int64)
    got = _months_since(days, today).tolist()
    want = []
    for reg in registered:
        delta = relativedelta(today, reg)
        want.append(max(delta.years * 12 + delta.months, 0))
    assert got == want


# --- examples ----------------------------------------------------------------------------------


AS_OF = datetime(2025, 1, 1, tzinfo=SH)


def test_the_national_example() -> None:
    rows = [
        HourRow("v1", date(2024, 5, 1), 563 * 60, 563 * 60, Evidence.QR_SCAN, "助老",
                frozenset({Purpose.STARS}), REGION),
        HourRow("v2", date(2024, 5, 1), 99 * 60, 99 * 60, Evidence.QR_SCAN, "助老",
                frozenset({Purpose.POINTS}), REGION),  # not toward stars
    ]  # fmt: skip
    got = rate_stars(rows_to_columns(rows), None, AS_OF)
    assert got.level.tolist() == [2, 0] and got.minutes_missing.tolist() == [2220, 6000]
    assert got.next_level.tolist() == [3, 1] and got.counted_minutes.tolist() == [563 * 60, 0]
    assert got.scheme == "national" and got.as_of == date(2025, 1, 1)


def test_dense_codes_rate_volunteers_without_rows() -> None:
    cols = Columns.of(
        {"volunteer": [0, 2, 2], "day": [19000] * 3, "minutes": [6000, 60000, 30000],
         "purposes": [1, 1, 1]},
        volunteer_ids=np.array([100, 101, 102]),
    )  # fmt: skip
    got = rate_stars(cols, STAR_PROFILES["national"], AS_OF)
    assert got.volunteer_ids.tolist() == [100, 101, 102]
    assert got.level.tolist() == [1, 0, 5] and got.next_level.tolist() == [2, 1, 0]
    assert got.minutes_missing.tolist() == [12000, 6000, 0]


def test_top_level_and_months_example() -> None:
    """龙岗: 1,000 h but registered on 2024-01-31: on 2025-01-01 eleven whole months."""
    scheme = STAR_PROFILES["longgang"]
    cols = {"volunteer": ["a"], "day": [date(2024, 6, 1)], "minutes": [1000 * 60],
            "purposes": [1]}  # fmt: skip
    got = rate_stars(cols, scheme, AS_OF, registered_on={"a": date(2024, 1, 31)})
    expected = scheme.rate_many(
        [volunteer("a", date(2024, 1, 31))],
        [HourRow("a", date(2024, 6, 1), 60000, 60000, Evidence.GPS, "助老",
                 frozenset({Purpose.STARS}), REGION)],
        AS_OF,
    )  # fmt: skip
    assert_same(got, expected)
    assert got.level.tolist() == [2] and got.unmet.tolist() == [1]  # 3★ needs 12 months


def test_required_inputs_are_named() -> None:
    cols = {"volunteer": ["a"], "day": [date(2024, 6, 1)], "minutes": [60], "purposes": [1]}
    with pytest.raises(InvalidValue, match="registered_on"):
        rate_stars(cols, STAR_PROFILES["longgang"], AS_OF)
    with pytest.raises(InvalidValue, match="weighted_minutes"):
        rate_stars(cols, StarScheme(weighted=True), AS_OF)
    with pytest.raises(InvalidValue, match="evidence"):
        rate_stars(cols, StarScheme(evidence={Evidence.GPS}), AS_OF)
    with pytest.raises(InvalidValue, match="as_of"):
        rate_stars(cols, None, datetime(2025, 1, 1))
    with pytest.raises(InvalidValue, match="volunteers"):
        rate_stars(cols, None, AS_OF, volunteers=["a", "a"])
    with pytest.raises(InvalidValue, match="held"):
        rate_stars(cols, StarScheme(sequential_from=2), AS_OF, held={"b": 1})
    for bad in (9, -1):  # a level the scheme does not have, as the object path refuses
        with pytest.raises(InvalidValue, match="held"):
            rate_stars(cols, None, AS_OF, held={"a": bad, "b": 0})


def test_frames_in_and_out() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"volunteer": ["b", "a", "b"], "service_date": pd.to_datetime(["2024-01-02"] * 3),
         "counted_minutes": [6000, 60, 12000], "purposes": [1, 1, 1]}
    )  # fmt: skip
    out = rate_stars_frame(frame, None, AS_OF)
    assert out["volunteer"].tolist() == ["a", "b"] and out["level"].tolist() == [0, 2]
    held = pd.Series({"a": 0, "b": 0})  # b holds no star yet: 2★ must wait
    seq = rate_stars(frame, StarScheme(sequential_from=2), AS_OF, held=held)
    assert seq.level.tolist() == [0, 1]
