"""The platform's good-deed flows: good deeds and deductions (公益行为积分、扣分) claimed, approved
and posted to the points ledger, and the points of sites and teams (阵地积分)."""

from __future__ import annotations

from zhiyuan.platform._core import PlatformCore

__all__ = ["DeedFlows"]


class DeedFlows(PlatformCore):
    """Good deeds and site and team points on the platform (see
    :class:`~zhiyuan.platform.Platform`)."""

    def _init_deeds(self) -> None:
        """Make the good-deed books on the platform's journal."""
