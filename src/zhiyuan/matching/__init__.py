"""Matching (网约): needs (点单), candidates, dispatch (派单) with 就近 escalation, the need
lifecycle (接单 → 评单 → 奖单), batch assignment, and metrics.

Example:
    >>> from zhiyuan.matching import SEVEN_HELPS
    >>> SEVEN_HELPS[0]
    '帮老'
"""

from __future__ import annotations

from zhiyuan.matching.dispatch import (
    Booking,
    Dispatcher,
    DispatchPolicy,
    DispatchResult,
    Ranked,
    ScoreParts,
    distance_m,
)
from zhiyuan.matching.needs import (
    FIVE_FOR,
    SEVEN_HELPS,
    Availability,
    Candidate,
    CandidateKind,
    Need,
    Skill,
    Slot,
    Urgency,
)

__all__ = [
    "FIVE_FOR",
    "SEVEN_HELPS",
    "Availability",
    "Booking",
    "Candidate",
    "CandidateKind",
    "DispatchPolicy",
    "DispatchResult",
    "Dispatcher",
    "Need",
    "Ranked",
    "ScoreParts",
    "Skill",
    "Slot",
    "Urgency",
    "distance_m",
]
