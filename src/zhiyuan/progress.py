"""Progress of long jobs (进度): a callback the library calls, and a bar the command line draws.

Long jobs — generating a population, replaying it, importing records, evaluating millions of
rows — take a ``progress`` keyword: a callable ``progress(stage, done, total)`` called as the
work advances (``total`` is ``None`` when it is not known in advance, as when a file is read
line by line). The library is quiet by default (no callback, nothing printed); a notebook or a
service passes its own callback, and the command line draws a :class:`Bar` on a terminal.

Why not tqdm or rich: a line of text redrawn in place is all the command line needs, and a
dependency for it would reach every user of the library; a callback lets those who want tqdm
(or a web page) drive it themselves.

Example:
    >>> seen = []
    >>> step = stepper(lambda stage, done, total: seen.append((stage, done, total)), 2)
    >>> step("工时 / hours")
    >>> step("星级 / stars")
    >>> seen
    [('工时 / hours', 1, 2), ('星级 / stars', 2, 2)]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Bar", "Progress", "stepper"]

Progress = Callable[[str, int, int | None], None]
"""A progress callback: ``(stage, done, total)``, ``total`` ``None`` when unknown."""


def stepper(progress: Progress | None, total: int) -> Callable[[str], None]:
    """A function that reports one more of ``total`` steps (each named by its stage) to
    ``progress``, or does nothing when ``progress`` is ``None``."""
    done = 0

    def step(stage: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(stage, done, total)

    return step


class Bar:
    """A progress line on a terminal, redrawn in place: ``stage  done/total  [#####     ]``.

    It draws only when ``stream`` is a terminal (on a pipe or a file it stays silent, so logs and
    machine-read output stay clean), at most ten times a second, and :meth:`close` ends the
    line.

    Example:
        >>> import io
        >>> bar = Bar(io.StringIO())   # not a terminal: silent
        >>> bar("导入 / import", 10, None); bar.close(); bar.drawn
        0
    """

    def __init__(self, stream: TextIO | None = None, *, width: int = 24) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.drawn = 0
        self._last = 0.0
        self._on = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self._on:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        if total:
            filled = min(self.width, self.width * done // total)
            bar = f"[{'#' * filled}{' ' * (self.width - filled)}] {done:,}/{total:,}"
        else:
            bar = f"{done:,}"
        self.stream.write(f"\r  {stage}  {bar}\033[K")
        self.stream.flush()
        self.drawn += 1

    def close(self) -> None:
        """End the line (when anything was drawn)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
