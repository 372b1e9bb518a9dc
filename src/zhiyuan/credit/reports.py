"""Reports over a points ledger: outstanding points by home region, points about to expire,
and rankings of accounts (sites and teams by their points, 阵地积分排名).

All are folds of the ledger's postings (up to ``as_of``), so they agree with
:func:`~zhiyuan.credit.fold_balances` and do not change when expired lots are swept
(:meth:`~zhiyuan.credit.PointsLedger.expire`). Redemptions by item and region belong to the
order book (:mod:`zhiyuan.credit.redemptions`); the time bank has its own liability by issuing
bank (:meth:`~zhiyuan.credit.TimeBank.liability`).

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
    >>> from zhiyuan.hierarchy import load_default
    >>> t = lambda m, d: datetime(2025, m, d, tzinfo=SHANGHAI)
    >>> book = PointsLedger()
    >>> _ = book.earn("e1", "v1", 30, at=t(1, 5), issuer="issuer:芝罘", expires_at=t(6, 30))
    >>> _ = book.earn("e2", "v2", 20, at=t(1, 6), issuer="issuer:芝罘")
    >>> _ = book.spend("s1", "v1", 10, at=t(2, 1))
    >>> home = {"v1": "370602001001", "v2": "370602002001"}
    >>> totals = points_liability_by_region(book, home, load_default(), as_of=t(3, 1))
    >>> totals["370602001001"], totals["370602000000"], totals["370000000000"]
    (20, 40, 40)
    >>> [(e.volunteer_id, e.amount, e.earliest_expiry.date()) for e in
    ...  expiring_soon(book, within_days=121, as_of=t(3, 1))]   # 1 March + 121 days = 30 June
    [('v1', 20, datetime.date(2025, 6, 30))]
    >>> expiring_soon(book, within_days=120, as_of=t(3, 1))
    []
    >>> [str(r) for r in rank_accounts(book, "volunteer:", as_of=t(3, 1))]
    ['1. v1 20 pts', '1. v2 20 pts']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

import attrs

from zhiyuan._validators import SHANGHAI, flag, items, key, moment
from zhiyuan.credit.accounts import OWED_PREFIX, VOLUNTEER_PREFIX
from zhiyuan.credit.ledger import PointsLedger, Posting, _within
from zhiyuan.errors import InvalidValue, NotFound, show
from zhiyuan.hierarchy.tree import RegionTree

__all__ = [
    "AccountRank",
    "ExpiringPoints",
    "expiring_soon",
    "points_liability_by_region",
    "rank_accounts",
]


class ExpiringPoints(NamedTuple):
    """A volunteer's available points that expire within the window, and the first expiry."""

    volunteer_id: str
    amount: int
    earliest_expiry: datetime


def _ledger(value: object) -> PointsLedger:
    if not isinstance(value, PointsLedger):
        raise InvalidValue("ledger", value, "需要 PointsLedger / need one", shown=show(value))
    return value


def _when(at: object, ledger: PointsLedger) -> datetime:
    """``as_of``: an aware moment (in Asia/Shanghai), or the ledger clock's now for ``None``."""
    return ledger.journal.now() if at is None else moment(at, "as_of")


class _Lot(NamedTuple):
    volunteer_id: str
    amount: int
    available_from: datetime
    expires_at: datetime | None


def _fold(postings: Iterable[Posting], as_of: datetime) -> tuple[dict[str, _Lot], dict[str, int]]:
    """Lots left (lot id → volunteer, remaining, dates) and what each volunteer owes, at ``as_of``."""
    lots: dict[str, _Lot] = {}
    owed: dict[str, int] = {}
    for p in postings:
        if p.at > as_of:
            continue
        if p.source.startswith(VOLUNTEER_PREFIX) and p.lot is not None:
            lot = lots.get(p.lot)
            if lot is not None:
                lots[p.lot] = lot._replace(amount=lot.amount - p.amount)
        if p.target.startswith(VOLUNTEER_PREFIX):
            vid = p.target[len(VOLUNTEER_PREFIX) :]
            lots[p.id] = _Lot(vid, p.amount, p.available_from or p.at, p.expires_at)
        if p.target.startswith(OWED_PREFIX):
            vid = p.target[len(OWED_PREFIX) :]
            owed[vid] = owed.get(vid, 0) + p.amount
        if p.source.startswith(OWED_PREFIX):
            vid = p.source[len(OWED_PREFIX) :]
            owed[vid] = owed.get(vid, 0) - p.amount
    return lots, owed


