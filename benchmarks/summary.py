"""Run every ``bench_*.py`` and print each figure that has a target beside it, at the end.

``make bench`` runs this. Each benchmark prints its own figures (and its peers', timed the same
way in the same run); the lines that name a target are gathered into one summary, benchmark by
benchmark, so the state of every target is read in one place.
``python benchmarks/summary.py [name …]`` runs only the named benchmarks (``bulk_stars`` …).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = set(sys.argv[1:])
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    summary: list[tuple[str, list[str]]] = []
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        run = subprocess.run(
            [sys.executable, script.name], cwd=HERE, capture_output=True, text=True, check=False
        )
        print(run.stdout, end="")
        if run.returncode:
            print(run.stderr, end="")
            failed.append(script.name)
        lines = [ln.strip() for ln in run.stdout.splitlines() if "target" in ln]
        summary.append((script.name, lines))
    print("\n== summary: every figure with a target")
    for name, lines in summary:
        print(name)
        for line in lines or ["(no target)"]:
            print(f"  {line}")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
