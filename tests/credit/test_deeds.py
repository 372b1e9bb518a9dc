"""Good-deed points and deductions (:mod:`zhiyuan.credit.deeds`): schemes as data, claims,
approvals under yearly caps, deductions that follow the ledger's clawback, reversals, and the
invariants of any sequence of them (the ledger balances, caps hold, a replay gives the same
state, every entry round-trips through JSON).

Every datetime is explicit and aware (Asia/Shanghai); nothing here reads the wall clock.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, structure_tagged, to_json, to_toml, unstructure
from zhiyuan.credit import (
    DEED_PROFILES,
    ClawbackRule,
    Deed,
    DeedBook,
    DeedEntry,
    DeedEvidence,
    DeedHolder,
    DeedScheme,
    DeedState,
    Indicator,
    PointsLedger,
    PostingKind,
    approval_region,
    fold_deeds,
    owed_account,
    site_account,
    team_account,
    volunteer_account,
)
from zhiyuan.errors import (
    Conflict,
    InvalidInput,
    InvalidValue,
    NotFound,
    UnknownRegion,
    ZhiyuanError,
)
from zhiyuan.hierarchy import Level, load_default
from zhiyuan.journal import Journal
from zhiyuan.profiles import Source

SH = SHANGHAI
T0 = datetime(2025, 3, 1, 9, tzinfo=SH)
VILLAGE = "370285102259"  # 莱西市 夏格庄镇 双山村
TOWN = "370285102000"  # 夏格庄镇
TREE = load_default()
ISSUER = "issuer:夏格庄镇"


def t(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def d(day: int, month: int = 3, year: int = 2025) -> date:
    return date(year, month, day)


SCHEME = DeedScheme(
    name="shuangshan",
    effective_from=date(2024, 1, 1),
    indicators=[
        Indicator(id="help", name="邻里互助", name_en="helping neighbours", points=3, yearly_cap=7),
        Indicator(
            id="brave",
            name="见义勇为",
            name_en="acting bravely",
            points=10,
            level="township",
            evidence=["certificate", "witness"],
        ),
        Indicator(id="custom", name="移风易俗", name_en="simpler weddings and funerals", points=2),
        Indicator(
            id="compact", name="违反村规民约", name_en="breaking the village rules", points=-5
        ),
        Indicator(
            id="elders",
            name="不赡养老人",
            name_en="not supporting one's parents",
            points=-10,
            yearly_cap=15,
        ),
        Indicator(
            id="activity",
            name="开展活动",
            name_en="holding an activity",
            points=4,
            holder="site",
            evidence=["platform", "photo"],
        ),
        Indicator(id="rating", name="群众评价差", name_en="poor rating", points=-3, holder="site"),
        Indicator(
            id="team_service",
            name="队伍服务",
            name_en="a team's service",
            points=6,
            holder="team",
            yearly_cap=10,
        ),
    ],
)


def book(scheme: DeedScheme | list[DeedScheme] = SCHEME, **kw: Any) -> DeedBook:
    return DeedBook(PointsLedger(), schemes=scheme, tree=TREE, **kw)


DAY1 = d(1)


def claim(b: DeedBook, did: str, holder: str, ind: str, day: date = DAY1, **kw: Any) -> Deed:
    kw.setdefault("region_code", VILLAGE)
    kw.setdefault("evidence", "witness")
    kw.setdefault("at", t(1))
    return b.claim(did, holder, ind, day=day, **kw)


def state(b: DeedBook) -> tuple[Any, ...]:
    """Everything a book and its ledger hold."""
    return (
        len(b.journal),
        b.ledger.accounts(),
        [(x.id, x.state, x.points) for x in b.deeds()],
        dict(b._state.tally),
    )


# --- schemes as data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"points": 0}, "points"),
        ({"points": True}, "points"),
        ({"points": 2 * 10**9}, "points"),
        ({"points": 1.5}, "points"),
        ({"id": "a#b"}, "id"),
        ({"id": ""}, "id"),
        ({"name": " "}, "name"),
        ({"name_en": ""}, "name_en"),
        ({"evidence": []}, "evidence"),
        ({"evidence": ["gps"]}, "evidence"),
        ({"evidence": "photo"}, "evidence"),
        ({"level": "street"}, "level"),
        ({"yearly_cap": 0}, "yearly_cap"),
        ({"yearly_cap": -3}, "yearly_cap"),
        ({"holder": "household"}, "holder"),
    ],
)
def test_a_bad_indicator_names_its_field(kw: dict[str, Any], field: str) -> None:
    base: dict[str, Any] = {"id": "x", "name": "好事", "name_en": "a good turn", "points": 1}
    with pytest.raises(InvalidValue) as err:
        Indicator(**{**base, **kw})
    assert err.value.field == field


def test_a_scheme_refuses_two_indicators_with_one_id_and_a_personal_issuer() -> None:
    i = Indicator(id="x", name="好事", name_en="a good turn", points=1)
    with pytest.raises(InvalidValue) as err:
        DeedScheme(indicators=[i, attrs.evolve(i, points=2)])
    assert (err.value.field, err.value.value) == ("indicators", "x")
    with pytest.raises(InvalidValue) as err:
        DeedScheme(issuer="volunteer:v1")
    assert err.value.field == "issuer"
    with pytest.raises(InvalidValue):
        DeedScheme(indicators=[{"id": "x"}])


def test_a_scheme_explains_itself_with_its_indicators() -> None:
    text = SCHEME.explain()
    assert "shuangshan: 公益行为积分办法 / good-deed points scheme" in text
    assert "2024-01-01" in text and "none given" in text
    assert "brave 见义勇为 / acting bravely: +10 (乡级 township)" in text
    assert "elders 不赡养老人 / not supporting one's parents: -10 (村级 village, 每年至多" in text
    assert "activity 开展活动 / holding an activity: +4" in text and ", site)" in text


def test_the_shipped_profiles_cite_reported_sources_and_name_deductions() -> None:
    laixi, fucheng = DEED_PROFILES["laixi"], DEED_PROFILES["fucheng"]
    assert DEED_PROFILES.for_region("370285102259") is laixi  # a village of 莱西
    assert DEED_PROFILES.for_region("510703") is fucheng  # 涪城区
    for s in (laixi, fucheng):
        assert s.source is not None and not s.source.verified
        assert "Reported" in (s.source.note or "")
        assert all(i.yearly_cap is None for i in s.indicators)  # none was found
    assert {i.id: i.points for i in laixi.indicators} == {
        "elders": 3,
        "good_turn": 3,
        "charity": 4,
        "blood": 5,
        "study": 5,
        "litter": -5,
    }
    assert [(i.name, i.points) for i in fucheng.indicators if i.deduction] == [
        ("违反居规民约", -5),
        ("污染水资源", -5),
        ("子女不履行赡养义务", -10),
    ]
    assert laixi.effective_from == date(2020, 1, 1)


def _indicators() -> st.SearchStrategy[Indicator]:
    words = st.text(
        st.characters(codec="utf-8", blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8
    ).filter(str.strip)
    return st.builds(
        Indicator,
        id=st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
        name=words,
        name_en=words,
        points=st.integers(-1000, 1000).filter(bool),
        evidence=st.frozensets(st.sampled_from(list(DeedEvidence)), min_size=1),
        level=st.sampled_from(list(Level)),
        yearly_cap=st.none() | st.integers(1, 10**6),
        holder=st.sampled_from(list(DeedHolder)),
    )


@settings(max_examples=60)
@given(
    st.lists(_indicators(), max_size=5, unique_by=lambda i: i.id),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.sampled_from(list(ClawbackRule)),
    st.none() | st.just("issuer:某镇"),
)
def test_a_random_scheme_round_trips_through_json_and_toml(
    indicators: list[Indicator], day: date, rule: ClawbackRule, issuer: str | None
) -> None:
    s = DeedScheme(
        name="s", effective_from=day, indicators=indicators, clawback=rule, issuer=issuer
    )
    assert from_json(to_json(s), DeedScheme) == s
    assert from_toml(to_toml(s), DeedScheme) == s
    for p in DEED_PROFILES.values():
        assert from_toml(to_toml(p), DeedScheme) == p


def test_a_scheme_with_a_bad_indicator_in_json_names_the_path() -> None:
    data = unstructure(SCHEME)
    data["indicators"][1]["points"] = 0
    with pytest.raises((InvalidInput, InvalidValue)) as err:
        from_json(to_json(data), DeedScheme)
    assert "points" in str(err.value)


def test_approval_region_walks_up_to_the_level_or_stays() -> None:
    assert approval_region(VILLAGE, Level.VILLAGE) == VILLAGE
    assert approval_region(VILLAGE, "township") == TOWN
    assert approval_region(VILLAGE, Level.COUNTY) == "370285000000"
    assert approval_region(TOWN, Level.VILLAGE) == TOWN  # a deed above the level: its own
    with pytest.raises(InvalidValue):
        approval_region("37x", Level.VILLAGE)
    with pytest.raises(InvalidValue) as err:
        approval_region(VILLAGE, "street")
    assert err.value.field == "level"


# --- claims --------------------------------------------------------------------------------


def test_a_claim_keeps_the_indicator_of_the_scheme_in_force_on_its_day() -> None:
    later = attrs.evolve(
        SCHEME,
        name="shuangshan-2025",
        effective_from=date(2025, 6, 1),
        indicators=[attrs.evolve(SCHEME.indicator("help"), points=5, yearly_cap=None)],
    )
    b = book([later, SCHEME])
    old = claim(b, "d1", "v1", "help", d(31, 5), at=t(100))
    new = claim(b, "d2", "v1", "help", d(1, 6), at=t(100))
    assert (old.claim.scheme, old.claim.indicator.points) == ("shuangshan", 3)
    assert (new.claim.scheme, new.claim.indicator.points) == ("shuangshan-2025", 5)
    b.schemes = ()  # the schemes gone: recorded claims still approve by what they keep
    assert b.approve("d2", by="村评议小组", at=t(101)).points == 5
    assert b.ledger.balance("issuer:shuangshan-2025") == -5


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"ind": "nope"}, NotFound, None),
        ({"evidence": "photo", "ind": "brave"}, InvalidValue, "evidence"),
        ({"evidence": "gps"}, InvalidValue, "evidence"),
        ({"day": d(5)}, InvalidValue, "day"),  # after the claim
        ({"day": d(31, 12, 2023)}, InvalidValue, "day"),  # before the scheme
        ({"day": datetime(2025, 3, 1, tzinfo=SH)}, InvalidValue, "day"),
        ({"region_code": "370285102999"}, UnknownRegion, None),
        ({"region_code": "abc"}, InvalidValue, "region_code"),
        ({"did": "d#1"}, InvalidValue, "id"),
        ({"holder": ""}, InvalidValue, "holder"),
        ({"at": datetime(2025, 3, 2, 9)}, InvalidValue, "at"),
        ({"note": 5}, InvalidValue, "note"),
    ],
)
def test_a_bad_claim_records_nothing(kw: dict[str, Any], error: type, field: str | None) -> None:
    b = book()
    claim(b, "d0", "v1", "help")
    before = state(b)
    args = {"did": "d1", "holder": "v1", "ind": "help", "day": d(1)}
    args.update({k: kw.pop(k) for k in list(kw) if k in args})
    with pytest.raises(error) as err:
        claim(b, args["did"], args["holder"], args["ind"], args["day"], **kw)
    if field is not None:
        assert err.value.field == field
    assert state(b) == before


def test_without_a_scheme_a_claim_says_so() -> None:
    b = book([])
    with pytest.raises(InvalidValue) as err:
        claim(b, "d1", "v1", "help")
    assert err.value.field == "day" and "no good-deed scheme" in str(err.value)


def test_the_same_claim_again_is_a_no_op_and_another_under_its_id_a_conflict() -> None:
    b = book()
    first = claim(b, "d1", "v1", "help", note="帮邻居收麦")
    n = len(b.journal)
    assert claim(b, "d1", "v1", "help", note="帮邻居收麦") == first
    assert claim(b, "d1", "v1", "help", note="帮邻居收麦", at=None) == first  # at: the first
    assert len(b.journal) == n
    with pytest.raises(Conflict):
        claim(b, "d1", "v2", "help")
    with pytest.raises(Conflict):
        claim(b, "d1", "v1", "help", at=t(2))
    assert len(b.journal) == n and b.deed("d1").claim.note == "帮邻居收麦"


# --- approval, rejection, the cap ------------------------------------------------------------


def test_an_approved_good_deed_earns_points_named_in_both_languages() -> None:
    b = book()
    claim(b, "d1", "v1", "brave", evidence="certificate")
    deed = b.approve("d1", by="镇文明办", at=t(2), note="公安机关证明")
    assert (deed.state, deed.points) == (DeedState.APPROVED, 10)
    p = b.ledger.posting("d1#deed")
    assert (p.kind, p.source, p.target, p.amount, p.ref) == (
        PostingKind.EARN,
        "issuer:shuangshan",
        volunteer_account("v1"),
        10,
        "d1",
    )
    assert "见义勇为" in p.note and "acting bravely" in p.note
    assert b.ledger.balances("v1", as_of=t(3)).available == 10
    assert deed.approval is not None and deed.approval.by == "镇文明办"
    assert "[deeds.approved] 镇文明办 审核通过，记 10 分 / approved by 镇文明办: 10 posted" in (
        deed.explain()
    )
    # the issuer the caller names is used when the scheme names none, and the scheme's wins
    claim(b, "d2", "v2", "help")
    assert b.approve("d2", by="a", at=t(2), issuer=ISSUER).approval.issuer == ISSUER  # type: ignore[union-attr]
    b.schemes = attrs.evolve(SCHEME, issuer="issuer:莱西")
    claim(b, "d3", "v2", "custom")
    assert b.approve("d3", by="a", at=t(2), issuer=ISSUER).approval.issuer == "issuer:莱西"  # type: ignore[union-attr]
    assert b.ledger.total() == 0


def test_approving_pays_what_the_person_owes_first() -> None:
    b = book()
    b.ledger.earn("e1", "v1", 2, at=t(0), issuer=ISSUER)
    b.award("x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(1))
    assert b.ledger.balance(owed_account("v1")) == -3
    claim(b, "d1", "v1", "help", at=t(2))
    b.approve("d1", by="a", at=t(3))
    assert b.ledger.posting("d1#deed#settle").amount == 3
    assert b.ledger.balances("v1", as_of=t(4)).net == 0


def test_the_yearly_cap_cuts_and_says_by_how_much_and_a_reversal_frees_room() -> None:
    b = book()
    got = []
    for k in range(1, 5):
        claim(b, f"d{k}", "v1", "help", d(k), at=t(5))
        got.append(b.approve(f"d{k}", by="a", at=t(6)))
    assert [(x.points, x.approval.cut, x.approval.prior) for x in got] == [  # type: ignore[union-attr]
        (3, 0, 0),
        (3, 0, 3),
        (1, 2, 6),
        (0, 3, 7),
    ]
    text = got[2].explain()
    assert "「邻里互助」2025 年每人至多 7 分：此前已计 6 分，核减 2 分" in text
    assert "helping neighbours: at most 7 per holder in 2025; 6 counted before, 2 cut" in text
    assert b.journal.find(b.ledger.name, "d4#deed") is None  # nothing left to post
    assert b.counted(volunteer_account("v1"), "help", 2025) == 7
    assert b.ledger.balance(volunteer_account("v1")) == 7
    b.reverse("d1", by="a", reason="重复申报", at=t(7))
    assert b.counted(volunteer_account("v1"), "help", 2025) == 4
    claim(b, "d5", "v1", "help", d(6), at=t(8))
    assert b.approve("d5", by="a", at=t(8)).points == 3
    # another person, another year: their own caps
    claim(b, "d6", "v2", "help", d(6), at=t(8))
    claim(b, "d7", "v1", "help", d(2, 1, 2026), at=t(400))
    assert b.approve("d6", by="a", at=t(9)).points == 3
    assert b.approve("d7", by="a", at=t(401)).approval.prior == 0  # type: ignore[union-attr]
    assert b.counted(volunteer_account("v1"), "help", 2026) == 3


def test_a_deduction_cap_limits_what_is_taken_off_in_a_year() -> None:
    b = book()
    b.ledger.earn("e1", "v1", 100, at=t(0), issuer=ISSUER)
    taken = [
        b.award(
            f"x{k}",
            "v1",
            "elders",
            day=d(k),
            region_code=VILLAGE,
            evidence="review",
            by="a",
            at=t(5),
        ).points
        for k in range(1, 4)
    ]
    assert taken == [-10, -5, 0]
    assert b.ledger.balances("v1", as_of=t(6)).net == 85
    assert "核减 5 分" in b.deed("x2").explain()


def test_rejected_deeds_post_nothing_and_cannot_be_approved() -> None:
    b = book()
    claim(b, "d1", "v1", "help")
    deed = b.reject("d1", by="村评议小组", reason="无人证实", at=t(2))
    assert (deed.state, deed.points) == (DeedState.REJECTED, 0)
    assert (
        "[deeds.rejected] 村评议小组 驳回：无人证实 / rejected by 村评议小组: 无人证实"
        in deed.explain()
    )
    n = len(b.journal)
    assert b.reject("d1", by="村评议小组", reason="无人证实") == deed  # again: a no-op
    for call in (
        lambda: b.approve("d1", by="a", at=t(3)),
        lambda: b.reverse("d1", by="a", reason="x", at=t(3)),
        lambda: b.reject("d1", by="b", reason="y", at=t(3)),
    ):
        with pytest.raises(Conflict, match="已驳回"):
            call()
    assert len(b.journal) == n and b.ledger.accounts() == {}


def test_decisions_are_idempotent_and_refuse_what_the_state_does_not_allow() -> None:
    b = book()
    claim(b, "d1", "v1", "help")
    with pytest.raises(NotFound):
        b.approve("nope", by="a", at=t(2))
    with pytest.raises(InvalidValue) as err:
        b.approve("d1", by="a", at=t(0))  # before the claim
    assert err.value.field == "at"
    with pytest.raises(Conflict, match="已申报"):
        b.reverse("d1", by="a", reason="x", at=t(2))
    with pytest.raises(InvalidValue):
        b.approve("d1", by="a", at=t(2), issuer="volunteer:v9")
    with pytest.raises(InvalidValue):
        b.reject("d1", by="a", reason=" ", at=t(2))
    assert b.deed("d1").state is DeedState.CLAIMED and len(b.journal) == 1
    deed = b.approve("d1", by="a", at=t(2))
    before = state(b)
    assert b.approve("d1", by="a") == deed
    assert b.approve("d1", by="a", at=t(2)) == deed
    assert state(b) == before
    with pytest.raises(Conflict, match="已通过"):
        b.approve("d1", by="b", at=t(2))
    with pytest.raises(Conflict):
        b.approve("d1", by="a", at=t(3))
    with pytest.raises(InvalidValue):
        b.reverse("d1", by="a", reason="x", at=t(1))  # before the approval
    assert state(b) == before


def test_a_deed_can_be_read_as_of_a_moment() -> None:
    b = book()
    claim(b, "d1", "v1", "help")
    b.approve("d1", by="a", at=t(3))
    b.reverse("d1", by="a", reason="弄错了", at=t(5))
    assert b.deed("d1", as_of=t(2)).state is DeedState.CLAIMED
    assert b.deed("d1", as_of=t(4)).points == 3
    assert b.deed("d1").state is DeedState.REVERSED
    with pytest.raises(NotFound):
        b.deed("d1", as_of=t(0))
    assert [x.id for x in b.deeds(state="reversed")] == ["d1"]
    assert b.deeds(holder="v2") == [] and len(b) == 1 and list(b) == b.deeds()
    with pytest.raises(InvalidValue):
        b.deeds(state="lost")


# --- deductions ------------------------------------------------------------------------------


def test_a_deduction_takes_the_soonest_expiring_lots_first_and_a_reversal_gives_them_back() -> None:
    b = book()
    june = datetime(2025, 6, 30, tzinfo=SH)
    b.ledger.earn("e1", "v1", 3, at=t(0), issuer=ISSUER, expires_at=june)
    b.ledger.earn("e2", "v1", 10, at=t(0), issuer=ISSUER)
    deed = b.award(
        "x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(1)
    )
    assert deed.points == -5
    legs = [b.ledger.posting(f"x1#deduct#{k}") for k in (1, 2)]
    assert [(p.lot, p.amount, p.kind, p.target) for p in legs] == [
        ("e1", 3, PostingKind.CLAWBACK, "issuer:shuangshan"),
        ("e2", 2, PostingKind.CLAWBACK, "issuer:shuangshan"),
    ]
    assert all("违反村规民约" in p.note and "breaking the village rules" in p.note for p in legs)
    assert b.journal.find(b.ledger.name, "x1#deduct#owed") is None
    assert b.ledger.balances("v1", as_of=t(2)).available == 8
    with pytest.raises(InvalidValue):  # a deduction's legs are not a spending to refund
        b.ledger.refund(legs)
    back = b.reverse("x1", by="a", reason="查明系误报", at=t(2))
    assert "[deeds.reversed] a 撤销，退还 5 分：查明系误报" in back.explain()
    lots = {(lot.amount, lot.expires_at) for lot in b.ledger.lots("v1")}
    assert (3, june) in lots and (2, None) in lots  # each lot with its own dates
    assert b.ledger.balances("v1", as_of=t(3)).available == 13
    assert b.ledger.total() == 0


def test_a_deduction_beyond_the_balance_is_owed_and_paid_by_later_points() -> None:
    b = book()
    b.ledger.earn("e1", "v1", 2, at=t(0), issuer=ISSUER)
    b.award("x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(1))
    assert b.ledger.posting("x1#deduct#1").amount == 2
    assert b.ledger.posting("x1#deduct#owed").source == owed_account("v1")
    assert b.ledger.balances("v1", as_of=t(2)).net == -3
    b.ledger.earn("e2", "v1", 4, at=t(2), issuer=ISSUER)  # pays the 3 owed
    assert b.ledger.balance(owed_account("v1")) == 0
    b.reverse("x1", by="a", reason="误报", at=t(3))
    # the 2 from e1 come back in its lot, the 3 paid off since come back as new points
    assert b.ledger.posting("x1#deduct#owed#restore#paid").amount == 3
    assert b.journal.find(b.ledger.name, "x1#deduct#owed#restore") is None
    assert b.ledger.balances("v1", as_of=t(4)).net == 6 and b.ledger.total() == 0


def test_a_reversed_deduction_still_owed_cancels_the_debt() -> None:
    b = book()
    b.award("x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(1))
    assert b.ledger.balance(owed_account("v1")) == -5
    b.reverse("x1", by="a", reason="误报", at=t(2))
    assert b.ledger.balance(owed_account("v1")) == 0
    assert b.ledger.posting("x1#deduct#owed#restore").target == owed_account("v1")
    assert b.ledger.balance(volunteer_account("v1")) == 0


def test_under_the_negative_rule_a_deduction_is_owed_whole() -> None:
    b = book(attrs.evolve(SCHEME, clawback="negative"))
    b.ledger.earn("e1", "v1", 10, at=t(0), issuer=ISSUER)
    b.award("x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(1))
    assert b.ledger.balance(owed_account("v1")) == -5
    assert b.ledger.spendable("v1", at=t(2)) == 5


def test_a_reversed_good_deed_whose_points_were_spent_is_clawed_back() -> None:
    b = book()
    claim(b, "d1", "v1", "brave", evidence="witness")
    b.approve("d1", by="镇文明办", at=t(2))
    b.ledger.earn("e1", "v1", 4, at=t(2, hours=1), issuer=ISSUER)
    b.ledger.spend("s1", "v1", 12, at=t(3))  # the 10 of the deed (earned first), 2 of e1
    b.reverse("d1", by="镇文明办", reason="核查不实", at=t(4))
    assert b.ledger.posting("d1#deed#clawback#1").amount == 2  # e1's 2 left
    assert b.ledger.posting("d1#deed#owed").amount == 8
    assert "核查不实" in b.ledger.posting("d1#deed#owed").note
    assert b.ledger.balances("v1", as_of=t(5)).net == -8
    assert b.ledger.total() == 0


# --- sites and teams --------------------------------------------------------------------------


def test_sites_and_teams_earn_and_lose_points_on_their_own_accounts() -> None:
    b = book()
    b.award(
        "a1",
        "站-双山",
        "activity",
        day=d(1),
        region_code=VILLAGE,
        evidence="platform",
        by="a",
        at=t(1),
    )
    b.award(
        "a2",
        "站-双山",
        "rating",
        day=d(1),
        region_code=VILLAGE,
        evidence="witness",
        by="a",
        at=t(1),
    )
    b.award(
        "a3",
        "站-双山",
        "rating",
        day=d(1),
        region_code=VILLAGE,
        evidence="witness",
        by="a",
        at=t(1),
    )
    assert b.ledger.balance(site_account("站-双山")) == -2  # a score may go below zero
    p = b.ledger.posting("a2#deed")
    assert (p.source, p.target, p.kind) == (
        site_account("站-双山"),
        "issuer:shuangshan",
        PostingKind.CLAWBACK,
    )
    b.reverse("a3", by="a", reason="评价被撤回", at=t(2))
    assert b.ledger.balance(site_account("站-双山")) == 1
    assert b.ledger.posting("a3#deed#reverse").reverses == "a3#deed"
    got = [
        b.award(
            f"t{k}",
            "t1",
            "team_service",
            day=d(k),
            region_code=VILLAGE,
            evidence="photo",
            by="a",
            at=t(5),
        ).points
        for k in (1, 2)
    ]
    assert got == [6, 4] and b.ledger.balance(team_account("t1")) == 10
    assert b.ledger.balance(volunteer_account("t1")) == 0 and b.ledger.total() == 0
    # the same award again is a no-op
    n = len(b.journal)
    b.award("t1", "t1", "team_service", day=d(1), region_code=VILLAGE, evidence="photo", by="a")
    assert len(b.journal) == n


# --- any sequence ----------------------------------------------------------------------------

PEOPLE = ("v1", "v2")
HOLDERS = {DeedHolder.PERSON: PEOPLE, DeedHolder.SITE: ("u1",), DeedHolder.TEAM: ("t1",)}

_CLAIMED = st.integers(0, 3)  # claims; awards take 4–6, and decisions meet both
_IDS = st.integers(0, 6)
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.sampled_from(PEOPLE), st.integers(1, 12), st.booleans()),
        st.tuples(st.just("spend"), st.sampled_from(PEOPLE), st.integers(1, 6)),
        st.tuples(
            st.just("claim"),
            _CLAIMED,
            st.sampled_from([i.id for i in SCHEME.indicators]),
            st.integers(0, 1),
            st.integers(0, 400),
        ),
        st.tuples(st.just("approve"), _IDS),
        st.tuples(st.just("reject"), _IDS),
        st.tuples(st.just("reverse"), _IDS),
        st.tuples(
            st.just("award"),
            st.integers(4, 6),
            st.sampled_from([i.id for i in SCHEME.indicators]),
            st.integers(0, 1),
            st.integers(0, 400),
        ),
    ),
    max_size=25,
)


def _run(b: DeedBook, ops: list[tuple[Any, ...]], model: dict[str, int]) -> None:
    """Apply ``ops`` (each at a later moment); a refused one must leave everything as it was."""
    for k, op in enumerate(ops):
        at = datetime(2025, 1, 1, tzinfo=SH) + timedelta(days=3 * k + 1)
        before = state(b)
        try:
            if op[0] == "earn":
                b.ledger.earn(
                    f"e{k}",
                    op[1],
                    op[2],
                    at=at,
                    issuer=ISSUER,
                    expires_at=at + timedelta(days=30) if op[3] else None,
                )
                model[op[1]] = model.get(op[1], 0) + op[2]
            elif op[0] == "spend":
                b.ledger.spend(f"s{k}", op[1], op[2], at=at)
                model[op[1]] = model.get(op[1], 0) - op[2]
            elif op[0] in ("claim", "award"):
                ind = SCHEME.indicator(op[2])
                holder = HOLDERS[ind.holder][op[3] % len(HOLDERS[ind.holder])]
                day = (at - timedelta(days=op[4])).date()
                ev = sorted(ind.evidence, key=lambda e: e.value)[0]
                if op[0] == "claim":
                    b.claim(
                        f"d{op[1]}",
                        holder,
                        ind.id,
                        day=day,
                        region_code=VILLAGE,
                        evidence=ev,
                        at=at,
                    )
                else:
                    b.award(
                        f"d{op[1]}",
                        holder,
                        ind.id,
                        day=day,
                        region_code=VILLAGE,
                        evidence=ev,
                        by="a",
                        at=at,
                    )
            else:  # a decision on a deed of the book (most of the time), or an unknown one
                known = [x.id for x in b.deeds()]
                did = known[op[1] % len(known)] if known and op[1] else f"d{op[1]}"
                if op[0] == "approve":
                    b.approve(did, by="a", at=at)
                elif op[0] == "reject":
                    b.reject(did, by="a", reason="不实", at=at)
                else:
                    b.reverse(did, by="a", reason="撤销", at=at)
        except ZhiyuanError:
            assert state(b) == before
        _check(b, model, at)


def _check(b: DeedBook, model: dict[str, int], at: datetime) -> None:
    ledger = b.ledger
    assert ledger.total() == 0
    held: dict[str, int] = {}
    counted: dict[tuple[str, str, int], int] = {}
    for deed in b.deeds():
        c = deed.claim
        held[c.account] = held.get(c.account, 0) + deed.points
        if deed.points:
            k = (c.account, c.indicator.id, c.day.year)
            counted[k] = counted.get(k, 0) + abs(deed.points)
    for (account, iid, year), n in counted.items():
        cap = SCHEME.indicator(iid).yearly_cap
        assert cap is None or n <= cap
        assert b.counted(account, iid, year) == n
    assert {k: v for k, v in b._state.tally.items() if v} == counted
    for v in PEOPLE:  # the person's net points: what they earned and spent, and their deeds
        net = ledger.balance(volunteer_account(v)) + ledger.balance(owed_account(v))
        assert net == model.get(v, 0) + held.get(volunteer_account(v), 0)
        assert ledger.balance(owed_account(v)) <= 0
    for account in (site_account("u1"), team_account("t1")):
        assert ledger.balance(account) == held.get(account, 0)
    assert fold_deeds(b.entries) == {x.id: x for x in b.deeds()}


def _replayed(b: DeedBook) -> DeedBook:
    out = io.StringIO()
    b.journal.export_jsonl(out)
    fresh = Journal()
    fresh.import_jsonl(io.StringIO(out.getvalue()))
    return DeedBook(PointsLedger(journal=fresh))  # no scheme needed to fold


@settings(max_examples=100)
@given(_ops, st.sampled_from(list(ClawbackRule)))
def test_any_sequence_keeps_the_ledger_balanced_the_caps_and_replays_the_same(
    ops: list[tuple[Any, ...]], rule: ClawbackRule
) -> None:
    b = book(attrs.evolve(SCHEME, clawback=rule))
    model: dict[str, int] = {}
    _run(b, ops, model)
    again = _replayed(b)
    assert again.deeds() == b.deeds()
    assert again.ledger.accounts() == b.ledger.accounts()
    assert again._state.tally == b._state.tally
    for e in b.entries:  # every entry round-trips through JSON with its tag
        data = unstructure(e, reveal=True)
        assert data["type"].startswith("deeds.")
        assert structure_tagged(data) == e
        assert from_json(to_json(e), DeedEntry) == e  # type: ignore[arg-type]


def test_a_rebuilt_book_goes_on_where_the_first_stopped() -> None:
    b = book()
    b.ledger.earn("e1", "v1", 3, at=t(0), issuer=ISSUER)
    claim(b, "d1", "v1", "help")
    b.approve("d1", by="a", at=t(2))
    b.award("x1", "v1", "compact", day=d(1), region_code=VILLAGE, evidence="photo", by="a", at=t(3))
    again = _replayed(b)
    again.schemes = SCHEME
    assert again.counted(volunteer_account("v1"), "help", 2025) == 3
    again.reverse("x1", by="a", reason="误报", at=t(4))
    assert again.ledger.balances("v1", as_of=t(5)).net == 6
    with pytest.raises(Conflict):
        again.approve("d1", by="b", at=t(5))


def test_fold_deeds_refuses_what_is_not_a_deed_entry() -> None:
    with pytest.raises(InvalidValue):
        fold_deeds([1])  # type: ignore[list-item]
    with pytest.raises(InvalidValue):
        fold_deeds("abc")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        fold_deeds([], as_of=datetime(2025, 1, 1))


def test_a_book_refuses_a_ledger_or_tree_of_the_wrong_kind_and_raw_entries() -> None:
    with pytest.raises(InvalidValue):
        DeedBook("points")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        DeedBook(PointsLedger(), tree="tree")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        DeedBook(PointsLedger(), schemes=[Source(document="x", issuer="y")])  # type: ignore[list-item]
    b = book()
    entry = claim(b, "d1", "v1", "help").claim
    with pytest.raises(InvalidValue):
        b.add(attrs.evolve(entry, id="d2"))
