"""The points of sites and teams (阵地积分): the ``site:`` and ``team:`` accounts, points awarded
to them through a :class:`~zhiyuan.credit.DeedBook`, and their rankings
(:func:`~zhiyuan.credit.rank_accounts`), checked against brute force on random ledgers.

Every datetime is explicit and aware (Asia/Shanghai); nothing here reads the wall clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.credit import (
    SITE_PREFIX,
    TEAM_PREFIX,
    AccountRank,
    DeedBook,
    DeedScheme,
    Indicator,
    PointsLedger,
    Posting,
    PostingKind,
    check_issuer,
    is_personal,
    rank_accounts,
    site_account,
    team_account,
    volunteer_of,
)
from zhiyuan.errors import InvalidValue

SH = SHANGHAI
T0 = datetime(2025, 1, 1, 10, tzinfo=SH)
ISSUER = "issuer:城阳区"
CY_VILLAGE = "370214001001"  # 城阳街道 东果园社区


def t(days: float) -> datetime:
    return T0 + timedelta(days=days)


# --- the account grammar ---------------------------------------------------------------------


def test_site_and_team_accounts_have_their_own_prefixes_and_are_not_personal() -> None:
    assert (SITE_PREFIX, TEAM_PREFIX) == ("site:", "team:")
    assert site_account("站-东果园") == "site:站-东果园"
    assert team_account("t-助老") == "team:t-助老"
    for account in (site_account("u1"), team_account("t1")):
        assert not is_personal(account)
        assert volunteer_of(account) is None
        assert check_issuer(account) == account  # not a volunteer's: the ledger takes it anywhere
    for bad in ("", "  ", None, 5, ["u1"]):
        with pytest.raises(InvalidValue) as err:
            site_account(bad)  # type: ignore[arg-type]
        assert err.value.field == "unit_id"
        with pytest.raises(InvalidValue) as err:
            team_account(bad)  # type: ignore[arg-type]
        assert err.value.field == "team_id"


# --- rankings --------------------------------------------------------------------------------


def _ledger(rows: list[tuple[int, str, int]]) -> PointsLedger:
    """Earnings (day, account, amount); a negative amount is a deduction from the account."""
    book = PointsLedger()
    postings = []
    for k, (day, account, amount) in enumerate(rows):
        source, target = (ISSUER, account) if amount > 0 else (account, ISSUER)
        kind = PostingKind.EARN if amount > 0 else PostingKind.CLAWBACK
        postings.append(
            Posting(
                id=f"p{k}", at=t(day), kind=kind, source=source, target=target, amount=abs(amount)
            )
        )
    book.post_many(postings)
    return book


def test_ties_share_a_place_and_the_next_place_skips() -> None:
    book = _ledger(
        [
            (0, "site:a", 30),
            (1, "site:b", 20),
            (2, "site:c", 20),
            (3, "site:d", 5),
            (4, "team:t1", 99),
            (5, "site:e", 5),
            (6, "site:e", -10),
        ]
    )
    got = rank_accounts(book, "site:", as_of=t(10))
    assert [(r.rank, r.holder, r.points) for r in got] == [
        (1, "a", 30),
        (2, "b", 20),
        (2, "c", 20),
        (4, "d", 5),
        (5, "e", -5),  # below zero, still ranked
    ]
    assert got[0] == AccountRank(rank=1, account="site:a", holder="a", points=30)
    assert str(got[1]) == "2. b 20 pts"
    assert [r.holder for r in rank_accounts(book, "site:", n=3, as_of=t(10))] == ["a", "b", "c"]
    assert rank_accounts(book, "site:", n=0, as_of=t(10)) == []
    assert [r.holder for r in rank_accounts(book, "team:", as_of=t(10))] == ["t1"]


def test_a_ranking_reads_what_was_held_at_a_moment_or_gained_in_a_period() -> None:
    book = _ledger([(0, "site:a", 30), (40, "site:b", 20), (45, "site:a", -25), (70, "site:b", 1)])
    assert [(r.holder, r.points) for r in rank_accounts(book, "site:", as_of=t(1))] == [("a", 30)]
    assert [(r.holder, r.points) for r in rank_accounts(book, "site:", as_of=t(50))] == [
        ("b", 20),
        ("a", 5),
    ]
    feb = (date(2025, 2, 1), date(2025, 3, 1))  # days 31–58: b's 20 in, a's 25 out
    assert [(r.rank, r.holder, r.points) for r in rank_accounts(book, "site:", period=feb)] == [
        (1, "b", 20),
        (2, "a", -25),
    ]
    # a period and a cut-off together: what was gained in the period by then
    assert [
        (r.holder, r.points) for r in rank_accounts(book, "site:", period=feb, as_of=t(42))
    ] == [("b", 20)]
    assert rank_accounts(book, "site:", period=(date(2025, 2, 1), date(2025, 2, 1))) == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"prefix": "site"}, "prefix"),
        ({"prefix": ":"}, "prefix"),
        ({"prefix": ""}, "prefix"),
        ({"prefix": 5}, "prefix"),
        ({"n": -1}, "n"),
        ({"n": True}, "n"),
        ({"n": 2.0}, "n"),
        ({"period": (date(2025, 3, 1), date(2025, 2, 1))}, "period"),
        ({"period": (date(2025, 3, 1),)}, "period"),
        ({"period": [date(2025, 1, 1), date(2025, 2, 1)]}, "period"),
        ({"period": (T0, t(3))}, "period"),
        ({"as_of": datetime(2025, 1, 1)}, "as_of"),
        ({"ledger": "points"}, "ledger"),
    ],
)
def test_a_bad_ranking_argument_names_its_field(kw: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"ledger": _ledger([(0, "site:a", 1)]), "prefix": "site:"}
    args.update(kw)
    with pytest.raises(InvalidValue) as err:
        rank_accounts(args.pop("ledger"), args.pop("prefix"), **args)
    assert err.value.field == field


_rows = st.lists(
    st.tuples(
        st.integers(0, 90),
        st.sampled_from(["site:a", "site:b", "site:c", "team:a", "volunteerx:a"]),
        st.integers(-20, 40).filter(bool),
    ),
    max_size=30,
)


@settings(max_examples=80)
@given(
    _rows,
    st.sampled_from(["site:", "team:"]),
    st.none() | st.tuples(st.integers(0, 90), st.integers(0, 40)),
    st.integers(0, 100),
    st.none() | st.integers(0, 5),
)
def test_rankings_agree_with_brute_force(
    rows: list[tuple[int, str, int]],
    prefix: str,
    span: tuple[int, int] | None,
    cut: int,
    n: int | None,
) -> None:
    book = _ledger(rows)
    period = None
    if span is not None:
        first = date(2025, 1, 1) + timedelta(days=span[0])
        period = (first, first + timedelta(days=span[1]))
    got = rank_accounts(book, prefix, n=n, period=period, as_of=t(cut))
    want: dict[str, int] = {}
    for day, account, amount in rows:
        when = t(day)
        if when > t(cut) or not account.startswith(prefix):
            continue
        if period is not None and not period[0] <= when.date() < period[1]:
            continue
        want[account] = want.get(account, 0) + amount
    order = sorted(want, key=lambda a: (-want[a], a))
    assert [r.account for r in got] == (order if n is None else order[:n])
    for r in got:
        assert r.points == want[r.account]
        assert r.holder == r.account[len(prefix) :]
        # competition ranking: one more than the number of accounts with more points
        assert r.rank == 1 + sum(1 for a in want if want[a] > r.points)


# --- points awarded through a deed book --------------------------------------------------------

SITES = DeedScheme(
    name="chengyang",
    effective_from=date(2024, 1, 1),
    indicators=[
        Indicator(
            id="activity",
            name="开展活动",
            name_en="holding an activity",
            points=5,
            holder="site",
            evidence=["platform"],
            yearly_cap=12,
        ),
        Indicator(
            id="praise",
            name="群众好评",
            name_en="praised by residents",
            points=2,
            holder="site",
            evidence=["witness", "platform"],
        ),
        Indicator(
            id="complaint",
            name="群众差评",
            name_en="a residents' complaint",
            points=-3,
            holder="site",
        ),
        Indicator(
            id="served",
            name="完成服务",
            name_en="a service done",
            points=4,
            holder="team",
            evidence=["platform"],
        ),
    ],
)


def test_sites_and_teams_ranked_by_the_points_their_deeds_earned() -> None:
    book = DeedBook(PointsLedger(), schemes=SITES)
    awards = [
        ("a1", "u-东果园", "activity", 1),
        ("a2", "u-东果园", "activity", 2),
        ("a3", "u-东果园", "activity", 3),  # the cap of 12 cuts this one to 2
        ("a4", "u-和阳路", "activity", 3),
        ("a5", "u-和阳路", "praise", 4),
        ("a6", "u-和阳路", "praise", 5),
        ("a7", "u-和阳路", "complaint", 6),
        ("a8", "u-夏塔路", "praise", 6),
        ("b1", "t-助老", "served", 6),
        ("b2", "t-助老", "served", 7),
    ]
    for did, holder, ind, day in awards:
        ev = "witness" if ind == "complaint" else "platform"
        book.award(
            did,
            holder,
            ind,
            day=date(2025, 3, day),
            region_code=CY_VILLAGE,
            evidence=ev,
            by="城阳区文明实践中心",
            at=datetime(2025, 3, day, 20, tzinfo=SH),
        )
    assert book.deed("a3").points == 2 and book.deed("a3").approval.cut == 3  # type: ignore[union-attr]
    ranks = rank_accounts(book.ledger, SITE_PREFIX, as_of=datetime(2025, 4, 1, tzinfo=SH))
    assert [(r.rank, r.holder, r.points) for r in ranks] == [
        (1, "u-东果园", 12),
        (2, "u-和阳路", 6),
        (3, "u-夏塔路", 2),
    ]
    assert [(r.holder, r.points) for r in rank_accounts(book.ledger, TEAM_PREFIX)] == [
        ("t-助老", 8)
    ]
    # a reversed complaint no longer counts against the site
    book.reverse(
        "a7", by="城阳区文明实践中心", reason="投诉不实", at=datetime(2025, 4, 2, tzinfo=SH)
    )
    march = (date(2025, 3, 1), date(2025, 4, 1))
    assert [(r.holder, r.points) for r in rank_accounts(book.ledger, "site:", period=march)] == [
        ("u-东果园", 12),
        ("u-和阳路", 6),
        ("u-夏塔路", 2),
    ]
    assert [(r.rank, r.holder, r.points) for r in rank_accounts(book.ledger, "site:")] == [
        (1, "u-东果园", 12),
        (2, "u-和阳路", 9),
        (3, "u-夏塔路", 2),
    ]
    assert book.ledger.total() == 0
