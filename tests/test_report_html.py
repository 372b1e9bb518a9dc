"""The HTML report a policy maker reads (:meth:`zhiyuan.simulate.Comparison.html`).

A real comparison — a synthetic 市南区 under the national rules and under 广东's hours, 龙岗's
stars and 志愿黄石's expiring points — is rendered into a file and opened in a real headless
Chromium (Debian's ``chromium``, driven by Playwright): the page loads without console errors or
failed requests, has every section, and every chart image decodes. Plain tests check what the
sections say, the page's structure, and the pages without a Chinese font or without matplotlib.

The browser test never skips: without Chromium or a Chinese font it fails, and ``.ci/run``
installs both (``apt-get install chromium fonts-noto-cjk``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest

np = pytest.importorskip("numpy")

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.credit import CONVERSION_PROFILES  # noqa: E402
from zhiyuan.hierarchy import load_default  # noqa: E402
from zhiyuan.hours import HOUR_PROFILES  # noqa: E402
from zhiyuan.scoring import STAR_PROFILES  # noqa: E402
from zhiyuan.simulate import (  # noqa: E402
    ASSUMPTIONS,
    CITY_PROFILES,
    Comparison,
    Scenario,
    compare,
    generate,
    report,
)

TREE = load_default()
A = Scenario(name="national")
B = Scenario(
    name="local",
    hours=HOUR_PROFILES["guangdong"],
    stars=STAR_PROFILES["longgang"],
    points=CONVERSION_PROFILES["huangshi"],
)
MADE_ON = date(2026, 1, 5)
HEADINGS = [
    "1. 政策差异 / What differs between A and B",
    "2. 主要指标 / Headline figures",
    "3. 星级分布 / Star levels",
    "4. 积分的发放、过期与负债 / Points issued, expired and outstanding",
    "5. 各县区计入小时 / Counted hours by county",
    "6. 假设 / Assumptions",
    "7. 规则与出处 / Rules applied and their sources",
]
NO_FONT = "未找到中文字体"
NO_MATPLOTLIB = "未安装 matplotlib"


@pytest.fixture(scope="module")
def cmp() -> Comparison:
    pop = generate(CITY_PROFILES["shinan"], TREE, scale=0.01, seed=11)
    return compare(pop, A, B, TREE)


@pytest.fixture(scope="module")
def city() -> Comparison:
    """A city of several counties (烟台), for the county table and chart."""
    pop = generate(CITY_PROFILES["yantai"], TREE, scale=0.001, seed=3)
    return compare(pop, A, B, TREE)


@pytest.fixture(scope="module")
def page(cmp: Comparison) -> str:
    return cmp.html(made_on=MADE_ON)


def section(page: str, key: str) -> str:
    """The HTML of one section of the page."""
    m = re.search(rf"<section id='{key}'>(.*?)</section>", page, re.DOTALL)
    assert m, f"no section {key}"
    return m.group(1)


def text(fragment: str) -> str:
    """The text of an HTML fragment, tags dropped and entities decoded."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def table_rows(fragment: str) -> list[list[str]]:
    """The cells of every body row of the tables in ``fragment``."""
    body = "".join(re.findall(r"<tbody>(.*?)</tbody>", fragment, re.DOTALL))
    return [
        [text(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


# --- the browser ---------------------------------------------------------------------------------


def chromium() -> str:
    """Debian's Chromium (or ``$CHROMIUM``); the test fails, never skips, without it."""
    found = os.environ.get("CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    if not found:
        pytest.fail(
            "Chromium is not installed: .ci/run installs it (apt-get install chromium "
            "fonts-noto-cjk), or set $CHROMIUM to a Chromium or Chrome binary"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: it is in the test dependency group")
    executable = chromium()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def test_the_report_opens_in_a_real_browser(
    browser: Any, page: str, cmp: Comparison, tmp_path: Path
) -> None:
    if report._cjk_font() is None:
        pytest.fail("no Chinese font for the charts: .ci/run installs fonts-noto-cjk")
    file = tmp_path / "report.html"
    file.write_text(page, encoding="utf-8")
    tab = browser.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    requested: list[str] = []
    tab.on("request", lambda r: requested.append(r.url))
    response = tab.goto(file.as_uri(), wait_until="load")
    assert response is None or response.ok
    tab.wait_for_load_state("networkidle")

    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requested), requested  # no network
    doc = tab.evaluate(
        "() => [document.doctype && document.doctype.name, document.compatMode,"
        " document.documentElement.lang, document.characterSet, document.title]"
    )
    assert doc[:4] == ["html", "CSS1Compat", "zh", "UTF-8"]  # HTML5, standards mode
    assert "市南区" in doc[4]

    headings = tab.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
    assert headings == HEADINGS
    images = tab.eval_on_selector_all(
        "img", "xs => xs.map(i => [i.closest('section').id, i.complete, i.naturalWidth])"
    )
    assert [i[0] for i in images] == ["stars", "points", "counties"]
    assert all(complete and width > 0 for _, complete, width in images), images

    cells = tab.eval_on_selector_all(
        "#differences tbody tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))",
    )
    fields = {(policy, field.split("/ ")[-1]): (va, vb) for policy, field, va, vb in cells}
    assert fields["星级 / stars", "thresholds_hours"] == (
        "100, 300, 600, 1000, 1500",
        "100, 300, 600, 1000",
    )
    assert fields["积分 / points", "expiry"] == ("none", "year_end")
    assert fields["积分 / points", "evidence"] == ("—", "gps, qr_scan, sign_in_code")
    assert fields["工时 / hours", "daily_cap_minutes"] == ("—", "480")
    facts = tab.inner_text("table.facts")
    assert "2026-01-05" in facts and "随机种子 11" in facts and "random seed 11" in facts
    assert NO_FONT not in tab.inner_text("body")
    tab.close()


# --- what the sections say -----------------------------------------------------------------------


def test_the_header_names_place_period_population_and_date(page: str, cmp: Comparison) -> None:
    facts = dict(table_rows(page.split("<section", 1)[0]))
    assert facts["地区 / place"] == "市南区 (370202000000)"
    assert facts["时期 / period"] == f"{cmp.a.first_day} – 2025-12-31"
    assert "0.01 倍" in facts["人口 / population"] and "0.01×" in facts["人口 / population"]
    assert "随机种子 11" in facts["人口 / population"]
    assert facts["制作日期 / made on"] == "2026-01-05"
    assert f"{cmp.a.volunteers:,} volunteers" in facts["规模 / size"]
    assert "A = national" in facts["情景 / scenarios"] and "B = local" in facts["情景 / scenarios"]


def test_real_records_say_so_and_the_date_defaults_to_today_in_shanghai(
    cmp: Comparison, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Comparison(
        a=attrs.evolve(cmp.a, scale=None, random_seed=None),
        b=attrs.evolve(cmp.b, scale=None, random_seed=None),
    )
    monkeypatch.setattr(
        report, "system_clock", lambda: datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI)
    )
    monkeypatch.setattr(report, "_figure_class", lambda: None)  # the tables are enough here
    facts = dict(table_rows(real.html().split("<section", 1)[0]))
    assert facts["人口 / population"] == "真实记录 / real records"
    assert facts["制作日期 / made on"] == "2026-03-01"


def test_the_differences_are_the_fields_that_differ(cmp: Comparison, page: str) -> None:
    diffs = cmp.differences()
    assert all(va != vb for _, _, va, vb in diffs)
    keys = {(p, f.split("/ ")[-1]) for p, f, _, _ in diffs}
    assert ("星级 / stars", "min_months") in keys and ("星级 / stars", "approving") in keys
    assert ("积分 / points", "points_per_hour") not in keys  # the same on both sides
    assert not any(f.split("/ ")[-1].startswith("source.") for _, f, _, _ in diffs)
    sources = {p: vb for p, f, _, vb in diffs if f.endswith("/ source")}
    assert sources["星级 / stars"] == "《龙岗区星级志愿者评定管理办法(2023年修订版)》"
    assert "chinagovernance" not in section(page, "differences")  # the document, not the noise
    assert table_rows(section(page, "differences")) == [list(row) for row in diffs]
    same = Comparison(a=cmp.a, b=attrs.evolve(cmp.a, scenario="again"))
    assert same.differences() == []
    assert "政策相同" in section(same.html(made_on=MADE_ON), "differences")


def test_the_headline_and_star_tables(cmp: Comparison, page: str) -> None:
    rows = table_rows(section(page, "headline"))
    assert [r[0] for r in rows] == [label for label, _, _ in cmp.rows()]
    issued = next(r for r in rows if r[0].startswith("发放积分"))
    assert issued[1:4] == [
        f"{cmp.a.points_issued:,}",
        f"{cmp.b.points_issued:,}",
        f"{cmp.b.points_issued - cmp.a.points_issued:+,}",
    ]
    stars = table_rows(section(page, "stars"))
    assert sum(int(r[1].replace(",", "")) for r in stars) == cmp.a.volunteers
    assert sum(int(r[3].replace(",", "")) for r in stars) == cmp.b.volunteers
    assert stars[0][0] == "无星级 / no star"


def test_the_points_section_states_the_liability_and_adds_up(cmp: Comparison, page: str) -> None:
    body = section(page, "points")
    said = text(body)
    assert f"A {cmp.a.points_outstanding:,}, B {cmp.b.points_outstanding:,}" in said
    assert "expiry: A none, B year_end" in said
    years = table_rows(body)
    assert sum(int(r[1].replace(",", "")) for r in years) == cmp.a.points_issued
    assert sum(int(r[4].replace(",", "")) for r in years) == cmp.b.points_issued
    assert sum(int(r[5].replace(",", "")) for r in years) > 0  # 黄石's points expire
    assert int(years[-1][6].replace(",", "")) == cmp.b.points_outstanding


def test_the_counties_are_named(city: Comparison) -> None:
    body = section(city.html(made_on=MADE_ON), "counties")
    rows = table_rows(body)
    assert {r[1] for r in rows} == set(city.a.hours_by_region) | set(city.b.hours_by_region)
    assert all(r[0] == city.a.region_names[r[1]] for r in rows)
    assert "莱州市" in {r[0] for r in rows}
    hours = [int(r[2].replace(",", "")) for r in rows]
    assert hours == sorted(hours, reverse=True)
    assert sum(hours) == sum(m // 60 for m in city.a.hours_by_region.values())
    assert body.count("<img") == 1


def test_assumptions_and_sources(cmp: Comparison, page: str) -> None:
    said = text(section(page, "assumptions"))
    assert ASSUMPTIONS["synthetic"] in said and ASSUMPTIONS["no_redemption"] in said
    rules = text(section(page, "sources"))
    assert "A national 依据 / rules applied" in rules and "B local 依据 / rules applied" in rules
    for role, line in cmp.b.sources:
        assert f"{role}: {line}" in rules


class _Structure(HTMLParser):
    """Checks that elements nest and close, and ids are unique."""

    VOID = frozenset({"meta", "link", "img", "br", "hr", "input", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag == "img" and not dict(attrs).get("alt"):
            self.errors.append("an image without alt text")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"</{tag}> closes nothing open")


def test_the_page_is_well_formed_and_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>\n<html lang='zh'>")
    check = _Structure()
    check.feed(page)
    check.close()
    assert check.errors == [] and check.open == []
    assert len(check.ids) == len(set(check.ids)) == 7
    assert not re.search(r"(src|href)=['\"](?!data:)", page)  # nothing to fetch
    assert "<table>" in page and "依据 / rules applied" in page  # what the CLI test reads


def test_names_are_escaped(cmp: Comparison, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "_figure_class", lambda: None)
    odd = Comparison(a=attrs.evolve(cmp.a, scenario="<b>&"), b=cmp.b)
    page = odd.html(made_on=MADE_ON)
    assert "<b>&" not in page and "A &lt;b&gt;&amp;" in page


# --- without a Chinese font, without matplotlib ----------------------------------------------------


def test_without_a_chinese_font_the_charts_are_in_english(
    cmp: Comparison, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under filterwarnings=error, a character the font lacks (a tofu box) would fail the test.
    monkeypatch.setattr(report, "_cjk_font", lambda: None)
    page = cmp.html(made_on=MADE_ON)
    assert NO_FONT in page and "English only" in page
    assert page.count("<img") == 3


def test_with_a_chinese_font_the_page_has_no_note(page: str) -> None:
    if report._cjk_font() is None:
        pytest.fail("no Chinese font for the charts: .ci/run installs fonts-noto-cjk")
    assert NO_FONT not in page and NO_MATPLOTLIB not in page
    assert page.count("<img") == 3


def test_without_matplotlib_every_table_is_there(
    cmp: Comparison, page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "_figure_class", lambda: None)
    bare = cmp.html(made_on=MADE_ON)
    assert NO_MATPLOTLIB in bare and "<img" not in bare
    assert bare.count("<table") == page.count("<table")
    for key in ("differences", "headline", "stars", "points", "counties"):
        assert table_rows(section(bare, key)) == table_rows(section(page, key)), key
