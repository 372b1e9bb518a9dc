"""Account names (账户): the grammar of the accounts postings move amounts between.

A :class:`~zhiyuan.credit.Posting` moves an amount from one account to another, and accounts are
plain strings. Those the library reads are ``<prefix><name>``, each prefix defined here once:

``volunteer:<id>``
    A volunteer's spendable points or time credits, kept in lots (:func:`volunteer_account`).
``owed:<id>``
    What a volunteer owes after a clawback or a reversed time-bank deposit, zero or negative
    (:func:`owed_account`).
``issuer:<name>``
    Where points come from; its negative balance is the outstanding liability
    (:func:`issuer_account`). Any account that is not personal may issue points
    (:func:`check_issuer`).
``bank:<code>``, ``served:<code>``, ``clearing:<code>``
    A time bank's issuing account (:func:`bank_account`), the service received in a region
    (:func:`served_account`) and a region's 通存通兑 clearing account
    (:func:`clearing_account`); see :mod:`zhiyuan.credit.timebank`.
``site:<unit id>``, ``team:<team id>``
    The points of a 新时代文明实践 site (阵地积分: a 中心, 所 or 站,
    :class:`~zhiyuan.hierarchy.PracticeUnit`) and of a volunteer team
    (:class:`~zhiyuan.hierarchy.Team`): :func:`site_account`, :func:`team_account`. They hold a
    plain balance (no lots, no expiry), moved only by approved deeds
    (:class:`~zhiyuan.credit.DeedBook`: 城阳's 文明实践积分平台 scores its sites and teams);
    a deduction may take one below zero, since the balance is a score to rank by
    (:func:`~zhiyuan.credit.rank_accounts`), not a currency.
``stock:<item id>``
    A catalog item's stock, as an :class:`~zhiyuan.errors.InsufficientBalance` names it when it
    runs short (:func:`stock_account`); not an account of the ledger.

``volunteer:`` and ``owed:`` accounts are *personal*: they name a volunteer after the colon
(:func:`is_personal`, :func:`volunteer_of`). Points are issued from and spent to any account
but a personal one (:func:`check_issuer`, :func:`check_outlet`); ``redemption``, ``expiry`` and
any other name a caller needs are accounts too.

Example:
    >>> volunteer_account("v1"), owed_account("v1"), bank_account("370214001000")
    ('volunteer:v1', 'owed:v1', 'bank:370214001000')
    >>> site_account("站-东果园"), team_account("t1"), is_personal(site_account("站-东果园"))
    ('site:站-东果园', 'team:t1', False)
    >>> is_personal("owed:v1"), is_personal(issuer_account("烟台"))
    (True, False)
    >>> volunteer_of("volunteer:v1"), volunteer_of("issuer:烟台")
    ('v1', None)
"""

from __future__ import annotations

from zhiyuan._validators import key
from zhiyuan.errors import InvalidValue

__all__ = [
    "BANK_PREFIX",
    "CLEARING_PREFIX",
    "ISSUER_PREFIX",
    "OWED_PREFIX",
    "SERVED_PREFIX",
    "SITE_PREFIX",
    "STOCK_PREFIX",
    "TEAM_PREFIX",
    "VOLUNTEER_PREFIX",
    "bank_account",
    "check_issuer",
    "check_outlet",
    "clearing_account",
    "is_personal",
    "issuer_account",
    "owed_account",
    "served_account",
    "site_account",
    "stock_account",
    "team_account",
    "volunteer_account",
    "volunteer_of",
]

VOLUNTEER_PREFIX = "volunteer:"
"""The prefix of a volunteer's spendable account, ``volunteer:<id>``
(:func:`~zhiyuan.credit.volunteer_account`)."""

OWED_PREFIX = "owed:"
"""The prefix of what a volunteer owes, ``owed:<id>`` (:func:`~zhiyuan.credit.owed_account`)."""

ISSUER_PREFIX = "issuer:"
"""The prefix of where points come from, ``issuer:<name>``
(:func:`~zhiyuan.credit.issuer_account`)."""

BANK_PREFIX = "bank:"
"""The prefix of a time bank's issuing account, ``bank:<code>``
(:func:`~zhiyuan.credit.bank_account`)."""

SERVED_PREFIX = "served:"
"""The prefix of the service received in a region, ``served:<code>``
(:func:`~zhiyuan.credit.served_account`)."""

CLEARING_PREFIX = "clearing:"
"""The prefix of a region's 通存通兑 clearing account, ``clearing:<code>``
(:func:`~zhiyuan.credit.clearing_account`)."""

SITE_PREFIX = "site:"
"""The prefix of a practice site's points (阵地积分), ``site:<unit id>``
(:func:`~zhiyuan.credit.site_account`)."""

