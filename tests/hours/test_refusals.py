"""Bad input gets a clear error and changes nothing (issue 14): what is not a record, ids that
are not text, reads about nobody, enums by value, policy collections of the wrong shape, the
fold without a cut-off; and a property over random (often invalid) calls: a refusal is always a
:class:`~zhiyuan.errors.ZhiyuanError` and leaves the ledger exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from support.hours import (
    CHENGYANG_VILLAGE,
    COUNTY,
    HAIAN,
    XIANGYANG,
    YOUYI,
    at,
    jurisdiction,
    minute_datetimes,
    record,
    registry,
    volunteer,
)
from zhiyuan.errors import InvalidValue, NotFound, ZhiyuanError
from zhiyuan.hours import (
    AUTO,
    HOUR_PROFILES,
    Certified,
    Evidence,
    HourLedger,
    HourPolicy,
    Posted,
    Purpose,
    Registered,
    ServiceRecord,
    fold,
)

NOW = at(2025, 3, 10, 12)


class Clock:
    """A clock the test moves."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def fresh(clock: Callable[[], datetime] = lambda: NOW, **kw: Any) -> HourLedger:
    return HourLedger(registry(), volunteers=[volunteer("v1"), volunteer("v2")], clock=clock, **kw)


def state(lg: HourLedger) -> tuple[Any, ...]:
    """Everything observable about the ledger (and its journal)."""
    vids = [v.id for v in lg.volunteers()]
    return (
        lg.journal.head,
        len(lg.journal),
        lg.entries,
        len(lg),
        lg.volunteers(),
        {v: lg.summary(v) for v in vids},
        {v: (lg.occupied(v), lg.day_minutes(v), [r.id for r in lg.records_of(v)]) for v in vids},
        {s: lg.minutes_by_volunteer(status=s) for s in ("submitted", "pending", "certified")},
        fold(lg),
    )


# --- what is not a record (item 8) -------------------------------------------------------------


@pytest.mark.parametrize("junk", [{"id": "x"}, None, "r1", 7, [record()], Evidence.GPS])
def test_post_refuses_what_is_not_a_record_and_changes_nothing(junk: Any) -> None:
    lg = fresh()
    lg.post(record("r0"), at=NOW)
    before = state(lg)
    with pytest.raises(InvalidValue) as err:
        lg.post(junk, at=NOW)
    assert err.value.field == "record" and "ServiceRecord" in err.value.reason
    with pytest.raises(InvalidValue) as err:
        lg.post_many([record("r1", start=at(2025, 3, 4, 9)), junk], at=NOW)
    assert err.value.field == "record"
    assert state(lg) == before  # the good record before the bad one was not kept either


@pytest.mark.parametrize("junk", [None, 5, "r1", {"r1": record()}, b"r1"])
def test_post_many_and_add_volunteers_need_collections(junk: Any) -> None:
    lg = fresh()
    before = state(lg)
    with pytest.raises(InvalidValue, match="records"):
        lg.post_many(junk, at=NOW)
    with pytest.raises(InvalidValue, match="volunteers"):
        lg.add_volunteers(junk)
    assert state(lg) == before
    assert lg.post_many(iter([record("r1")]), at=NOW)[0].counted_minutes == 60  # any iterable


@pytest.mark.parametrize("junk", [None, 3, ["r1"], {"id": "r1"}])
def test_ids_that_are_not_text_are_refused_not_looked_up(junk: Any) -> None:
    lg = fresh()
    lg.post(record("r1"), at=NOW)
    before = state(lg)
    calls: list[Callable[[], object]] = [
        lambda: lg.certify(junk, by="admin", at=NOW),
        lambda: lg.reject(junk, by="admin", reason="x", at=NOW),
        lambda: lg.reverse(junk, by="admin", reason="x", at=NOW),
        lambda: lg.status(junk),
        lambda: lg.record(junk),
        lambda: lg.outcome(junk),
        lambda: lg.minutes(junk),
        lambda: lg.summary(junk),
        lambda: lg.occupied(junk),
        lambda: lg.records_of(junk),
        lambda: lg.volunteer(junk),
        lambda: lg.certify("r1", by=junk, at=NOW),
        lambda: lg.reverse("r1", by="admin", reason=junk, at=NOW),
    ]
    if junk is not None:  # rows(volunteer_id=None) is every volunteer's
        calls.append(lambda: lg.rows(volunteer_id=junk))
    for call in calls:
        with pytest.raises(InvalidValue):
            call()
    assert state(lg) == before


