"""Large runs and the C allocator: :func:`keep_freed_memory` (public in :mod:`zhiyuan.bulk`).

glibc serves each block above its mmap threshold (at most 32 MiB) with fresh pages from the
kernel and unmaps them when the block is freed. A replay makes and drops many arrays of tens of
megabytes, so it pays a page fault for every 4 KiB of each, again and again: on 烟台's full
what-if (``zhiyuan simulate --region 3706 --full``) about 5 s of kernel time out of 16 s.
:func:`keep_freed_memory` asks glibc to take every block from its heap instead and to keep
what is freed there for the next array; the same what-if then takes 13.6 s against 16.0 s
(medians of three, paired), for 6 % more peak memory. A program embedding zhiyuan gets the same
from the environment, before Python starts: ``MALLOC_MMAP_MAX_=0
MALLOC_TRIM_THRESHOLD_=2147483647``.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_MAX = -4
_KEEP = 2**31 - 1  # the largest trim threshold mallopt takes (a C int): never trim below it

_USER_SETTINGS = (
    "MALLOC_MMAP_MAX_",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "GLIBC_TUNABLES",
)
"""Settings of the allocator a user may have made: when any is set, theirs stand."""


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to serve large blocks from its heap, not by ``mmap``, and to keep
    freed memory for reuse rather than give it back to the kernel. True if it took effect.

    Nothing is done (False) off Linux, on a C library without ``mallopt`` (musl's does
    nothing), when the environment already sets the allocator (``MALLOC_…_``,
    ``GLIBC_TUNABLES``), or when ``ZHIYUAN_MALLOC=default``. The setting holds for the whole
    process, so the library never makes it on import: the ``zhiyuan`` command does, for itself,
    and a program or notebook that evaluates millions of rows may call it once at its start
    (``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647`` in the environment do the same
    before Python starts). Peak memory grows a little (6 % on 烟台's what-if), and the process
    keeps its peak until it ends. The gain is measured on columnar work (:mod:`zhiyuan.bulk`,
    :mod:`zhiyuan.simulate`); for a process that mostly holds ledgers of Python objects it is
    not, so measure there before making the setting.

    Example:
        >>> from zhiyuan.bulk import keep_freed_memory
        >>> keep_freed_memory() in (True, False)  # True on Linux with glibc
        True
    """
    if sys.platform != "linux" or os.environ.get("ZHIYUAN_MALLOC") == "default":
        return False
    if any(name in os.environ for name in _USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP))
