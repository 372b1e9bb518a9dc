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
from zhiyuan.credit.conversion import (
    CONVERSION_PROFILES,
    Conversion,
    ConversionPolicy,
    ConversionStatus,
    Expiry,
    RowConversion,
    Tier,
    convert,
    post_conversion,
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
    "CONVERSION_PROFILES",
    "Balances",
    "Cancelled",
    "Catalog",
    "ClawbackRule",
    "Conversion",
    "ConversionPolicy",
    "ConversionStatus",
    "Expiry",
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
    "RowConversion",
    "StarLevels",
    "Tally",
    "Tier",
    "convert",
    "fold_balances",
    "fold_orders",
    "owed_account",
    "post_conversion",
    "volunteer_account",
]
