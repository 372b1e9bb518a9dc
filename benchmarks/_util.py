"""Shared helpers for the benchmark scripts: timing and peak memory, printed as plain figures."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "data" / "nbs"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Read from ``VmHWM`` in ``/proc/self/status``, which starts afresh when a program starts:
    ``getrusage``'s ``ru_maxrss`` survives ``exec``, so a child process would report its parent's
    peak. Where ``/proc`` is missing, ``ru_maxrss`` it is (Linux reports KiB).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` once; return its result and the wall-clock seconds."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def verdict(value: float, target: float, *, lower_is_better: bool = True) -> str:
    ok = value <= target if lower_is_better else value >= target
    return "meets target" if ok else "MISSES target"


def best_of(fn: Callable[[], T], runs: int = 3) -> tuple[T, float]:
    """Warm ``fn`` with one untimed call, then run it ``runs`` times; its last result and the
    best wall-clock seconds (both sides of a comparison are timed this way)."""
    out = fn()
    best = float("inf")
    for _ in range(runs):
        out, secs = timed(fn)
        best = min(best, secs)
    return out, best