def points_liability_by_region(
    ledger: PointsLedger,
    home_of: Mapping[str, str],
    tree: RegionTree,
    *,
    as_of: datetime | None = None,
    include_expired: bool = False,
) -> dict[str, int]:
    """Outstanding points by the volunteers' home regions, rolled up the tree.

    A volunteer's outstanding points are their lots' remaining points (available and pending)
    less what they owe, at ``as_of`` (default: the ledger clock's now). Lots expired by then are left out, swept or
    not, unless ``include_expired``. Volunteers with nothing outstanding are left out; the rest
    must have a home region in ``home_of`` (any accepted code form), else
    :class:`~zhiyuan.errors.NotFound`; an unknown code is an
    :class:`~zhiyuan.errors.UnknownRegion`. Returns 12-digit code → total of its subtree, in
    preorder (:meth:`~zhiyuan.hierarchy.RegionTree.rollup`).
    """
    ledger = _ledger(ledger)
    if not isinstance(home_of, Mapping):
        raise InvalidValue("home_of", home_of, "需要映射 / need a mapping", shown=show(home_of))
    if not isinstance(tree, RegionTree):
        raise InvalidValue("tree", tree, "需要 RegionTree / need one", shown=show(tree))
    include_expired = flag("include_expired", include_expired)
    when = _when(as_of, ledger)
    lots, owed = _fold(ledger.postings, when)
    net: dict[str, int] = dict(owed)
    for lot in lots.values():
        if lot.amount and (include_expired or lot.expires_at is None or when < lot.expires_at):
            net[lot.volunteer_id] = net.get(lot.volunteer_id, 0) + lot.amount
    pairs: list[tuple[object, int]] = []
    for vid in sorted(net):
        n = net[vid]
        if n == 0:
            continue
        home = home_of.get(vid)
        if home is None:
            raise NotFound("home region of volunteer", vid)
        pairs.append((home, n))
    return tree.rollup(pairs)


def expiring_soon(
    ledger: PointsLedger,
    volunteer_ids: Iterable[str] | None = None,
    *,
    within_days: int,
    as_of: datetime,
) -> list[ExpiringPoints]:
    """Available points expiring after ``as_of`` and within ``within_days`` days of it.

    Per volunteer (all, or those in ``volunteer_ids``): the remaining points of lots available
    at ``as_of`` (past their pending period, not yet expired) whose expiry is at most
    ``as_of + within_days``, and the earliest such expiry; what
    ``Balances.expiring_soon`` counts. Volunteers with none are left out. Sorted by earliest
    expiry, then volunteer id. ``within_days`` runs from 0 to 36 500 (a century), as for
    :meth:`~zhiyuan.credit.PointsLedger.balances`.
    """
    ledger = _ledger(ledger)
    days = _within(within_days)
    when = _when(as_of, ledger)
    soon = when + timedelta(days=days)
    wanted = None if volunteer_ids is None else _ids(volunteer_ids)
    lots, _ = _fold(ledger.postings, when)
    amount: dict[str, int] = {}
    first: dict[str, datetime] = {}
    for lot in lots.values():
        exp = lot.expires_at
        if not lot.amount or exp is None or (wanted is not None and lot.volunteer_id not in wanted):
            continue
        if lot.available_from <= when < exp <= soon:
            vid = lot.volunteer_id
            amount[vid] = amount.get(vid, 0) + lot.amount
            if vid not in first or exp < first[vid]:
                first[vid] = exp
    out = [ExpiringPoints(v, amount[v], first[v]) for v in amount]
    return sorted(out, key=lambda e: (e.earliest_expiry, e.volunteer_id))


def _ids(value: object) -> set[str]:
    """Volunteer ids from a collection of them (a single string is refused: it is not a list)."""
    return {key("volunteer_ids", v) for v in items("volunteer_ids", value)}


