"""Reports over a points ledger: outstanding points by home region, points about to expire.

Both are folds of the ledger's postings (up to ``as_of``), so they agree with
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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple

from zhiyuan._validators import flag, items, key, moment
from zhiyuan.credit.accounts import OWED_PREFIX, VOLUNTEER_PREFIX
from zhiyuan.credit.ledger import PointsLedger, Posting, _within
from zhiyuan.errors import InvalidValue, NotFound, show
from zhiyuan.hierarchy.tree import RegionTree

__all__ = ["ExpiringPoints", "expiring_soon", "points_liability_by_region"]


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
