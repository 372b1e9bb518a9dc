"""Frames in and out of :mod:`zhiyuan.bulk`: pandas, polars and Arrow give the object path's
answers, in any row order; results keep the input's index and column names; ``status``,
``rejected_by`` and ``unmet`` come out labelled; a chain of frame functions counts only what the
ledger counts.
"""

from __future__ import annotations

import pickle
import random
import warnings
from datetime import date, datetime, timedelta
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

import attrs  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.bulk import (  # noqa: E402
    REJECTING_RULES,
    STATUSES,
    UNMET_RULES,
    Columns,
    SlowPathWarning,
    convert_points_frame,
    evaluate_hours,
    evaluate_hours_frame,
    rate_stars,
    rate_stars_frame,
)
from zhiyuan.bulk.stars import UNMET_LABELS  # noqa: E402
from zhiyuan.credit import CONVERSION_PROFILES, convert  # noqa: E402
from zhiyuan.errors import InvalidValue  # noqa: E402
from zhiyuan.hierarchy import Organization, Registry, load_default  # noqa: E402
from zhiyuan.hours import (  # noqa: E402
    HOUR_PROFILES,
    Evidence,
    HourLedger,
    ServiceRecord,
    Volunteer,
)
from zhiyuan.scoring import STAR_PROFILES  # noqa: E402

SH = SHANGHAI
REGION = "370602001001"
CATEGORIES = ("助老", "助残", "环保")
NOW = datetime(2025, 6, 1, tzinfo=SH)
AS_OF = datetime(2025, 6, 2, tzinfo=SH)
VOLUNTEERS = ("v1", "v2", "v3")
# 广东: over 8 hours a day waits for approval; every kind of evidence certified on posting, so
# the ledger's rows are exactly its accepted records.
POLICY = attrs.evolve(HOUR_PROFILES["guangdong"], auto_certify=set(Evidence))
KINDS = ("pandas", "polars", "pyarrow")


def to_kind(frame: Any, kind: str) -> Any:
    """A pandas frame as a frame of ``kind`` (pandas as it is, index and all)."""
    if kind == "pandas":
        return frame
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table if kind == "pyarrow" else pl.from_arrow(table)


def column(frame: Any, name: str) -> list[Any]:
    """A column of any kind of frame as plain Python values (missing: ``None``)."""
    if isinstance(frame, pd.DataFrame):
        return [None if pd.isna(v) else v for v in frame[name].tolist()]
    if isinstance(frame, pl.DataFrame):
        return list(frame[name].to_list())
    return list(frame.column(name).to_pylist())


