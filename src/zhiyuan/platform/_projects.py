"""The platform's project flows: publishing projects and activities, sign-up, sign-in and
sign-out (招募注册、项目发布、报名、签到签退), with the hours they earn posted through the hour chain."""

from __future__ import annotations

from zhiyuan.platform._core import PlatformCore

__all__ = ["ProjectFlows"]


class ProjectFlows(PlatformCore):
    """Projects and activities on the platform (see :class:`~zhiyuan.platform.Platform`)."""

    def _init_projects(self) -> None:
        """Make the project books on the platform's journal."""
