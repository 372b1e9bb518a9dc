"""What-if results and their comparison: a text table, JSON, and an HTML page with charts.

A :class:`ScenarioResult` is what one replay of a population under one scenario produced: star
levels, points issued and outstanding, hours by county, need fill rate. A :class:`Comparison`
lines two results up, metric by metric, with the difference, as a text table
(:meth:`Comparison.text`), JSON (:meth:`Comparison.to_json`) or a report for a policy maker
(:meth:`Comparison.html`): what differs between the policies, the headline figures, star levels,
points and their liability by month, hours by county, the assumptions and the rules' sources.
Its charts need matplotlib (the ``plot`` extra) and, for Chinese labels, a Chinese font (Noto
Sans CJK, WenQuanYi, Source Han Sans …); without matplotlib the page has the tables only.

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
import functools
import html
import io
import json
import os
from datetime import date
from typing import Any

import attrs

from zhiyuan._validators import system_clock
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

    def differences(self) -> list[tuple[str, str, str, str]]:
        """The policy fields whose values differ between A and B: (policy, field, A, B).

        Fields come from :attr:`ScenarioResult.policies`, nested tables flattened with dots
        (``counts_toward.points``); a policy's ``source`` is shown by its document's name only.
        Values are readable text: lists joined with commas, ``None`` as ``—``.

        Example:
            >>> base = ScenarioResult(scenario="A", volunteers=0, records=0, counted_minutes=0,
            ...     star_counts={}, points_issued=0, points_outstanding=0, hours_by_region={},
            ...     policies={"stars": {"name": "national", "thresholds_hours": [100, 300]},
            ...               "points": {"expiry": "none", "evidence": None}})
            >>> other = attrs.evolve(base, scenario="B",
            ...     policies={"stars": {"name": "national", "thresholds_hours": [30, 60]},
            ...               "points": {"expiry": "year_end", "evidence": ["gps", "qr_scan"]}})
            >>> for row in Comparison(a=base, b=other).differences():
            ...     print(" | ".join(row))
            星级 / stars | 星级门槛（小时）/ thresholds_hours | 100, 300 | 30, 60
            积分 / points | 过期方式 / expiry | none | year_end
            积分 / points | 认可的凭证 / evidence | — | gps, qr_scan
        """
        fa, fb = _flatten(self.a.policies), _flatten(self.b.policies)
        keys = list(dict.fromkeys([*fa, *fb]))
        rank = {role: i for i, role in enumerate(_POLICY_ROLES)}
        keys.sort(key=lambda k: rank.get(k[0], len(rank)))  # stable: fields keep their order
        missing = object()
        out = []
        for key in keys:
            va, vb = fa.get(key, missing), fb.get(key, missing)
            if va == vb:
                continue
            role, field = key
            out.append(
                (
                    _POLICY_ROLES.get(role, role),
                    _field_label(field),
                    "—" if va is missing else _readable(va),
                    "—" if vb is missing else _readable(vb),
                )
            )
        return out

    def html(self, *, made_on: date | None = None) -> str:
        """A self-contained HTML5 page for a policy maker, Chinese first with English beside.

        It names the place, the period, the population (a synthetic one's scale and random
        seed) and ``made_on`` (default: today in Asia/Shanghai), then seven sections: what
        differs between the policies, the headline figures, the star levels, the points issued,
        expired and outstanding by month with the final liability, hours by county, the
        assumptions, and the rules applied with their sources. Charts are PNG images inside the
        page, drawn with matplotlib (the ``plot`` extra) in a Chinese font when one is
        installed, else with English labels only (the page says so); without matplotlib the
        page has the tables only. Nothing is loaded from the network.

        Example:
            >>> a = ScenarioResult(scenario="A", volunteers=2, records=3, counted_minutes=600,
            ...     star_counts={0: 2}, points_issued=10, points_outstanding=10,
            ...     hours_by_region={"370202000000": 600}, region_names={"370202000000": "市南区"},
            ...     city="市南区", region_code="370202000000")
            >>> page = Comparison(a=a, b=attrs.evolve(a, scenario="B")).html(
            ...     made_on=date(2026, 1, 5))
            >>> page.startswith("<!DOCTYPE html>"), "制作日期 / made on</th><td>2026-01-05" in page
            (True, True)
        """
        made_on = made_on or system_clock().date()
        charts = _Charts.draw(self)
        a, b = self.a, self.b
        sa, sb = html.escape(a.scenario), html.escape(b.scenario)
        head_ab = f"<th>A {sa}</th><th>B {sb}</th>"
        parts: list[str] = []

        # --- what was run -------------------------------------------------------------------
        city = a.city or b.city or "—"
        code = a.region_code or b.region_code
        first, last = a.first_day or b.first_day, a.last_day or b.last_day
        period = f"{first or '—'} – {last or '—'}"
        if a.scale is not None:
            seed = "—" if a.random_seed is None else str(a.random_seed)
            population = (
                f"合成人口：按本地公开数据的 {a.scale:g} 倍生成，随机种子 {seed} / "
                f"synthetic population at {a.scale:g}× the published figures, random seed {seed}"
            )
        else:
            population = "真实记录 / real records"
        facts = [
            ("地区 / place", f"{city} ({code})" if code else city),
            ("时期 / period", period),
            ("人口 / population", population),
            (
                "规模 / size",
                f"{a.volunteers:,} 名志愿者，{a.records:,} 条记录 / "
                f"{a.volunteers:,} volunteers, {a.records:,} records",
            ),
            ("情景 / scenarios", f"A = {a.scenario}（基准 / baseline），B = {b.scenario}"),
            ("制作日期 / made on", made_on.isoformat()),
        ]
        parts.append(
            f"<h1>政策模拟报告 / Policy simulation report: {html.escape(city)}</h1>"
            "<table class='facts'><tbody>"
            + "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts
            )
            + "</tbody></table>"
        )
        if charts.note:
            parts.append(f"<p class='note'>{html.escape(charts.note)}</p>")

        # --- 1. what differs ----------------------------------------------------------------
        diffs = self.differences()
        body = (
            "<table><thead><tr><th>政策 / policy</th><th>字段 / field</th>"
            f"{head_ab}</tr></thead><tbody>"
            + "".join(
                f"<tr><td>{html.escape(p)}</td><td>{html.escape(f)}</td>"
                f"<td>{html.escape(va)}</td><td>{html.escape(vb)}</td></tr>"
                for p, f, va, vb in diffs
            )
            + "</tbody></table>"
            if diffs
            else "<p>两种情景的政策相同 / The two scenarios' policies are the same.</p>"
        )
        parts.append(
            _section(
                "differences",
                "<p>只列出取值不同的字段；出处只列文件名，详见第 7 节 / Only the fields whose "
                "values differ; sources by document name (see section 7).</p>" + body,
            )
        )

        # --- 2. headline figures ------------------------------------------------------------
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{_n(va)}</td><td>{_n(vb)}</td>"
            f"<td>{_delta(va, vb)}</td><td>{_percent(va, vb)}</td></tr>"
            for label, va, vb in self.rows()
        )
        parts.append(
            _section(
                "headline",
                "<table><thead><tr><th>指标 / metric</th>"
                f"{head_ab}<th>Δ</th><th>Δ %</th></tr></thead><tbody>{rows}</tbody></table>",
            )
        )

        # --- 3. star levels -----------------------------------------------------------------
        levels = sorted(set(a.star_counts) | set(b.star_counts) | {0})
        star_rows = "".join(
            f"<tr><td>{html.escape(_star(lv))}</td>"
            f"<td>{_n(a.star_counts.get(lv, 0))}</td><td>{_share(a.star_counts.get(lv, 0), a)}</td>"
            f"<td>{_n(b.star_counts.get(lv, 0))}</td><td>{_share(b.star_counts.get(lv, 0), b)}</td>"
            f"<td>{_delta(a.star_counts.get(lv, 0), b.star_counts.get(lv, 0))}</td></tr>"
            for lv in levels
        )
        parts.append(
            _section(
                "stars",
                charts.img("stars", "星级分布图 / chart of star levels")
                + "<table><thead><tr><th>星级 / level</th>"
                f"<th>A {sa}</th><th>% A</th><th>B {sb}</th><th>% B</th><th>Δ</th></tr></thead>"
                f"<tbody>{star_rows}</tbody></table>",
            )
        )

        # --- 4. points over time ------------------------------------------------------------
        parts.append(_section("points", self._points_html(charts)))

        # --- 5. hours by county -------------------------------------------------------------
        counties = self._counties()
        total_a = sum(ha for _, _, ha, _ in counties) or 1
        total_b = sum(hb for _, _, _, hb in counties) or 1
        county_rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(c)}</td>"
            f"<td>{_n(ha)}</td><td>{100 * ha / total_a:.1f}</td>"
            f"<td>{_n(hb)}</td><td>{100 * hb / total_b:.1f}</td><td>{_delta(ha, hb)}</td></tr>"
            for c, name, ha, hb in counties
        )
        parts.append(
            _section(
                "counties",
                (
                    charts.img("counties", "计入小时最多的县区 / counties with the most hours")
                    + "<table><thead><tr><th>县区 / county</th><th>代码 / code</th>"
                    f"<th>A {sa} (h)</th><th>% A</th><th>B {sb} (h)</th><th>% B</th>"
                    f"<th>Δ (h)</th></tr></thead><tbody>{county_rows}</tbody></table>"
                )
                if counties
                else "<p>没有按县区的小时 / No hours by county.</p>",
            )
        )

        # --- 6. assumptions -----------------------------------------------------------------
        assumed = "".join(f"<li>{html.escape(line)}</li>" for line in self.assumptions)
        parts.append(
            _section(
                "assumptions",
                f"<ul>{assumed}</ul>"
                if assumed
                else "<p>结果未列出假设 / The results state no assumptions.</p>",
            )
        )

        # --- 7. rules and sources -----------------------------------------------------------
        cited = "".join(
            f"<h3>{'AB'[i]} {html.escape(side.scenario)} 依据 / rules applied</h3><ul>"
            + "".join(
                f"<li>{html.escape(role)}: {html.escape(line)}</li>" for role, line in side.sources
            )
            + "</ul>"
            for i, side in enumerate((a, b))
            if side.sources
        )
        parts.append(
            _section("sources", cited or "<p>结果未列出依据 / The results cite no rules.</p>")
        )

        title = f"政策模拟 / Policy simulation: {city}, A {a.scenario} vs B {b.scenario}"
        return (
            "<!DOCTYPE html>\n<html lang='zh'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<link rel='icon' href='data:,'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "".join(parts)
            + "<footer><p>zhiyuan 生成 / made by zhiyuan</p></footer></body></html>\n"
        )

    def _points_html(self, charts: _Charts) -> str:
        """Section 4: the liability stated, a chart by month and a table by year."""
        a, b = self.a, self.b
        if not a.points_by_month and not b.points_by_month:
            return (
                "<p>没有积分的逐月数据 / No points by month were recorded.</p>"
                f"<p>期末未兑积分（负债）/ points outstanding at the end: A {_n(a.points_outstanding)}"
                f"，B {_n(b.points_outstanding)}</p>"
            )
        expiry = [_readable(_flatten(side.policies).get(("points", "expiry"))) for side in (a, b)]
        end = max([*a.points_by_month, *b.points_by_month])
        liability = (
            f"<p class='liability'>截至 {end} 月末，未兑积分（负债）A {html.escape(a.scenario)} 为 "
            f"<strong>{_n(a.points_outstanding)}</strong>，B {html.escape(b.scenario)} 为 "
            f"<strong>{_n(b.points_outstanding)}</strong>（{_delta(a.points_outstanding, b.points_outstanding)}）"
            f" / Points outstanding (the liability) at the end of {end}: "
            f"A {_n(a.points_outstanding)}, B {_n(b.points_outstanding)} "
            f"({_delta(a.points_outstanding, b.points_outstanding)}). "
            f"过期方式 / expiry: A {html.escape(expiry[0])}, B {html.escape(expiry[1])}.</p>"
        )
        years = sorted({m[:4] for m in (*a.points_by_month, *b.points_by_month)})
        ya, yb = _by_year(a.points_by_month), _by_year(b.points_by_month)
        rows = "".join(
            f"<tr><td>{y}</td>"
            + "".join(f"<td>{_n(v)}</td>" for v in (*ya.get(y, (0, 0, 0)), *yb.get(y, (0, 0, 0))))
            + "</tr>"
            for y in years
        )
        sa, sb = html.escape(a.scenario), html.escape(b.scenario)
        table = (
            "<table><thead><tr><th rowspan='2'>年 / year</th>"
            f"<th colspan='3'>A {sa}</th><th colspan='3'>B {sb}</th></tr><tr>"
            + "<th>发放 / issued</th><th>过期 / expired</th><th>年末未兑 / outstanding</th>" * 2
            + f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        return (
            liability + charts.img("points", "积分逐月发放、过期与未兑 / points by month") + table
        )

    def _counties(self) -> list[tuple[str, str, int, int]]:
        """Every county: (code, name, A hours, B hours), most hours first."""
        return self._top_regions(n=len(set(self.a.hours_by_region) | set(self.b.hours_by_region)))


_POLICY_ROLES: dict[str, str] = {
    "hours": "工时 / hours",
    "stars": "星级 / stars",
    "points": "积分 / points",
    "dispatch": "派单 / dispatch",
    "needs": "模拟需求 / sample needs",
}

_FIELDS: dict[str, str] = {
    "name": "名称",
    "effective_from": "施行日期",
    "source": "出处文件",
    "unit_minutes": "计时单位（分钟）",
    "rounding": "取整",
    "record_cap_minutes": "单条上限（分钟）",
    "schedule_capped": "以排班封顶的凭证",
    "daily_cap_minutes": "每日上限（分钟）",
    "over_daily_cap": "超出每日上限",
    "minor_daily_cap_minutes": "未成年人每日上限（分钟）",
    "min_age": "最低年龄",
    "overlap": "时间重叠",
    "deadline_days": "录入期限（天）",
    "late": "逾期录入",
    "max_span_minutes": "单条最长（分钟）",
    "excluded_categories": "不计入的类别",
    "category_weights": "类别权重",
    "counts_toward": "计入用途的凭证",
    "notice_days": "公示天数",
    "auto_certify": "自动认证的凭证",
    "thresholds_hours": "星级门槛（小时）",
    "window": "统计时段",
    "window_years": "时段年数",
    "evidence": "认可的凭证",
    "categories": "计入的类别",
    "weighted": "按类别加权",
    "min_months": "最短注册月数",
    "sequential_from": "逐级评定起点",
    "clean_years": "无不良记录年数",
    "ban_years": "禁评年数",
    "approving": "审批层级",
    "downgrade": "降级",
    "on_lapse": "失效处理",
    "instrument": "发放品种",
    "issuer": "发放账户",
    "points_per_hour": "积分数",
    "hours_per_point": "折算小时数",
    "tiers": "递减档次",
    "carry": "零头结转",
    "category_multipliers": "类别倍数（%）",
    "daily_cap": "每日积分上限",
    "monthly_cap": "每月积分上限",
    "yearly_cap": "每年积分上限",
    "lifetime_cap": "累计积分上限",
    "pending_days": "冻结天数",
    "expiry": "过期方式",
    "expiry_years": "有效年数",
    "expiry_months": "有效月数",
    "expiry_days": "有效天数",
    "timing": "发放时机",
    "clawback": "撤销时追回",
    "tree_weight": "区划距离权重",
    "km_weight": "公里权重",
    "rating_weight": "评分权重",
    "reliability_weight": "守约权重",
    "load_weight": "负荷权重",
    "escalation": "就近逐级范围",
    "min_candidates": "最少候选人",
    "max_distance_m": "最远距离（米）",
    "offer_timeout_minutes": "接单时限（分钟）",
}
"""Chinese names of the policies' fields, for the report (others show their key alone)."""

