"""The fuzz suite: how many inputs it fed, printed after the run."""

from __future__ import annotations

import pytest

from fuzz_support import INPUTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not INPUTS:
        return
    terminalreporter.section("fuzz inputs")
    for test, n in sorted(INPUTS.items()):
        terminalreporter.write_line(f"{n:>9,}  {test}")
    terminalreporter.write_line(f"{sum(INPUTS.values()):>9,}  in all")
