"""Progress of long jobs: the callbacks the library calls, and the command line's bar."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.bulk import Columns, evaluate_hours  # noqa: E402
from zhiyuan.hierarchy import Organization, Registry, load_default  # noqa: E402
from zhiyuan.hours import HOUR_PROFILES, HourLedger, Volunteer  # noqa: E402
from zhiyuan.hours.imports import PROGRESS_EVERY, import_jsonl  # noqa: E402
from zhiyuan.progress import Bar  # noqa: E402
from zhiyuan.simulate import CITY_PROFILES, Scenario, compare, from_records, generate  # noqa: E402

TREE = load_default()


class Calls:
    """A progress callback that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_generate_and_compare_report_every_step() -> None:
    seen = Calls()
    pop = generate(CITY_PROFILES["shinan"], TREE, scale=0.005, seed=3, progress=seen)
    assert [(d, t) for _, d, t in seen.calls] == [(1, 3), (2, 3), (3, 3)]
    seen.calls.clear()
    compare(pop, Scenario(name="A"), Scenario(name="B"), TREE, progress=seen)
    steps = [(s, d, t) for s, d, t in seen.calls if "向量" not in s and "逐行" not in s]
    assert [s.split(":")[0] for s, _, _ in steps] == ["A"] * 4 + ["B"] * 4
    assert [(d, t) for _, d, t in steps] == [(k, 4) for k in (1, 2, 3, 4)] * 2
    assert any("工时（向量）" in s for s, _, _ in seen.calls)  # evaluate_hours reports too


def test_from_records_reports_three_steps() -> None:
    seen = Calls()
    t = int(datetime(2025, 3, 1, 9, tzinfo=SHANGHAI).timestamp())
    cols = {
        "volunteer": ["a"],
        "region": ["370202001001"],
        "start": [t],
        "end": [t + 600],
        "evidence": ["gps"],
        "category": ["助老"],
    }
    from_records(cols, TREE, progress=seen)
    assert [(d, t) for _, d, t in seen.calls] == [(1, 3), (2, 3), (3, 3)]


def test_the_exact_path_reports_its_rows() -> None:
    rng = np.random.default_rng(1)
    n = 30_000
    start = int(datetime(2024, 1, 1, tzinfo=SHANGHAI).timestamp()) + rng.integers(0, 10**7, n)
    cols = Columns.of(
        {
            "volunteer": rng.integers(0, 50, n),  # shuffled starts: every row on the exact path
            "start": start,
            "end": start + 3600,
            "evidence": np.zeros(n, dtype=np.int64),
            "category": np.zeros(n, dtype=np.int64),
        },
        categories=("助老",),
    )
    seen = Calls()
    with pytest.warns(UserWarning):
        out = evaluate_hours(
            cols,
            HOUR_PROFILES["national"],
            now=datetime(2025, 1, 1, tzinfo=SHANGHAI),
            progress=seen,
        )
    slow = int(out.fallback.sum())
    exact = [(d, t) for s, d, t in seen.calls if "逐行" in s]
    assert seen.calls[0][1:] == (n - slow, n)
    assert exact[-1] == (slow, slow) and [d for d, _ in exact[:-1]] == list(
        range(10_000, slow, 10_000)
    )


def test_imports_report_every_thousand_rows() -> None:
    reg = Registry(TREE, [Organization(id="o1", name="协会", region_code="370602001")])
    ledger = HourLedger(
        reg,
        volunteers=[
            Volunteer(
                id="v1", name="志愿者", home_region="370602001001", registered_on=date(2024, 1, 1)
            )
        ],
    )
    base = datetime(2024, 2, 1, 9, tzinfo=SHANGHAI)
    lines = []
    for k in range(2500):
        start = base + timedelta(days=k // 4, hours=2 * (k % 4))
        lines.append(
            json.dumps(
                {"id": f"r{k}", "volunteer_id": "v1", "activity_id": "a", "organization_id": "o1",
                 "region_code": "370602001001", "category": "助老", "start": start.isoformat(),
                 "end": (start + timedelta(hours=1)).isoformat(), "evidence": "qr_scan"}
            )
        )  # fmt: skip
    seen = Calls()
    report = import_jsonl(ledger, "\n".join(lines), at=datetime(2025, 12, 1, tzinfo=SHANGHAI),
                          progress=seen)  # fmt: skip
    assert report.posted == 2500
    assert seen.calls == [
        ("导入 / import", PROGRESS_EVERY, None),
        ("导入 / import", 2 * PROGRESS_EVERY, None),
        ("导入 / import", 2500, 2500),
    ]


def test_the_bar_draws_on_a_terminal_only() -> None:
    term = Terminal()
    bar = Bar(term, width=10)
    bar("工时 / hours", 5, 10)
    bar("工时 / hours", 10, 10)  # the last step is always drawn
    bar.close()
    text = term.getvalue()
    assert text.startswith("\r  工时 / hours  [#####     ] 5/10")
    assert "[##########] 10/10" in text and text.endswith("\n")
    quiet = io.StringIO()
    silent = Bar(quiet)
    silent("x", 1, 2)
    silent.close()
    assert quiet.getvalue() == "" and silent.drawn == 0


def test_the_command_line_draws_no_bar_into_a_pipe(capsys: Any) -> None:
    from zhiyuan.__main__ import main

    assert main(["simulate", "--region", "370202", "--scale", "0.01"]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err and "\r" not in captured.out