_SECTIONS: dict[str, str] = {
    "differences": "1. 政策差异 / What differs between A and B",
    "headline": "2. 主要指标 / Headline figures",
    "stars": "3. 星级分布 / Star levels",
    "points": "4. 积分的发放、过期与负债 / Points issued, expired and outstanding",
    "counties": "5. 各县区计入小时 / Counted hours by county",
    "assumptions": "6. 假设 / Assumptions",
    "sources": "7. 规则与出处 / Rules applied and their sources",
}

_CSS = (
    "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',"
    "'Microsoft YaHei','PingFang SC',sans-serif;margin:2em auto;max-width:60em;padding:0 1em;"
    "color:#222;line-height:1.5}"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #b22;padding-bottom:.2em;margin-top:2em}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right;vertical-align:top}"
    "td:first-child,th:first-child{text-align:left}thead th{background:#f4f4f4}"
    "table.facts th{background:#f4f4f4;text-align:left}table.facts td{text-align:left}"
    "#differences td,#differences th{text-align:left}th[colspan]{text-align:center}"
    "img{max-width:100%;height:auto;display:block;margin:1em 0}"
    ".note{background:#fff6d5;padding:.5em 1em}.liability{font-size:1.1em}"
    "footer{margin-top:3em;color:#777;font-size:.9em}"
)


