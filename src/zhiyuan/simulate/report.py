"""What-if results and their comparison: a text table, JSON, and an HTML page with charts.

A :class:`ScenarioResult` is what one replay of a population under one scenario produced: star
levels, points issued and outstanding, hours by county, need fill rate. A :class:`Comparison`
lines two results up, metric by metric, with the difference. Charts need matplotlib (the
``plot`` extra); without it the HTML page has the tables only.

Example:
    >>> a = ScenarioResult(scenario="national", volunteers=10, records=40, counted_minutes=6000,
    ...     star_counts={0: 8, 1: 2}, points_issued=90, points_outstanding=60, hours_by_region={})
    >>> b = attrs.evolve(a, scenario="local", star_counts={0: 7, 1: 3}, points_issued=120,
    ...                  points_outstanding=100)
    >>> print(Comparison(a=a, b=b).text())
                                           national      local          Δ
    ---------------------------------------------------------------------
    志愿者 / volunteers                          10         10         +0
    记录 / records                               40         40         +0
    计入小时 / counted hours                    100        100         +0
    无星级 / no star                              8          7         -1
    一星级 / 1 star                               2          3         +1
    发放积分 / points issued                     90        120        +30
    未兑积分（负债）/ points outstanding         60        100        +40
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import date
from typing import Any

import attrs

from zhiyuan.convert import unstructure

__all__ = ["Comparison", "ScenarioResult"]

_ZH_NUM = "零一二三四五六七八九十"


def _star(level: int) -> str:
    if level == 0:
        return "无星级 / no star"
    return f"{_ZH_NUM[level]}星级 / {level} star{'s' if level > 1 else ''}"


@attrs.frozen(kw_only=True)
class ScenarioResult:
    """The outcome of replaying one population under one scenario.

    Minutes and points are integers; ``hours_by_region`` maps county codes to counted minutes;
    ``fill_rate_percent`` is ``None`` when no needs were simulated. ``sources`` holds, for each
    policy of the scenario, its role and the ``出处 / source`` line it cites
    (:func:`zhiyuan.profiles.cite`), so that a report says which rules it ran under.

    The rest says what was run, for a report to name it: ``policies`` the scenario's policies
    as plain data (JSON-ready, for a field-by-field comparison of A and B); ``points_by_month``
    the points of each month (``"2025-03"``: issued, expired, outstanding at the month's end,
    the last being the liability); ``city``, ``region_code``, ``first_day`` and ``last_day`` the
    history's place and period; ``scale`` and ``random_seed`` a synthetic population's (``None``
    for real records); ``assumptions`` what the replay takes for granted, each
    ``中文 / English``.
    """

    scenario: str
    volunteers: int
    records: int
    counted_minutes: int
    star_counts: dict[int, int]
    points_issued: int
    points_outstanding: int
    hours_by_region: dict[str, int]
    region_names: dict[str, str] = attrs.field(factory=dict)
    needs: int = 0
    needs_filled: int = 0
    seconds: float = 0.0
    sources: tuple[tuple[str, str], ...] = ()
    policies: dict[str, Any] = attrs.field(factory=dict)
    points_by_month: dict[str, tuple[int, int, int]] = attrs.field(factory=dict)
    city: str = ""
    region_code: str = ""
    first_day: date | None = None
    last_day: date | None = None
    scale: float | None = None
    random_seed: int | None = None
    assumptions: tuple[str, ...] = ()

    @property
    def fill_rate_percent(self) -> int | None:
        """Needs filled per 100 posted (``None`` without needs)."""
        return None if not self.needs else self.needs_filled * 100 // self.needs

    def metrics(self) -> list[tuple[str, int | None]]:
        """The compared metrics, in display order: (label, value)."""
        rows: list[tuple[str, int | None]] = [
            ("志愿者 / volunteers", self.volunteers),
            ("记录 / records", self.records),
            ("计入小时 / counted hours", self.counted_minutes // 60),
        ]
        levels = sorted(set(self.star_counts) | {0})
        rows += [(_star(lv), self.star_counts.get(lv, 0)) for lv in levels]
        rows += [
            ("发放积分 / points issued", self.points_issued),
            ("未兑积分（负债）/ points outstanding", self.points_outstanding),
        ]
        if self.needs:
            rows += [
                ("需求 / needs", self.needs),
                ("已满足 / filled", self.needs_filled),
                ("满足率 % / fill rate %", self.fill_rate_percent),
            ]
        return rows


@attrs.frozen(kw_only=True)
class Comparison:
    """Two scenario results side by side (A = the baseline, B = the variant)."""

    a: ScenarioResult
    b: ScenarioResult

    def rows(self) -> list[tuple[str, int | None, int | None]]:
        """(label, A, B) for every metric either side has, star levels merged."""
        ma, mb = dict(self.a.metrics()), dict(self.b.metrics())
        labels = [label for label, _ in self.a.metrics()]
        labels += [label for label, _ in self.b.metrics() if label not in ma]
        stars = [lb for lb in labels if "星级" in lb]
        stars.sort(key=lambda lb: 0 if lb.startswith("无") else _ZH_NUM.index(lb[0]))
        order = [lb for lb in labels if "星级" not in lb]
        at = next((i for i, lb in enumerate(order) if lb.startswith("发放积分")), len(order))
        order[at:at] = stars
        return [
            (lb, ma.get(lb, 0 if "星级" in lb else None), mb.get(lb, 0 if "星级" in lb else None))
            for lb in order
        ]

    def text(self) -> str:
        """A fixed-width table: metric, A, B, B − A."""
        width = 36
        head = f"{'':<{width}} {self.a.scenario:>10} {self.b.scenario:>10} {'Δ':>10}"
        lines = [head, "-" * len(head)]
        for label, va, vb in self.rows():
            delta = "" if va is None or vb is None else f"{vb - va:+,}"
            sa = "" if va is None else f"{va:,}"
            sb = "" if vb is None else f"{vb:,}"
            pad = width - _display_width(label) + len(label)
            lines.append(f"{label:<{pad}} {sa:>10} {sb:>10} {delta:>10}")
        top = self._top_regions()
        if top:
            lines.append("")
            lines.append("计入小时最多的县区 / counties with the most counted hours:")
            for code, name, ha, hb in top:
                lines.append(f"  {name} ({code[:6]}): {ha:,} h → {hb:,} h")
        for side in (self.a, self.b):
            if side.sources:
                lines.append("")
                lines.append(f"{side.scenario} 依据 / rules applied:")
                lines += [f"  {role}: {line}" for role, line in side.sources]
        if self.assumptions:
            lines.append("")
            lines.append("假设 / assumptions:")
            lines += [f"  - {line}" for line in self.assumptions]
        return "\n".join(lines)

    @property
    def assumptions(self) -> tuple[str, ...]:
        """What the replays assume, each once (A's, then any only B states)."""
        return tuple(dict.fromkeys((*self.a.assumptions, *self.b.assumptions)))

    def _top_regions(self, n: int = 5) -> list[tuple[str, str, int, int]]:
        ha, hb = self.a.hours_by_region, self.b.hours_by_region
        codes = sorted(set(ha) | set(hb), key=lambda c: (-ha.get(c, 0), c))[:n]
        names = {**self.a.region_names, **self.b.region_names}
        return [(c, names.get(c, c), ha.get(c, 0) // 60, hb.get(c, 0) // 60) for c in codes]

    def to_json(self) -> str:
        """Both results and the differences, as JSON text."""
        data: dict[str, Any] = {
            "a": unstructure(self.a),
            "b": unstructure(self.b),
            "rows": [
                {
                    "metric": label,
                    "a": va,
                    "b": vb,
                    "delta": None if va is None or vb is None else vb - va,
                }
                for label, va, vb in self.rows()
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=2)

    def html(self) -> str:
        """A self-contained HTML page: the table, and bar charts when matplotlib is installed."""
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{'' if va is None else f'{va:,}'}</td>"
            f"<td>{'' if vb is None else f'{vb:,}'}</td>"
            f"<td>{'' if va is None or vb is None else f'{vb - va:+,}'}</td></tr>"
            for label, va, vb in self.rows()
        )
        cited = "".join(
            f"<h2>{html.escape(side.scenario)} 依据 / rules applied</h2><ul>"
            + "".join(
                f"<li>{html.escape(role)}: {html.escape(line)}</li>" for role, line in side.sources
            )
            + "</ul>"
            for side in (self.a, self.b)
            if side.sources
        )
        chart = _chart(self)
        img = f'<img alt="star levels" src="data:image/png;base64,{chart}">' if chart else ""
        a, b = html.escape(self.a.scenario), html.escape(self.b.scenario)
        return (
            "<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            f"<title>zhiyuan what-if: {a} vs {b}</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
            "td:first-child{text-align:left}</style></head><body>"
            f"<h1>政策模拟 / what-if: {a} vs {b}</h1>"
            f"<table><tr><th></th><th>{a}</th><th>{b}</th><th>Δ</th></tr>{rows}</table>"
            f"{img}{cited}</body></html>"
        )


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _chart(cmp: Comparison) -> str | None:
    """A PNG bar chart of star levels, base64-encoded, or ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    levels = sorted(set(cmp.a.star_counts) | set(cmp.b.star_counts))
    levels = [lv for lv in levels if lv > 0] or levels
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = range(len(levels))
    ax.bar(
        [x - 0.2 for x in xs],
        [cmp.a.star_counts.get(lv, 0) for lv in levels],
        0.4,
        label=cmp.a.scenario,
    )
    ax.bar(
        [x + 0.2 for x in xs],
        [cmp.b.star_counts.get(lv, 0) for lv in levels],
        0.4,
        label=cmp.b.scenario,
    )
    ax.set_xticks(list(xs), [f"{lv}★" for lv in levels])
    ax.set_ylabel("volunteers")
    ax.legend()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
