"""The command's allocator setting: with it, a large block freed and made again is served from
memory the process already holds (no page faults); without it, or when the user's own settings
are in the environment, nothing is changed. Each case runs in a process of its own, since the
setting holds for the whole process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

from zhiyuan._malloc import _USER_SETTINGS

SIXTY_FOUR_MB = 64 << 20

SCRIPT = f"""
import resource, sys
from zhiyuan._malloc import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "tune" else None

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

block = b"1" * {SIXTY_FOUR_MB}  # written through: every page touched
del block
before = faults()
block = b"2" * {SIXTY_FOUR_MB}
del block
print(took, faults() - before)
"""


def _run(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in (*_USER_SETTINGS, "ZHIYUAN_MALLOC")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


GLIBC = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


def test_a_freed_block_is_reused_without_page_faults() -> None:
    took, faults = _run("tune")
    if not GLIBC:  # nothing to ask of another C library
        assert took == "False"
        return
    assert took == "True"
    assert faults < SIXTY_FOUR_MB // 4096 // 20  # a page in 20 at most, against every page


def test_the_users_settings_and_the_opt_out_stand() -> None:
    for env in ({"ZHIYUAN_MALLOC": "default"}, {"MALLOC_TRIM_THRESHOLD_": "131072"}):
        took, _ = _run("tune", **env)
        assert took == "False", env
