"""zhiyuan (志愿): Chinese volunteer-service administration as a library.

The region tree and practice units live in :mod:`zhiyuan.hierarchy`; the error family in
:mod:`zhiyuan.errors`; JSON and TOML in and out in :mod:`zhiyuan.convert`; the journal every book
records in, and the stores that keep it, in :mod:`zhiyuan.journal` and :mod:`zhiyuan.store`. The
most used names are re-exported here.

Example:
    >>> import zhiyuan as zy
    >>> zy.load_default().path("370202")
    '山东省/青岛市/市南区'
"""

from __future__ import annotations

from zhiyuan._validators import SHANGHAI, Clock, system_clock
from zhiyuan.convert import from_json, from_toml, structure, to_json, to_toml, unstructure
from zhiyuan.errors import (
    Conflict,
    InsufficientBalance,
    InvalidInput,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UnknownRegion,
    ZhiyuanError,
)
from zhiyuan.hierarchy import Level, Region, RegionCode, RegionTree, load_default
from zhiyuan.journal import Journal
from zhiyuan.schedule import Schedule
from zhiyuan.store import open_journal

__version__ = "0.1.0"

__all__ = [
    "SHANGHAI",
    "Clock",
    "Conflict",
    "InsufficientBalance",
    "InvalidInput",
    "InvalidValue",
    "Journal",
    "Level",
    "NotFound",
    "PermissionDenied",
    "Region",
    "RegionCode",
    "RegionTree",
    "Schedule",
    "UnknownRegion",
    "ZhiyuanError",
    "__version__",
    "from_json",
    "from_toml",
    "load_default",
    "open_journal",
    "structure",
    "system_clock",
    "to_json",
    "to_toml",
    "unstructure",
]
