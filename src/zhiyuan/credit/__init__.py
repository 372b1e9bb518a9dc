"""Credit: the points ledger, conversion of certified hours, redemption, time bank, 志愿+信用.

Example:
    >>> from zhiyuan.credit import PointsLedger
    >>> PointsLedger().total()
    0
"""

from __future__ import annotations

from zhiyuan.credit.catalog import (
    Cancelled,
    Catalog,
    Fulfilled,
    Item,
    Order,
    OrderEntry,
    OrderState,
    Period,
    Redemptions,
    Reserved,
    StarLevels,
    Tally,
    fold_orders,
)
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
    "Cancelled",
    "Catalog",
    "ClawbackRule",
    "Fulfilled",
    "Item",
    "Lot",
    "Order",
    "OrderEntry",
    "OrderState",
    "Period",
    "PointsLedger",
    "Posting",
    "PostingKind",
    "Redemptions",
    "Reserved",
    "Reversal",
    "StarLevels",
    "Tally",
    "fold_balances",
    "fold_orders",
    "owed_account",
    "volunteer_account",
]
