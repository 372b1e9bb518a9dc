"""Credit: the points ledger, conversion of certified hours, redemption, time bank, 志愿+信用.

Example:
    >>> from zhiyuan.credit import PointsLedger
    >>> PointsLedger().total()
    0
"""

from __future__ import annotations

from zhiyuan.credit.ledger import (
    Balances,
    ClawbackRule,
    Lot,
    PointsLedger,
    Posting,
    PostingKind,
    Reversal,
    fold_balances,
    owed_account,
    volunteer_account,
)

__all__ = [
    "Balances",
    "ClawbackRule",
    "Lot",
    "PointsLedger",
    "Posting",
    "PostingKind",
    "Reversal",
    "fold_balances",
    "owed_account",
    "volunteer_account",
]
