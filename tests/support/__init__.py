"""Helpers shared by the tests of one package each (``support.hours``, ``support.matching``,
``support.platform``, ``support.scoring``): builders, places, clocks and oracles. ``tests/`` is
on ``sys.path`` (see ``tests/conftest.py``), so a test imports them as
``from support.platform import Clock, at``."""