# --- reads about nobody (item 5) ---------------------------------------------------------------


def test_reads_about_an_unregistered_volunteer_are_not_found() -> None:
    lg = fresh()
    lg.post(record("r1"), at=NOW)
    reads: list[Callable[[str], object]] = [
        lambda v: lg.minutes(v),
        lambda v: lg.minutes(v, status="pending", as_of=NOW),
        lambda v: lg.summary(v),
        lambda v: lg.rows(volunteer_id=v),
        lambda v: lg.occupied(v),
        lambda v: lg.day_minutes(v),
        lambda v: lg.records_of(v),
        lambda v: lg.volunteer(v),
    ]
    for read in reads:
        with pytest.raises(NotFound) as err:
            read("no-such-volunteer")
        assert err.value.key == "no-such-volunteer"
        assert isinstance(err.value, KeyError)
    # registered with nothing posted is zero, not an error
    assert lg.minutes("v2") == 0 and lg.summary("v2")["certified"] == 0
    assert lg.rows(volunteer_id="v2") == [] and lg.records_of("v2") == []
    assert lg.occupied("v2") == [] and lg.day_minutes("v2") == {}
    assert lg.minutes("v1", status="submitted") == 60


# --- enums by value (item 6) -------------------------------------------------------------------


def test_enum_arguments_take_members_or_values_through_one_converter() -> None:
    lg = fresh(policies=[HourPolicy(auto_certify=["qr_scan"])])
    lg.post(record("r1", evidence="qr_scan"), at=NOW)  # type: ignore[arg-type]
    lg.post(record("r2", start=at(2025, 3, 4, 9), evidence="gps"), at=NOW)  # type: ignore[arg-type]
    assert lg.record("r1").evidence is Evidence.QR_SCAN
    assert lg.status("r1") == "certified"  # auto-certified: the policy's set took the value too
    assert lg.minutes("v1", evidence="qr_scan") == lg.minutes("v1", evidence=Evidence.QR_SCAN) == 60
    assert lg.minutes("v1", status="submitted", evidence="gps") == 60
    assert lg.minutes("v1", purpose="points") == lg.minutes("v1", purpose=Purpose.POINTS) == 60
    assert HourPolicy().purposes("self_report") == HourPolicy().purposes(Evidence.SELF_REPORT)
    for kw, field in [
        ({"evidence": "QR"}, "evidence"),
        ({"evidence": 1}, "evidence"),
        ({"purpose": "fame"}, "purpose"),
        ({"status": "done"}, "status"),
        ({"status": None}, "status"),
        ({"period": (date(2025, 3, 5), date(2025, 3, 1))}, "period"),
        ({"period": (at(2025, 3, 1), at(2025, 3, 5))}, "period"),
        ({"period": "march"}, "period"),
        ({"weighted": "yes"}, "weighted"),
        ({"category": 5}, "category"),
        ({"as_of": datetime(2025, 3, 5)}, "as_of"),
    ]:
        with pytest.raises(InvalidValue) as err:
            lg.minutes("v1", **kw)
        assert err.value.field == field, kw
    with pytest.raises(InvalidValue) as err:
        lg.minutes("v1", evidence="carrier_pigeon")
    assert "qr_scan" in err.value.reason and "admin_topup" in err.value.reason  # the allowed values
    with pytest.raises(InvalidValue, match="evidence"):
        HourPolicy().purposes("fax")
    with pytest.raises(InvalidValue, match="purpose"):
        lg.minutes_by_volunteer(purpose="fame")
    with pytest.raises(InvalidValue, match="purpose"):
        lg.totals_by_region(purpose="fame")


