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
    AwardEntry,
    Decision,
    Review,
    ReviewClosed,
    Revocation,
    StarBook,
)
from zhiyuan.scoring.feedback import (
    MAX_STARS,
    MIN_STARS,
    BayesianPrior,
    Complaint,
    ComplaintStatus,
    Dismissed,
    FeedbackBook,
    FeedbackEntry,
    FeedbackScore,
    Rating,
    Upheld,
    format_hundredths,
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
from zhiyuan.scoring.scorecards import (
    SCORECARD_PROFILES,
    Band,
    Indicator,
    Scorecard,
    ScorePart,
    ScoreResult,
    scorecard_for,
    station_values,
)
from zhiyuan.scoring.stars import (
    STAR_PROFILES,
    Downgrade,
    Lapse,
    StarRating,
    StarScheme,
    Window,
    format_duration,
    star_name,
)

__all__ = [
    "MAX_STARS",
    "MIN_STARS",
    "SCORECARD_PROFILES",
    "STAR_PROFILES",
    "ActivityRule",
    "Application",
    "ApplicationStatus",
    "AwardEntry",
    "Band",
    "BayesianPrior",
    "Complaint",
    "ComplaintStatus",
    "Decision",
    "Dismissed",
    "Downgrade",
    "FeedbackBook",
    "FeedbackEntry",
    "FeedbackScore",
    "Indicator",
    "Lapse",
    "RankEntry",
    "Rating",
    "Review",
    "ReviewClosed",
    "Revocation",
    "ScorePart",
    "ScoreResult",
    "Scorecard",
    "StarBook",
    "StarRating",
    "StarScheme",
    "Upheld",
    "Window",
    "active_counts_by_region",
    "active_volunteers",
    "format_duration",
    "format_hundredths",
    "rank",
    "scorecard_for",
    "star_name",
    "station_values",
    "top_teams",
    "top_volunteers",
]