TEAM_PREFIX = "team:"
"""The prefix of a volunteer team's points, ``team:<team id>``
(:func:`~zhiyuan.credit.team_account`)."""

STOCK_PREFIX = "stock:"
"""The prefix of a catalog item's stock, ``stock:<item id>``
(:func:`~zhiyuan.credit.stock_account`)."""

_PERSONAL = (VOLUNTEER_PREFIX, OWED_PREFIX)  # accounts that name a volunteer after the colon


def volunteer_account(volunteer_id: str) -> str:
    """The spendable account of a volunteer (``volunteer:<id>``)."""
    return VOLUNTEER_PREFIX + key("volunteer_id", volunteer_id)


def owed_account(volunteer_id: str) -> str:
    """What a volunteer owes after a clawback (``owed:<id>``; its balance is zero or negative)."""
    return OWED_PREFIX + key("volunteer_id", volunteer_id)


def issuer_account(name: str) -> str:
    """The account points of an issuer come from (``issuer:<name>``).

    Example:
        >>> issuer_account("荣成")
        'issuer:荣成'
    """
    return f"{ISSUER_PREFIX}{name}"


def bank_account(region_code: str) -> str:
    """The issuing account of a region's bank (``bank:<code>``)."""
    return BANK_PREFIX + region_code


def served_account(region_code: str) -> str:
    """Where credits go when service is received in a region (``served:<code>``)."""
    return SERVED_PREFIX + region_code


def clearing_account(region_code: str) -> str:
    """A region's clearing account for 通存通兑 (``clearing:<code>``)."""
    return CLEARING_PREFIX + region_code


def site_account(unit_id: str) -> str:
    """The points account of a 新时代文明实践 site (阵地积分), ``site:<unit id>``: a 中心, 所 or
    站 by its :class:`~zhiyuan.hierarchy.PracticeUnit` id.

    Example:
        >>> site_account("所-城阳街道")
        'site:所-城阳街道'
        >>> site_account(" ")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: unit_id: ' ': 需要非空文本 / need non-empty text
    """
    return SITE_PREFIX + key("unit_id", unit_id)


def team_account(team_id: str) -> str:
    """The points account of a volunteer team (志愿服务队伍), ``team:<team id>``.

    Example:
        >>> team_account("t-助老")
        'team:t-助老'
    """
    return TEAM_PREFIX + key("team_id", team_id)


def stock_account(item_id: str) -> str:
    """The name a catalog item's stock goes by when it runs short (``stock:<item id>``).

    Example:
        >>> stock_account("umbrella")
        'stock:umbrella'
    """
    return STOCK_PREFIX + item_id


def is_personal(account: str) -> bool:
    """True for an account that names a volunteer after the colon: ``volunteer:<id>`` or
    ``owed:<id>``.

    Example:
        >>> is_personal("volunteer:v1"), is_personal("redemption")
        (True, False)
    """
    return account.startswith(_PERSONAL)


def volunteer_of(account: str) -> str | None:
    """The volunteer a personal account names (the text after ``volunteer:`` or ``owed:``, as
    it is), or ``None`` for any other account.

    Example:
        >>> volunteer_of("owed:v1"), volunteer_of("bank:370214001000")
        ('v1', None)
    """
    if account.startswith(VOLUNTEER_PREFIX):
        return account[len(VOLUNTEER_PREFIX) :]
    if account.startswith(OWED_PREFIX):
        return account[len(OWED_PREFIX) :]
    return None


def check_issuer(value: object, field: str = "issuer") -> str:
    """An account points may come from: not a volunteer's, not what one owes. Returns it; a
    personal account (or no text) is an :class:`~zhiyuan.errors.InvalidValue` naming ``field``.

    Example:
        >>> check_issuer("issuer:烟台")
        'issuer:烟台'
        >>> check_issuer("volunteer:v1")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: issuer: 'volunteer:v1': 发放方不能是志愿者账户 / points cannot be issued from a volunteer's account
    """
    name = key(field, value)
    if is_personal(name):
        raise InvalidValue(
            field,
            name,
            "发放方不能是志愿者账户 / points cannot be issued from a volunteer's account",
        )
    return name


def check_outlet(value: object, field: str = "to") -> str:
    """An account points may be spent to: not a volunteer's (that is a transfer), not what one
    owes (that is a settlement). Returns it; a personal account (or no text) is an
    :class:`~zhiyuan.errors.InvalidValue` naming ``field``.

    Example:
        >>> check_outlet("redemption")
        'redemption'
    """
    name = key(field, value)
    if is_personal(name):
        raise InvalidValue(
            field,
            name,
            "不能兑换到志愿者或欠分账户（转赠请用 transfer） / cannot spend to a volunteer's or "
            "an owed account (use transfer to give points)",
        )
    return name