# --- policy collections (item 7) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["excluded_categories", "schedule_capped", "auto_certify", "counts_toward",
              "category_weights"],
)  # fmt: skip
@pytest.mark.parametrize("bad", [None, True, 3, "qr_scan", b"gps"])
def test_policy_collections_of_the_wrong_shape_name_their_field(field: str, bad: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        HourPolicy(**{field: bad})
    assert err.value.field.startswith(field)


def test_policy_collections_hold_the_right_things() -> None:
    for kw, field in [
        ({"excluded_categories": {"会议": 1}}, "excluded_categories"),  # a mapping is not a set
        ({"excluded_categories": ["会议", ""]}, "excluded_categories"),
        ({"excluded_categories": [3]}, "excluded_categories"),
        ({"schedule_capped": {"admin_topup": True}}, "schedule_capped"),
        ({"auto_certify": ["qr_scan", "fax"]}, "auto_certify"),
        ({"counts_toward": [("stars", ["gps"])]}, "counts_toward"),
        ({"counts_toward": {"fame": ["gps"]}}, "counts_toward"),
        ({"counts_toward": {"stars": None}}, "counts_toward.stars"),
        ({"counts_toward": {"stars": "gps"}}, "counts_toward.stars"),
        ({"counts_toward": {"points": ["fax"]}}, "counts_toward.points"),
        ({"category_weights": [("助老", 150)]}, "category_weights"),
        ({"category_weights": {1: 150}}, "category_weights"),
        ({"category_weights": {"助老": None}}, "category_weights.助老"),
    ]:
        with pytest.raises(InvalidValue) as err:
            HourPolicy(**kw)
        assert err.value.field == field, kw
    p = HourPolicy(
        excluded_categories=("会议", "聚餐"),
        schedule_capped=["admin_topup"],
        auto_certify=frozenset({Evidence.QR_SCAN, "gps"}),
        counts_toward={"stars": ["qr_scan"], Purpose.POINTS: [Evidence.GPS]},
        category_weights={"应急救援": 150},
    )
    assert p.excluded_categories == {"会议", "聚餐"}
    assert p.schedule_capped == {Evidence.ADMIN_TOPUP}
    assert p.auto_certify == {Evidence.QR_SCAN, Evidence.GPS}
    assert p.counts_toward == {
        Purpose.STARS: {Evidence.QR_SCAN},
        Purpose.POINTS: {Evidence.GPS},
    }
    assert HourPolicy(excluded_categories=[]).excluded_categories == frozenset()


# --- the fold means what the ledger means (item 4) ---------------------------------------------


def test_the_fold_judges_the_notice_on_the_ledgers_clock() -> None:
    # Regression: a ledger on its own clock said "pending" while fold(entries) without as_of
    # said "certified" (judged at the wall clock).
    clock = Clock(at(2025, 3, 5, 9))
    lg = fresh(clock, policies=[HOUR_PROFILES["jindu"]])  # a 3-day notice
    lg.post(record("r1"), at=at(2025, 3, 3, 12))
    lg.certify("r1", by="admin", at=at(2025, 3, 4, 9))
    assert lg.minutes("v1", status="pending") == 60 and lg.minutes("v1") == 0
    assert fold(lg) == {("v1", "pending"): 60}
    assert fold(lg.entries, clock=lg.journal.clock) == fold(lg)
    clock.t = at(2025, 3, 7, 9)  # the notice is over
    assert lg.minutes("v1") == 60
    assert fold(lg) == {("v1", "certified"): 60}
    assert fold(lg, as_of=at(2025, 3, 5)) == {("v1", "pending"): 60}  # as_of: the same as before


@settings(max_examples=100)
@given(
    certify_after=st.lists(st.integers(0, 6 * 24 * 60), min_size=3, max_size=3),
    moments=st.lists(st.integers(0, 12 * 24 * 60), min_size=1, max_size=4),
    notice=st.integers(0, 5),
)
def test_the_fold_agrees_with_every_query_on_any_clock(
    certify_after: list[int], moments: list[int], notice: int
) -> None:
    start = at(2025, 3, 3, 12)
    clock = Clock(start + timedelta(days=20))
    lg = fresh(clock, policies=[HourPolicy(notice_days=notice)])
    for k, minutes in enumerate(certify_after):
        rid = f"r{k}"
        lg.post(record(rid, vid=f"v{k % 2 + 1}", start=at(2025, 3, 1 + k, 9)), at=start)
        if minutes % 5:
            lg.certify(rid, by="admin", at=start + timedelta(minutes=minutes))
    for m in moments:
        clock.t = start + timedelta(minutes=m)
        for cut in (None, clock.t):
            folded = fold(lg, as_of=cut)
            assert folded == fold(lg.entries, as_of=cut, clock=clock)
            for v in ("v1", "v2"):
                for s, n in lg.summary(v, as_of=cut).items():
                    assert folded.get((v, s), 0) == n, (cut, v, s)


def test_the_fold_refuses_what_is_not_a_log_of_hour_entries() -> None:
    lg = fresh()
    lg.post(record("r1"), at=NOW)
    posted = [e for e in lg.entries if isinstance(e, Posted)]
    orphan = Certified(record_id="r9", by="admin", at=NOW, notice_until=NOW)
    for bad in (None, "entries", {"a": 1}, [1], [*posted, *posted], [orphan]):
        with pytest.raises(InvalidValue, match="entries"):
            fold(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="clock"):
        fold(posted, clock=NOW)  # type: ignore[arg-type]
    assert fold(posted, clock=lambda: NOW) == {("v1", "submitted"): 60}
    assert all(isinstance(e, Registered | Posted) for e in lg.entries)


# --- a refusal changes nothing (item 9) --------------------------------------------------------

JUNK = st.sampled_from(
    [None, 0, -1, 1.5, True, "", " ", "x", b"r1", [], ["r1"], {"id": "r1"}, Evidence.GPS,
     datetime(2025, 3, 3, 12), float("nan"), "\ud800"]
)  # fmt: skip
IDS = st.one_of(st.sampled_from(["r1", "r2", "r3", "r4"]), st.sampled_from(["r1", "r2"]), JUNK)
WHO = st.one_of(st.just("admin"), st.sampled_from(["district", "stranger", AUTO]), JUNK)
AT = st.one_of(
    st.just(NOW),
    st.sampled_from([NOW - timedelta(days=9), NOW + timedelta(days=1), at(2025, 3, 3)]),
    minute_datetimes(datetime(2025, 3, 1), days=12),
    JUNK,
)


@st.composite
def records(draw: st.DrawFn) -> ServiceRecord:
    """Well-formed records that the ledger may still refuse (unknown volunteer, organization or
    region, in the future, a used id) or the policy reject."""
    start = draw(minute_datetimes(datetime(2025, 3, 1), days=10))
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        kw["scheduled_start"] = start + timedelta(minutes=draw(st.integers(-120, 120)))
        kw["scheduled_end"] = kw["scheduled_start"] + timedelta(minutes=draw(st.integers(1, 300)))
    if draw(st.booleans()):
        kw["recorded_at"] = start + timedelta(days=draw(st.integers(0, 12)))
    return record(
        draw(st.sampled_from(["r1", "r2", "r3", "r4"])),
        vid=draw(st.sampled_from(["v1", "v2", "v3", "ghost"])),
        start=start,
        minutes=draw(st.one_of(st.integers(1, 600), st.integers(1400, 3000))),
        org=draw(st.sampled_from(["o-xy", "o-ds", "o-zf", "o-ghost"])),
        region=draw(st.sampled_from([YOUYI, HAIAN, CHENGYANG_VILLAGE, "110101001001"])),
        category=draw(st.sampled_from(["助老", "会议"])),
        evidence=draw(st.sampled_from(Evidence)),
        checkout_missing=draw(st.booleans()),
        **kw,
    )


RECORDS = st.one_of(records(), records(), records(), JUNK)
VOLUNTEERS = st.one_of(
    st.sampled_from(
        [
            volunteer("v3"),
            volunteer("v1"),
            volunteer("v1", name="另一个人"),  # another under a used id: Conflict
            volunteer("v9", home_region="110101001001"),  # not in the tree
        ]
    ),
    JUNK,
)

OPERATIONS = st.one_of(
    st.tuples(st.just("post"), RECORDS, AT),
    st.tuples(st.just("post_many"), st.one_of(st.lists(RECORDS, max_size=4), JUNK), AT),
    st.tuples(st.just("certify"), IDS, WHO, AT),
    st.tuples(st.just("certify"), IDS, WHO, AT),
    st.tuples(st.just("reject"), IDS, WHO, st.one_of(st.just("不实"), st.just("不实"), JUNK), AT),
    st.tuples(st.just("reverse"), IDS, WHO, st.one_of(st.just("重复"), st.just("重复"), JUNK), AT),
    st.tuples(st.just("add_volunteer"), VOLUNTEERS, AT),
    st.tuples(st.just("add_volunteers"), st.one_of(st.lists(VOLUNTEERS, max_size=3), JUNK)),
    st.tuples(
        st.just("read"),
        st.one_of(st.sampled_from(["v1", "v2"]), st.just("nobody"), JUNK),
        st.one_of(st.sampled_from(["certified", "pending", "submitted"]), JUNK),
        st.one_of(st.none(), st.sampled_from(["gps", Evidence.QR_SCAN, "stars"])),
        st.one_of(st.none(), st.sampled_from(["stars", Purpose.POINTS, "gps"])),
        st.one_of(st.none(), st.just(NOW), AT),
    ),
)


def apply(lg: HourLedger, op: tuple[Any, ...]) -> None:
    name, *args = op
    if name == "post":
        lg.post(args[0], at=args[1])
    elif name == "post_many":
        lg.post_many(args[0], at=args[1])
    elif name == "certify":
        lg.certify(args[0], by=args[1], at=args[2])
    elif name == "reject":
        lg.reject(args[0], by=args[1], reason=args[2], at=args[3])
    elif name == "reverse":
        lg.reverse(args[0], by=args[1], reason=args[2], at=args[3])
    elif name == "add_volunteer":
        lg.add_volunteer(args[0], at=args[1])
    elif name == "add_volunteers":
        lg.add_volunteers(args[0])
    else:
        vid, status, evidence, purpose, as_of = args
        lg.minutes(vid, status=status, evidence=evidence, purpose=purpose, as_of=as_of)
        lg.rows(volunteer_id=vid, status=status, as_of=as_of)
        lg.totals_by_region(status=status, purpose=purpose, as_of=as_of)


@settings(max_examples=300)
@given(ops=st.lists(OPERATIONS, min_size=1, max_size=14))
def test_a_refusal_leaves_the_ledger_exactly_as_it_was(ops: list[tuple[Any, ...]]) -> None:
    lg = fresh(
        policies=[HourPolicy(excluded_categories=["会议"], notice_days=2, daily_cap_minutes=480)],
        jurisdiction=jurisdiction({"admin": XIANGYANG, "district": COUNTY}),
    )
    lg.post(record("r1", start=at(2025, 3, 3, 9)), at=at(2025, 3, 3, 12))
    lg.post(record("r2", vid="v2", start=at(2025, 3, 4, 9)), at=at(2025, 3, 4, 12))
    lg.certify("r1", by="admin", at=at(2025, 3, 4, 9))
    refused = 0
    for op in ops:
        before = state(lg)
        try:
            apply(lg, op)
        except ZhiyuanError as exc:  # anything else escapes and fails the test
            refused += 1
            event(f"{op[0]} refused: {type(exc).__name__}")
            assert state(lg) == before, op
        else:
            event(f"{op[0]} done")
    assert lg.journal.verify().ok
    assert refused <= len(ops)
