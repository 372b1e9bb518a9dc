"""Star ratings, star awards, scorecards, feedback (评单) and rankings.

Example:
    >>> from zhiyuan.scoring import STAR_PROFILES
    >>> STAR_PROFILES["national"].thresholds_hours
    (100, 300, 600, 1000, 1500)
"""

from __future__ import annotations

from zhiyuan.scoring.awards import (
    Application,
    ApplicationStatus,
    Decision,
    Revocation,
    StarBook,
)
from zhiyuan.scoring.rankings import (
    ActivityRule,
    RankEntry,
    active_counts_by_region,
    active_volunteers,
    rank,
    top_teams,
    top_volunteers,
)
from zhiyuan.scoring.stars import (
    STAR_PROFILES,
    Downgrade,
    StarRating,
    StarScheme,
    Window,
    format_duration,
    star_name,
)

__all__ = [
    "STAR_PROFILES",
    "ActivityRule",
    "Application",
    "ApplicationStatus",
    "Decision",
    "Downgrade",
    "RankEntry",
    "Revocation",
    "StarBook",
    "StarRating",
    "StarScheme",
    "Window",
    "active_counts_by_region",
    "active_volunteers",
    "format_duration",
    "rank",
    "star_name",
    "top_teams",
    "top_volunteers",
]
