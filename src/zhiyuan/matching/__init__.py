"""Matching (网约): needs (点单), candidates, dispatch (派单) with 就近 escalation, the need
lifecycle (接单 or 抢单 → 评单 → 奖单), batch assignment, the call-up (紧急召集), and metrics.

Example:
    >>> from zhiyuan.matching import SEVEN_HELPS
    >>> SEVEN_HELPS[0]
    '帮老'
"""

from __future__ import annotations

from zhiyuan.matching.assignment import (
    AssignedPair,
    Assignment,
    AssignmentProblem,
    scipy_available,
)
from zhiyuan.matching.assignment import solve as solve_assignment
from zhiyuan.matching.batch import BatchPair, BatchResult, UrgencyTier, dispatch_batch
from zhiyuan.matching.callup import CallUpResult, NeedCallUp, call_up
from zhiyuan.matching.dispatch import (
    Booking,
    Dispatcher,
    DispatchPolicy,
    DispatchResult,
    Ranked,
    ScoreParts,
    distance_m,
)
from zhiyuan.matching.lifecycle import (
    Accepted,
    Completed,
    Declined,
    Expired,
    NeedCancelled,
    NeedEntry,
    NeedState,
    NeedStatus,
    Offered,
    Rated,
    Rewarded,
    Started,
    Taken,
    Unfilled,
    advance,
)
from zhiyuan.matching.lifecycle import Posted as NeedPosted
from zhiyuan.matching.lifecycle import fold as fold_needs
from zhiyuan.matching.metrics import (
    AcceptanceTimes,
    FillRate,
    MatchingMetrics,
    Travel,
    Workload,
    acceptance_times,
    fill_rate,
    gini_thousandths,
    matching_metrics,
    nearest_rank,
    travel,
    workload,
)
from zhiyuan.matching.needbook import NeedBook
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
    "AcceptanceTimes",
    "Accepted",
    "AssignedPair",
    "Assignment",
    "AssignmentProblem",
    "Availability",
    "BatchPair",
    "BatchResult",
    "Booking",
    "CallUpResult",
    "Candidate",
    "CandidateKind",
    "Completed",
    "Declined",
    "DispatchPolicy",
    "DispatchResult",
    "Dispatcher",
    "Expired",
    "FillRate",
    "MatchingMetrics",
    "Need",
    "NeedBook",
    "NeedCallUp",
    "NeedCancelled",
    "NeedEntry",
    "NeedPosted",
    "NeedState",
    "NeedStatus",
    "Offered",
    "Ranked",
    "Rated",
    "Rewarded",
    "ScoreParts",
    "Skill",
    "Slot",
    "Started",
    "Taken",
    "Travel",
    "Unfilled",
    "Urgency",
    "UrgencyTier",
    "Workload",
    "acceptance_times",
    "advance",
    "call_up",
    "dispatch_batch",
    "distance_m",
    "fill_rate",
    "fold_needs",
    "gini_thousandths",
    "matching_metrics",
    "nearest_rank",
    "scipy_available",
    "solve_assignment",
    "travel",
    "workload",
]
