"""One object for a city's volunteer platform (志愿服务平台): every book on one journal, kept
consistent by the policies in force, with authority on every write.

A backend holds one :class:`Platform`. It registers volunteers (who become dispatch
candidates), records and certifies hours (points, time-bank deposits and star eligibility
follow), undoes hours cleanly (points clawed back, deposits reversed, stars flagged or
revoked), runs the need lifecycle (点单→派单→接单→评单→奖单) with hour records for whoever
served, and reconciles its books. Hooks hear of each :class:`Event` after it is recorded.

Example:
    >>> from zhiyuan.platform import Platform, Policies, EventKind
    >>> sorted(k.value for k in EventKind)[:3]
    ['hours.certified', 'hours.posted', 'hours.rejected']
"""

from __future__ import annotations

from zhiyuan.platform._acts import Act, ActBook
from zhiyuan.platform._events import Event, EventKind, Hook, HookFailure
from zhiyuan.platform._platform import (
    TIME_BANK_BOOK,
    Drift,
    DriftKind,
    Platform,
    Reconciliation,
    candidate_of,
)
from zhiyuan.platform._policies import Policies

__all__ = [
    "TIME_BANK_BOOK",
    "Act",
    "ActBook",
    "Drift",
    "DriftKind",
    "Event",
    "EventKind",
    "Hook",
    "HookFailure",
    "Platform",
    "Policies",
    "Reconciliation",
    "candidate_of",
]
