"""Regenerate the embedded seed data in src/zhiyuan/hierarchy/data/ from data/nbs/.

Run from the repository root: ``python tools/make_seed_data.py``. Output is deterministic
(sorted rows, gzip without a timestamp), so a rerun on the same input changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "data" / "nbs"
OUT = ROOT / "src" / "zhiyuan" / "hierarchy" / "data"
SEEDS = ("3706", "3702", "5203", "1408")
PROVINCES = sorted({s[:2] for s in SEEDS})
FILES = ("provinces", "cities", "counties", "townships", "villages")


def _keep(code: str) -> bool:
    if len(code) == 2:
        return code in PROVINCES
    return code[:4] in SEEDS


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    named: list[list[str]] = []
    for stem in FILES:
        with gzip.open(SRC / f"{stem}.csv.gz", "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            ip = next((i for i, h in enumerate(header) if h.endswith("_code")), None)
            for row in reader:
                if _keep(row[0]):
                    named.append([row[0], row[1], row[ip] if ip is not None else ""])
    named.sort(key=lambda r: r[0].ljust(12, "0") + str(len(r[0])).zfill(2))
    _write(OUT / "seed_2023.csv.gz", ["code", "name", "parent_code"], named)

    structure: list[list[str]] = []
    with gzip.open(SRC / "structure_2019.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for row in reader:
            code = row[0]
            if code[:2] in PROVINCES and (code[2:] == "0" * 10 or code[:4] in SEEDS):
                structure.append(row)
    structure.sort()
    _write(OUT / "seed_2019.csv.gz", header, structure)
    print(f"wrote {len(named)} named rows and {len(structure)} structure rows to {OUT}")


if __name__ == "__main__":
    main()