@st.composite
def exports(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An export of a few volunteers' records in no particular order, some days over 8 hours."""
    rows = []
    for _ in range(draw(st.integers(0, 24))):
        start = datetime(2025, 1, 1, 6, tzinfo=SH) + timedelta(
            days=draw(st.integers(0, 60)), minutes=draw(st.integers(0, 14 * 60))
        )
        rows.append(
            {
                "volunteer_id": draw(st.sampled_from(VOLUNTEERS)),
                "start": start,
                "end": start + timedelta(minutes=draw(st.integers(1, 10 * 60))),
                "evidence": draw(st.sampled_from(Evidence)).value,
                "category": draw(st.sampled_from(CATEGORIES)),
            }
        )
    return rows


def ledger_of(rows: list[dict[str, Any]]) -> HourLedger:
    """The object path: the records posted in row order into a fresh ledger."""
    vols = [
        Volunteer(id=v, name="志愿者", home_region=REGION, registered_on=date(2015, 1, 1))
        for v in VOLUNTEERS
    ]
    ledger = HourLedger(
        Registry(load_default(), [Organization(id="o1", name="协会", region_code=REGION)]),
        policies=[POLICY],
        volunteers=vols,
    )
    records = [
        ServiceRecord(
            id=f"r{i}",
            volunteer_id=r["volunteer_id"],
            activity_id="a",
            organization_id="o1",
            region_code=REGION,
            category=r["category"],
            start=r["start"],
            end=r["end"],
            evidence=Evidence(r["evidence"]),
        )
        for i, r in enumerate(rows)
    ]
    ledger.post_many(records, at=NOW)
    return ledger


def ledger_chain(rows: list[dict[str, Any]], scheme: str) -> dict[str, tuple[int, int]]:
    """The object path: post the records in row order, rate the ledger's rows."""
    ledger = ledger_of(rows)
    rated = STAR_PROFILES[scheme].rate_many(ledger.volunteers(), ledger.rows(as_of=AS_OF), AS_OF)
    return {v: (r.level, r.counted_minutes) for v, r in rated.items()}


def frame_of(rows: list[dict[str, Any]]) -> Any:
    frame = pd.DataFrame(
        rows or None, columns=["volunteer_id", "start", "end", "evidence", "category"]
    )
    for name in ("start", "end"):
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert("Asia/Shanghai")
    return frame


@settings(max_examples=40, deadline=None)
@given(
    rows=exports(), scheme=st.sampled_from(["national", "longgang"]), kind=st.sampled_from(KINDS)
)
def test_the_frame_chain_equals_the_ledger_chain(
    rows: list[dict[str, Any]], scheme: str, kind: str
) -> None:
    """evaluate_hours_frame → rate_stars_frame on any kind of frame == ledger → rate_many: rows
    waiting for approval (广东's ninth hour) never count toward stars."""
    expected = ledger_chain(rows, scheme)
    if not rows:
        return
    frame = to_kind(frame_of(rows), kind)
    evaluated = evaluate_hours_frame(frame, POLICY, now=NOW)
    assert type(evaluated) is type(frame)
    registered = dict.fromkeys(VOLUNTEERS, date(2015, 1, 1))
    stars = rate_stars_frame(evaluated, STAR_PROFILES[scheme], AS_OF, registered_on=registered)
    assert type(stars) is type(frame)
    got = dict(
        zip(
            column(stars, "volunteer_id"),
            zip(column(stars, "level"), column(stars, "counted_minutes"), strict=True),
            strict=True,
        )
    )
    for vid, (level, minutes) in got.items():
        assert (level, minutes) == expected[vid], vid
    # every volunteer without a row has nothing in the ledger either
    assert all(expected[v] == (0, 0) for v in VOLUNTEERS if v not in got)


def test_waiting_rows_do_not_count_toward_stars() -> None:
    """The reported case: chained on 广东's rules, the ninth hour of a day (needs approval) used
    to count toward stars."""
    day = datetime(2025, 3, 3, 8, tzinfo=SH)
    rows = [
        {"volunteer_id": "v1", "start": day, "end": day + timedelta(hours=8),
         "evidence": "qr_scan", "category": "助老"},
        {"volunteer_id": "v1", "start": day + timedelta(hours=9),
         "end": day + timedelta(hours=12), "evidence": "qr_scan", "category": "助老"},
    ]  # fmt: skip
    evaluated = evaluate_hours_frame(frame_of(rows), POLICY, now=NOW)
    assert evaluated["status"].tolist() == ["accepted", "needs_approval"]
    stars = rate_stars_frame(evaluated, None, AS_OF)
    assert stars["counted_minutes"].tolist() == [480] == [ledger_chain(rows, "national")["v1"][1]]


def test_results_line_up_with_a_sorted_or_reindexed_input() -> None:
    rng = random.Random(5)
    base = datetime(2025, 3, 1, 8, tzinfo=SH)
    rows = []
    for i in range(200):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        rows.append(
            {"volunteer_id": f"v{i % 17}", "start": start,
             "end": start + timedelta(minutes=rng.randrange(1, 600)),
             "evidence": "gps", "category": rng.choice(CATEGORIES)}
        )  # fmt: skip
    frame = frame_of(rows).sort_values("category", kind="stable")
    frame.index = frame.index * 10 + 3  # an index that is neither 0…n−1 nor in order
    result = evaluate_hours(frame, POLICY, now=NOW).to_pandas()
    assert result.index.tolist() == frame.index.tolist()
    joined = frame.join(result)
    again = evaluate_hours_frame(frame, POLICY, now=NOW)
    assert joined["counted_minutes"].tolist() == again["counted_minutes"].tolist()
    assert (joined["end"] - joined["start"]).dt.total_seconds().floordiv(60).astype(
        int
    ).tolist() == joined["served_minutes"].tolist()


def test_outputs_are_labelled() -> None:
    day = datetime(2025, 3, 3, 8, tzinfo=SH)
    rows = [
        {"volunteer_id": "v1", "start": day, "end": day + timedelta(hours=2),
         "evidence": "qr_scan", "category": "会议"},
        {"volunteer_id": "v1", "start": day + timedelta(hours=3),
         "end": day + timedelta(hours=4), "evidence": "qr_scan", "category": "助老"},
    ]  # fmt: skip
    policy = attrs.evolve(POLICY, excluded_categories={"会议"})
    for kind in KINDS:
        out = evaluate_hours_frame(to_kind(frame_of(rows), kind), policy, now=NOW)
        assert column(out, "status") == ["rejected", "accepted"], kind
        assert column(out, "rejected_by") == ["hours.category", None], kind
    result = evaluate_hours(frame_of(rows), policy, now=NOW)
    labelled = result.to_pandas()
    assert list(labelled["status"].cat.categories) == [s.value for s in STATUSES]
    assert list(labelled["rejected_by"].cat.categories) == list(REJECTING_RULES)
    assert labelled["status"].cat.codes.tolist() == result.status.tolist()
    # the codes stay available
    assert result.as_dict()["status"].tolist() == [2, 0]


def test_unmet_labels_name_every_combination() -> None:
    assert UNMET_LABELS[0] == ""
    for bits, label in enumerate(UNMET_LABELS):
        names = [r for i, r in enumerate(UNMET_RULES) if bits >> i & 1]
        assert label.split("+") == names if names else label == ""
    frame = pd.DataFrame(
        {"volunteer": ["a", "b"], "day": [date(2025, 1, 2)] * 2, "minutes": [7000, 30000],
         "purposes": [1, 1]}
    )  # fmt: skip
    out = rate_stars_frame(
        frame, STAR_PROFILES["longgang"], AS_OF, registered_on={"a": date(2025, 5, 1),
                                                                 "b": date(2025, 5, 1)}
    )  # fmt: skip
    assert out["unmet"].tolist() == ["stars.months", "stars.months"]
    codes = rate_stars(
        frame, STAR_PROFILES["longgang"], AS_OF,
        registered_on={"a": date(2025, 5, 1), "b": date(2025, 5, 1)},
    ).unmet  # fmt: skip
    assert out["unmet"].cat.codes.tolist() == codes.tolist() == [1, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_names_are_kept(kind: str) -> None:
    frame = pd.DataFrame(
        {"volunteer_id": ["b", "a"], "service_date": [date(2025, 1, 2)] * 2,
         "counted_minutes": [6000, 60], "purposes": [1, 1]}
    )  # fmt: skip
    frame["service_date"] = pd.to_datetime(frame["service_date"])
    out = rate_stars_frame(to_kind(frame, kind), None, AS_OF)
    assert column(out, "volunteer_id") == ["a", "b"]
    assert column(out, "level") == [0, 1]
    back = Columns.of(frame).to_pandas()
    assert list(back.columns) == ["volunteer_id", "service_date", "counted_minutes", "purposes"]


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(
        st.one_of(st.integers(0, 10**6).map(lambda n: f"v{n}"), st.text(min_size=1, max_size=5)),
        min_size=1,
        max_size=30,
    ),
    kind=st.sampled_from(KINDS),
    out_kind=st.sampled_from(KINDS),
)
def test_ids_read_as_arrow_strings_go_out_as_the_same_frame(
    ids: list[str], kind: str, out_kind: str
) -> None:
    """Ids read from Arrow strings stay Arrow strings (no Python string is made) until they
    are read: a result sent out as a frame makes none, and the frame equals the one made from
    the ids read as Python strings."""
    from zhiyuan.bulk._frames import LazyIds

    frame = pd.DataFrame(
        {"volunteer_id": pd.array(ids, dtype="str"), "day": [20148] * len(ids),
         "minutes": [60 * (k + 1) for k in range(len(ids))], "purposes": [1] * len(ids)}
    )  # fmt: skip
    out = rate_stars(to_kind(frame, kind), None, AS_OF)
    lazy = out._volunteer_ids
    assert isinstance(lazy, LazyIds)
    got = out.to_frame(out_kind)
    assert lazy._objects is None  # no Python strings were made for the frame
    want = attrs.evolve(out, volunteer_ids=out.volunteer_ids).to_frame(out_kind)
    assert isinstance(out.volunteer_ids, np.ndarray)
    assert out.volunteer_ids.tolist() == sorted(set(ids))
    if out_kind == "pandas":
        pd.testing.assert_frame_equal(got, want)
    else:
        assert got.equals(want)
    again = pickle.loads(pickle.dumps(rate_stars(to_kind(frame, kind), None, AS_OF)))
    assert again.volunteer_ids.tolist() == out.volunteer_ids.tolist()  # to another process


def test_day_is_computed_from_start() -> None:
    start = int(datetime(2025, 3, 1, 23, 30, tzinfo=SH).timestamp())
    cols = Columns.of({"volunteer": ["v1"], "start": [start]})
    assert cols.get("day").tolist() == [(date(2025, 3, 1) - date(1970, 1, 1)).days]


@pytest.mark.parametrize("kind", ("polars", "pyarrow"))
def test_aware_times_and_categoricals_of_other_kinds(kind: str) -> None:
    day = datetime(2025, 3, 3, 23, tzinfo=SH)
    rows = [
        {"volunteer_id": "v1", "start": day, "end": day + timedelta(hours=2),
         "evidence": "gps", "category": "助老"}
    ]  # fmt: skip
    frame = frame_of(rows)
    frame["evidence"] = frame["evidence"].astype("category")
    other = to_kind(frame, kind)
    cols = Columns.of(other)
    assert cols.get("start").tolist() == [int(day.timestamp())]
    assert cols.evidence is not None and cols.evidence.tolist() == [
        list(Evidence).index(Evidence.GPS)
    ]
    assert cols.service_days().tolist() == [(date(2025, 3, 3) - date(1970, 1, 1)).days]
    naive = pl.DataFrame({"volunteer": ["v1"], "start": [datetime(2025, 3, 3, 8)]})
    with pytest.raises(InvalidValue, match="start"):
        Columns.of(naive if kind == "polars" else naive.to_arrow())


def test_status_is_read_from_codes_values_or_members() -> None:
    base = {"volunteer": ["a"] * 3, "day": [20000] * 3, "minutes": [60] * 3, "purposes": [1] * 3}
    for status in (
        [0, 1, 2],
        ["accepted", "needs_approval", "rejected"],
        list(STATUSES),
    ):
        out = rate_stars({**base, "status": status}, None, AS_OF)
        assert out.counted_minutes.tolist() == [60]
    with pytest.raises(InvalidValue, match="status"):
        Columns.of({**base, "status": ["accepted", "certified", "accepted"]})
    with pytest.raises(InvalidValue, match=r"status\[1\]"):
        Columns.of({**base, "status": [0, 3, 0]})


# --- row order -----------------------------------------------------------------------------


def shuffled_export(n: int, seed: int) -> dict[str, Any]:
    """``n`` records of 500 volunteers, each in start order, the whole export shuffled."""
    rng = np.random.default_rng(seed)
    vol = rng.integers(0, 500, n)
    start = int(datetime(2024, 1, 1, tzinfo=SH).timestamp()) + rng.integers(0, 300, n) * 86400
    start += rng.integers(0, 10, n) * 3600
    end = start + rng.integers(1, 180, n) * 60
    return {
        "volunteer": vol,
        "start": start,
        "end": end,
        "evidence": np.zeros(n, dtype=np.int64),
        "category": np.zeros(n, dtype=np.int64),
    }


def test_order_start_posts_by_start_and_answers_in_row_order() -> None:
    cols = shuffled_export(3000, 1)
    by_start = np.lexsort((cols["start"], cols["volunteer"]))
    sorted_cols = {k: v[by_start] for k, v in cols.items()}
    kw = {"categories": ("助老",)}
    got = evaluate_hours(Columns.of(cols, **kw), POLICY, now=NOW, order="start")
    ref = evaluate_hours(Columns.of(sorted_cols, **kw), POLICY, now=NOW)
    back = np.empty_like(by_start)
    back[by_start] = np.arange(len(by_start))
    assert got.counted_minutes.tolist() == ref.counted_minutes[back].tolist()
    assert got.status.tolist() == ref.status[back].tolist()
    assert not got.fallback.any()
    with pytest.raises(InvalidValue, match="order"):
        evaluate_hours(Columns.of(cols, **kw), POLICY, now=NOW, order="posted")


def test_a_shuffled_export_warns_that_it_takes_the_slow_path() -> None:
    cols = Columns.of(shuffled_export(40_000, 2), categories=("助老",))
    with pytest.warns(SlowPathWarning, match="order='start'"):
        slow = evaluate_hours(cols, HOUR_PROFILES["national"], now=NOW)
    assert int(slow.fallback.sum()) > 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = evaluate_hours(cols, HOUR_PROFILES["national"], now=NOW, order="start")
    assert not fast.fallback.any()


# --- points from a frame -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    rows=exports(),
    name=st.sampled_from(sorted(CONVERSION_PROFILES)),
    kind=st.sampled_from(KINDS),
)
def test_points_from_a_frame_equal_the_ledger_and_convert(
    rows: list[dict[str, Any]], name: str, kind: str
) -> None:
    """evaluate_hours_frame → convert_points_frame == ledger → rows → convert, record by record
    (the frame carries the record ids and the certification times the ledger would give)."""
    policy = attrs.evolve(CONVERSION_PROFILES[name], effective_from=date(2000, 1, 1))
    ledger = ledger_of(rows)
    certified = ledger.rows(as_of=AS_OF)
    expected = {r.record_id: r.points for r in convert(certified, policy).rows}
    if not rows:
        return
    when = {r.record_id: int(r.certified_at.timestamp()) for r in certified if r.certified_at}
    frame = frame_of(rows)
    frame["record_id"] = [f"r{i}" for i in range(len(rows))]
    frame["certified_at"] = [when.get(f"r{i}", -1) for i in range(len(rows))]
    evaluated = evaluate_hours_frame(to_kind(frame, kind), POLICY, now=NOW)
    out = convert_points_frame(evaluated, policy)
    assert type(out) is type(evaluated)
    got = dict(zip(column(out, "record_id"), column(out, "points"), strict=True))
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