def _section(key: str, body: str) -> str:
    return f"<section id='{key}'><h2>{html.escape(_SECTIONS[key])}</h2>{body}</section>"


def _n(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _delta(va: int | None, vb: int | None) -> str:
    return "" if va is None or vb is None else f"{vb - va:+,}"


def _percent(va: int | None, vb: int | None) -> str:
    return "" if va is None or vb is None or va == 0 else f"{100 * (vb - va) / va:+.1f}"


def _share(count: int, side: ScenarioResult) -> str:
    return f"{100 * count / side.volunteers:.1f}" if side.volunteers else ""


def _by_year(months: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    """Points issued and expired in each year, and outstanding at its last month's end."""
    out: dict[str, tuple[int, int, int]] = {}
    for month in sorted(months):
        issued, expired, outstanding = months[month]
        i, e, _ = out.get(month[:4], (0, 0, 0))
        out[month[:4]] = (i + issued, e + expired, outstanding)
    return out


def _flatten(policies: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(policy, dotted field) → value; a source by its document's name, ``None`` policies and
    the scenario's name left out."""
    out: dict[tuple[str, str], Any] = {}

    def walk(role: str, prefix: str, value: Any) -> None:
        if prefix == "source":
            out[role, prefix] = value.get("document") if isinstance(value, dict) else value
        elif isinstance(value, dict) and value:
            for k, v in value.items():
                walk(role, f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[role, prefix] = value

    for role, value in policies.items():
        if role == "name" or value is None:
            continue
        if isinstance(value, dict):
            walk(role, "", value)
        else:
            out[role, ""] = value
    return out


def _field_label(field: str) -> str:
    if not field:
        return "—"
    zh = _FIELDS.get(field.split(".")[0])
    if not zh:
        return field
    return f"{zh}/ {field}" if zh.endswith("）") else f"{zh} / {field}"


def _readable(value: Any) -> str:
    """A policy value as a policy maker reads it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是 / yes" if value else "否 / no"
    if isinstance(value, list | tuple):
        return ", ".join(_readable(v) for v in value) if value else "（无）/ none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_readable(v)}" for k, v in value.items()) or "（无）/ none"
    return str(value)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# --- charts ------------------------------------------------------------------------------------

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Sarasa Gothic SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
)
"""Fonts with the Chinese characters the charts use, preferred first."""

_CJK_FILES = (
    *("notosanscjk", "notosanssc", "sourcehan", "wqy", "simhei", "msyh", "pingfang"),
    *("hiragino", "stheiti", "sarasa", "notoserifcjk", "uming", "ukai"),
)
"""Pieces of the file names of such fonts (lower case, without ``-`` and ``_``)."""
_PROBE = "政策模拟志愿者星级积分发放过期未兑县区小时月"


@functools.cache
def _cjk_font() -> str | None:
    """The family name of an installed font that has the charts' Chinese characters, or
    ``None``. Fonts installed after matplotlib built its cache are found by their files."""
    from matplotlib import font_manager

    def pick() -> str | None:
        files: dict[str, str] = {}
        for entry in font_manager.fontManager.ttflist:
            files.setdefault(entry.name, entry.fname)
        for family in _CJK_FAMILIES:
            if family in files and _covers(files[family]):
                return family
        return None

    found = pick()
    if found is None:
        for path in font_manager.findSystemFonts():
            stem = os.path.basename(path).lower().replace("-", "").replace("_", "")
            if any(key in stem for key in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - a bad file
                    continue
        found = pick()
    return found


def _covers(path: str) -> bool:
    """Whether the font file has every character of :data:`_PROBE`."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):  # pragma: no cover - a bad file
        return False
    return all(font.get_char_index(ord(ch)) for ch in _PROBE)


def _figure_class() -> Any:
    """matplotlib's ``Figure``, or ``None`` without matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


@attrs.frozen
class _Charts:
    """The report's charts as base64 PNGs (by name), and what the page says about them."""

    images: dict[str, str]
    note: str

    def img(self, name: str, alt: str) -> str:
        data = self.images.get(name)
        if data is None:
            return ""
        return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"

    @classmethod
    def draw(cls, cmp: Comparison) -> _Charts:
        figure = _figure_class()
        if figure is None:
            return cls(
                {},
                "未安装 matplotlib，本页只有表格（安装 zhiyuan[plot] 可加图表）/ matplotlib is "
                "not installed: tables only (install zhiyuan[plot] for charts).",
            )
        import matplotlib

        font = _cjk_font()
        note = (
            ""
            if font
            else "未找到中文字体，图表只用英文标注 / No Chinese font was found: the charts are "
            "labelled in English only."
        )
        families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
        images: dict[str, str] = {}
        with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": families}):
            for name, draw in (
                ("stars", _star_chart),
                ("points", _points_chart),
                ("counties", _county_chart),
            ):
                fig = draw(cmp, figure, font is not None)
                if fig is not None:
                    buf = io.BytesIO()
                    fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})
                    images[name] = base64.b64encode(buf.getvalue()).decode("ascii")
        return cls(images, note)


def _label(zh: str, en: str, chinese: bool) -> str:
    return f"{zh} / {en}" if chinese else en


def _names(cmp: Comparison, chinese: bool) -> tuple[str, str]:
    """The legend's names of A and B (letters alone when a name cannot be drawn)."""
    a, b = (
        f"{k} {s.scenario}" if chinese or s.scenario.isascii() else k
        for k, s in (("A", cmp.a), ("B", cmp.b))
    )
    return a, b


def _star_chart(cmp: Comparison, figure: Any, chinese: bool) -> Any:
    levels = sorted(set(cmp.a.star_counts) | set(cmp.b.star_counts))
    levels = [lv for lv in levels if lv > 0] or levels or [0]
    na, nb = _names(cmp, chinese)
    fig = figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    xs = range(len(levels))
    for dx, side, name in ((-0.2, cmp.a, na), (0.2, cmp.b, nb)):
        counts = [side.star_counts.get(lv, 0) for lv in levels]
        bars = ax.bar([x + dx for x in xs], counts, 0.4, label=name)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=8)
    ax.set_xticks(list(xs), [f"{lv}★" for lv in levels])
    ax.set_ylabel(_label("志愿者", "volunteers", chinese))
    ax.set_title(
        _label("获星志愿者（不含无星级）", "volunteers by star level (without no star)", chinese)
        if levels != [0]
        else _label("星级", "star levels", chinese)
    )
    ax.legend()
    return fig


def _points_chart(cmp: Comparison, figure: Any, chinese: bool) -> Any:
    months = sorted(set(cmp.a.points_by_month) | set(cmp.b.points_by_month))
    if not months:
        return None
    na, nb = _names(cmp, chinese)
    fig = figure(figsize=(8, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    xs = list(range(len(months)))
    for side, name, colour in ((cmp.a, na, "C0"), (cmp.b, nb, "C1")):
        outstanding, last = [], 0
        for m in months:
            last = side.points_by_month.get(m, (0, 0, last))[2]
            outstanding.append(last)
        top.plot(xs, outstanding, color=colour, label=name)
        issued = [side.points_by_month.get(m, (0, 0, 0))[0] for m in months]
        expired = [-side.points_by_month.get(m, (0, 0, 0))[1] for m in months]
        bottom.plot(xs, issued, color=colour, linewidth=1, label=name)
        bottom.bar(xs, expired, color=colour, alpha=0.6, width=0.9)
    top.set_title(_label("月末未兑积分（负债）", "points outstanding at month end", chinese))
    top.set_ylabel(_label("积分", "points", chinese))
    top.legend()
    bottom.axhline(0, color="#888", linewidth=0.5)
    bottom.set_title(
        _label(
            "每月发放（线）与过期（柱，向下）",
            "issued (lines) and expired (bars, down) each month",
            chinese,
        )
    )
    bottom.set_ylabel(_label("积分", "points", chinese))
    ticks = [i for i, m in enumerate(months) if m.endswith("-01")] or [0]
    step = max(1, len(ticks) // 10)
    bottom.set_xticks(ticks[::step], [months[i][:4] for i in ticks[::step]])
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(_thousands())
    return fig


def _county_chart(cmp: Comparison, figure: Any, chinese: bool, n: int = 10) -> Any:
    top = cmp._top_regions(n)
    if not top:
        return None
    na, nb = _names(cmp, chinese)
    fig = figure(figsize=(7, 0.45 * len(top) + 1.4), layout="constrained")
    ax = fig.subplots()
    ys = list(range(len(top)))[::-1]  # most hours at the top
    ax.barh([y + 0.2 for y in ys], [ha for _, _, ha, _ in top], 0.4, label=na)
    ax.barh([y - 0.2 for y in ys], [hb for _, _, _, hb in top], 0.4, label=nb)
    names = [name if chinese else code[:6] for code, name, _, _ in top]
    ax.set_yticks(ys, names)
    ax.set_xlabel(_label("计入小时", "counted hours", chinese))
    ax.set_title(_label("计入小时最多的县区", "counties with the most counted hours", chinese))
    ax.xaxis.set_major_formatter(_thousands())
    ax.legend()
    return fig


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}")
