"""Policy simulation: what-if replays of a city's real records or of a synthetic population on
the real tree (needs numpy).

Example:
    >>> from zhiyuan.simulate import CITY_PROFILES
    >>> CITY_PROFILES["yantai"].volunteers
    1460000
"""

from __future__ import annotations

from zhiyuan.simulate.population import (
    CATEGORIES,
    CITY_PROFILES,
    NATIONAL_HOURS_PER_VOLUNTEER,
    PUBLISHED_TOTALS,
    CityProfile,
    Population,
    generate,
    generate_blocks,
    profile_for,
)
from zhiyuan.simulate.records import from_records, read_table
from zhiyuan.simulate.replay import (
    ASSUMPTIONS,
    Response,
    Scenario,
    compare,
    compare_blocks,
    replay,
    respond,
)
from zhiyuan.simulate.report import Comparison, ScenarioResult

__all__ = [
    "ASSUMPTIONS",
    "CATEGORIES",
    "CITY_PROFILES",
    "NATIONAL_HOURS_PER_VOLUNTEER",
    "PUBLISHED_TOTALS",
    "CityProfile",
    "Comparison",
    "Population",
    "Response",
    "Scenario",
    "ScenarioResult",
    "compare",
    "compare_blocks",
    "from_records",
    "generate",
    "generate_blocks",
    "profile_for",
    "read_table",
    "replay",
    "respond",
]
