"""Policy simulation: synthetic populations on the real tree and what-if replays (needs numpy).

Example:
    >>> from zhiyuan.simulate import CITY_PROFILES
    >>> CITY_PROFILES["yantai"].volunteers
    1460000
"""

from __future__ import annotations

from zhiyuan.simulate.population import (
    CATEGORIES,
    CITY_PROFILES,
    CityProfile,
    Population,
    generate,
)
from zhiyuan.simulate.replay import Scenario, compare, replay
from zhiyuan.simulate.report import Comparison, ScenarioResult

__all__ = [
    "CATEGORIES",
    "CITY_PROFILES",
    "CityProfile",
    "Comparison",
    "Population",
    "Scenario",
    "ScenarioResult",
    "compare",
    "generate",
    "replay",
]