@attrs.frozen(kw_only=True)
class AccountRank:
    """One place in a ranking of accounts (:func:`rank_accounts`).

    Attributes:
        rank: the place, shared by ties (competition ranking, 1-2-2-4).
        account: the account (``site:u1``).
        holder: what follows the prefix (the unit, team or volunteer id).
        points: the points held at the cut-off, or gained over the period.

    Example:
        >>> str(AccountRank(rank=2, account="site:站-东果园", holder="站-东果园", points=1200))
        '2. 站-东果园 1,200 pts'
    """

    rank: int
    account: str
    holder: str
    points: int

    def __str__(self) -> str:
        return f"{self.rank}. {self.holder} {self.points:,} pts"


def _prefix(value: object) -> str:
    p = key("prefix", value)
    if not p.endswith(":") or len(p) < 2:
        raise InvalidValue(
            "prefix", p, "需要账户前缀，如 site: / need an account prefix such as site:"
        )
    return p


def _period(value: object) -> tuple[date, date] | None:
    if value is None:
        return None
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(d, date) and not isinstance(d, datetime) for d in value)
        or value[1] < value[0]
    ):
        raise InvalidValue(
            "period",
            value,
            "需要（首日, 末日次日）两个日期 / need (first day, day after the last), two dates",
            shown=show(value),
        )
    return value[0], value[1]


def rank_accounts(
    ledger: PointsLedger,
    prefix: str,
    *,
    n: int | None = None,
    period: tuple[date, date] | None = None,
    as_of: datetime | None = None,
) -> list[AccountRank]:
    """The accounts under ``prefix`` ranked by points, most first (城阳: 阵地积分 of sites
    ``site:``, of teams ``team:``; :func:`~zhiyuan.credit.site_account`,
    :func:`~zhiyuan.credit.team_account`).

    Without ``period``: the points each account holds, from every posting made by ``as_of``
    (default: the ledger clock's now). With ``period`` (``(first day, day after the last)``,
    days in Asia/Shanghai): the points each gained in it, its postings in less its postings
    out, made in the period and by ``as_of``. Every account with a posting counted is ranked,
    at zero or below too. Ties share a place (competition ranking, 1-2-2-4, as
    :func:`zhiyuan.scoring.rank`) and are listed by holder id; ``n`` keeps the first ``n``
    (``None``: all). For ``volunteer:`` accounts the balance is the raw one (lots unswept after
    expiry included, ``owed:`` apart).

    Example:
        >>> from datetime import date, datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.credit import Posting
        >>> t = lambda m, d: datetime(2025, m, d, 10, tzinfo=SHANGHAI)
        >>> book = PointsLedger()
        >>> _ = book.post_many([
        ...     Posting(id=f"p{i}", at=t(m, 1), kind="earn", source="issuer:城阳",
        ...             target=f"site:{s}", amount=a)
        ...     for i, (m, s, a) in enumerate([(1, "u1", 30), (2, "u2", 20), (3, "u3", 20),
        ...                                    (3, "u1", 5)])])
        >>> [str(r) for r in rank_accounts(book, "site:", as_of=t(4, 1))]
        ['1. u1 35 pts', '2. u2 20 pts', '2. u3 20 pts']
        >>> [str(r) for r in rank_accounts(book, "site:", period=(date(2025, 3, 1),
        ...                                                        date(2025, 4, 1)))]
        ['1. u3 20 pts', '2. u1 5 pts']
    """
    ledger = _ledger(ledger)
    pre = _prefix(prefix)
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise InvalidValue("n", n, "需要非负整数 / need a whole number ≥ 0")
    span = _period(period)
    when = _when(as_of, ledger)
    net: dict[str, int] = {}
    for p in ledger.postings:
        if p.at > when:
            continue
        if span is not None and not span[0] <= p.at.astimezone(SHANGHAI).date() < span[1]:
            continue
        if p.target.startswith(pre):
            net[p.target] = net.get(p.target, 0) + p.amount
        if p.source.startswith(pre):
            net[p.source] = net.get(p.source, 0) - p.amount
    ordered = sorted(net.items(), key=lambda kv: (-kv[1], kv[0]))
    if n is not None:
        ordered = ordered[:n]
    out: list[AccountRank] = []
    for i, (account, points) in enumerate(ordered):
        place = out[-1].rank if out and out[-1].points == points else i + 1
        out.append(
            AccountRank(rank=place, account=account, holder=account[len(pre) :], points=points)
        )
    return out
