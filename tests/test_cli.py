"""The command line: ``python -m zhiyuan`` demo, simulate, tree, find, stars and report."""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zhiyuan import __version__
from zhiyuan.__main__ import build_parser, main, synthetic_registry
from zhiyuan.hierarchy import TEAM_STANDARD_PROFILES, Level, load_default


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- demo ----------------------------------------------------------------------------------------


def test_demo_prints_the_seed_cities_and_the_standard(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo", "--scale", "0.005"], capsys)
    assert code == 0
    # stderr carries only progress and timings; the result is on stdout
    assert all(ln.startswith("  ") for ln in err.splitlines()), err
    assert f"zhiyuan {__version__}" in out
    assert "13,889 regions loaded; validation: no anomalies / 无异常" in out
    assert "山东省/烟台市 (3706): 13 县级 · 159 乡级 · 6,509 村级" in out
    assert "山东省/青岛市 (3702): 10 县级 · 141 乡级 · 2,120 村级" in out
    assert "  芝罘区 (370602)  12 乡级 · 158 村级" in out
    assert "队伍建设标准 / team standard: 烟台 17+N/5+N/3+N (synthetic teams, seed 2023)" in out
    assert "  烟台市:" in out and "  青岛市:" in out
    for zh, need in (("县级", 17), ("乡级", 5), ("村级", 3)):
        lines = [ln for ln in out.splitlines() if ln.strip().startswith(zh) and "units short" in ln]
        assert len(lines) == 2, lines  # one per city
        for ln in lines:
            assert f"(need {need}+N;" in ln
            m = re.search(r"([\d,]+) of\s+([\d,]+) units short", ln)
            assert m is not None
            short, total = (int(g.replace(",", "")) for g in m.groups())
            assert 0 <= short <= total
    # the county totals: 13 centers in 烟台, 10 in 青岛
    assert re.search(r"县级\s+\d+ of\s+13 units short", out)
    assert re.search(r"县级\s+\d+ of\s+10 units short", out)
    assert out.count("most short / 缺口最大:") == 2


def test_demo_agrees_with_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["demo", "--seed", "7", "--top", "2", "--scale", "0.005"], capsys)
    assert code == 0
    assert "(synthetic teams, seed 7)" in out
    tree = load_default()
    reg = synthetic_registry(tree, ["3706", "3702"], seed=7)
    short = reg.shortfalls(TEAM_STANDARD_PROFILES["yantai"], within="3706")
    lacking = [s for s in short if s.unit.level is Level.VILLAGE]
    want = (
        f"    村级 {len(lacking):>5,} of {tree.counts('3706')[Level.VILLAGE]:>5,} units short "
        f"(need 3+N; {sum(s.short_by for s in lacking):,} teams missing in all)"
    )
    assert want in out.splitlines()
    worst = sorted(short, key=lambda s: (-s.short_by, s.unit.region_code))[:2]
    block = out.split("  烟台市:")[1].split("most short / 缺口最大:")[1].splitlines()[1:3]
    assert block == [f"      {tree.path(s.unit.region_code)}: {s.have}/{s.need}" for s in worst]


def test_demo_is_deterministic_per_seed(capsys: pytest.CaptureFixture[str]) -> None:
    _, a, _ = run(["demo", "--seed", "11", "--scale", "0.005"], capsys)
    _, b, _ = run(["demo", "--seed", "11", "--scale", "0.005"], capsys)
    _, c, _ = run(["demo", "--seed", "12", "--scale", "0.005"], capsys)
    assert a == b
    assert a != c


def test_synthetic_registry_covers_every_unit() -> None:
    tree = load_default()
    reg = synthetic_registry(tree, ["370602"], seed=1)
    counts = tree.counts("370602")
    assert len(reg.units(level=Level.COUNTY)) == 1
    assert len(reg.units(level=Level.TOWNSHIP)) == counts[Level.TOWNSHIP]
    assert len(reg.units(level=Level.VILLAGE)) == counts[Level.VILLAGE]
    for lv in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE):
        assert reg.uncovered(lv, within="370602") == []
    for unit in reg.units():
        n = len(reg.teams_at(unit.region_code))
        lo, hi = {Level.COUNTY: (13, 22), Level.TOWNSHIP: (3, 8), Level.VILLAGE: (1, 5)}[unit.level]
        assert lo <= n <= hi


# --- tree and find -------------------------------------------------------------------------------


def test_tree_lists_the_children(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["tree", "3706", "--depth", "1"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "山东省/烟台市 (3706): 13 县级 · 159 乡级 · 6,509 村级"
    assert lines[1] == "  芝罘区 (370602)  12 乡级 · 158 村级"
    assert len(lines) == 1 + 13
    assert all(ln.startswith("  ") and not ln.startswith("   ") for ln in lines[1:])


def test_tree_depth(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["tree", "370602", "--depth", "0"], capsys)
    assert out.splitlines() == ["山东省/烟台市/芝罘区 (370602): 12 乡级 · 158 村级"]
    _, out, _ = run(["tree", "370602001", "--depth", "2"], capsys)
    lines = out.splitlines()
    assert lines[0] == "山东省/烟台市/芝罘区/向阳街道 (370602001): 8 村级"
    assert lines[1] == "  友谊街社区居民委员会 (370602001001)"  # a leaf: no counts
    assert len(lines) == 1 + 8
    _, out, _ = run(["tree", "370602", "--depth", "2"], capsys)
    assert "  向阳街道 (370602001)  8 村级" in out.splitlines()
    assert "    友谊街社区居民委员会 (370602001001)" in out.splitlines()
    assert len(out.splitlines()) == 1 + 12 + 158


def test_find_prints_the_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["find", "芝罘"], capsys)
    assert code == 0
    assert out.splitlines() == ["山东省/烟台市/芝罘区 (370602)", "1 match(es) / 个结果"]


def test_find_within_and_no_match(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["find", "向阳街道"], capsys)
    assert code == 0
    everywhere = [ln for ln in out.splitlines() if ln.startswith("山东省")]
    assert "山东省/烟台市/芝罘区/向阳街道 (370602001)" in everywhere
    code, out, _ = run(["find", "向阳街道", "--within", "370602"], capsys)
    assert out.splitlines() == ["山东省/烟台市/芝罘区/向阳街道 (370602001)", "1 match(es) / 个结果"]
    code, out, _ = run(["find", "没有这个地方"], capsys)
    assert code == 1
    assert out.splitlines() == ["0 match(es) / 个结果"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["tree", "379999"], "region not found / 未找到: '379999000000'"),
        (["tree", "370602999"], "region not found / 未找到: '370602999000'"),
        (["find", "芝罘", "--within", "3799"], "region not found / 未找到: '379900000000'"),
        (["tree", "3706x"], "a region code has 2, 4, 6, 9 or 12 digits"),
    ],
)
def test_bad_codes_exit_2_with_a_bilingual_message(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error / 错误: ")
    assert needle in err
    assert re.search(r"[\u4e00-\u9fff]", err.split("error / 错误: ")[1])  # Chinese too


def test_usage_errors_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert err.splitlines() == [
        "error / 错误: the following arguments are required: command (用法 / usage: zhiyuan --help)"
    ]
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert f"zhiyuan {__version__}" in capsys.readouterr().out


# --- report --------------------------------------------------------------------------------------


@pytest.fixture
def nbs_small(tmp_path: Path) -> Path:
    """Three named files: 东莞 4419 collides with its county-like 441900; 379901's city is missing."""
    (tmp_path / "provinces.csv").write_text("code,name\r\n44,广东省\r\n37,山东省\r\n", "utf-8")
    (tmp_path / "cities.csv").write_text(
        "code,name,province_code\r\n4419,东莞市,44\r\n3706,烟台市,37\r\n", "utf-8"
    )
    (tmp_path / "counties.csv").write_text(
        "code,name,city_code,province_code\r\n"
        "441900,东莞市辖区,4419,44\r\n"
        "370602,芝罘区,3706,37\r\n"
        "379901,无主县,3799,37\r\n",
        "utf-8",
    )
    return tmp_path


def test_report_on_a_small_directory(nbs_small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["report", str(nbs_small)], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "6 regions / 个区划: 2 省级 · 2 市级 · 2 县级"
    assert lines[1] == "2 anomalies / 2 处异常: collision 1, orphan 1"
    assert lines[2].startswith("  collision 441900: ")
    assert "kept '东莞市', merged '东莞市辖区'" in lines[2]
    assert lines[3].startswith("  orphan 379901: ")
    assert "parent 379900000000 is missing; attached under 370000000000" in lines[3]
    assert "上级 379900000000 不存在" in lines[3]
    assert len(lines) == 4


def test_tree_and_find_read_a_data_directory(
    nbs_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["tree", "37", "--data", str(nbs_small), "--depth", "2"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "山东省 (37): 1 市级 · 2 县级",
        "  烟台市 (3706)  1 县级",
        "    芝罘区 (370602)",
        "  无主县 (379901)",  # the orphan hangs under the province
    ]
    code, out, _ = run(["find", "东莞", "--data", str(nbs_small)], capsys)
    assert out.splitlines() == ["广东省/东莞市 (4419)", "1 match(es) / 个结果"]


def test_report_on_a_clean_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "provinces.csv").write_text("code,name\n37,山东省\n", "utf-8")
    code, out, _ = run(["report", str(tmp_path)], capsys)
    assert code == 0
    assert out.splitlines() == ["1 region / 个区划: 1 省级", "no anomalies / 无异常"]


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({}, "NBS named files"),  # an empty directory
        ({"provinces.csv": "id,title\n37,山东省\n"}, "header needs code and name columns"),
    ],
)
def test_report_errors_exit_2(
    tmp_path: Path, files: dict[str, str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    code, out, err = run(["report", str(tmp_path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith("error / 错误: ") and needle in err


def test_report_on_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope"
    code, _, err = run(["report", str(missing)], capsys)
    assert code == 2
    assert "directory not found / 未找到" in err and str(missing) in err


def test_python_dash_m_runs_main() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zhiyuan", "find", "芝罘"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "山东省/烟台市/芝罘区 (370602)" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "zhiyuan", "tree", "379999"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 2
    assert "未找到" in proc.stderr and "not found" in proc.stderr


STARS_CSV = """id,volunteer_id,activity_id,organization_id,region_code,category,start,end,evidence
r1,v1,a1,o1,370214001001,助老,2025-03-01T08:00:00+08:00,2025-03-01T16:00:00+08:00,qr_scan
r2,v1,a1,o1,370214001001,助老,2025-03-02T08:00:00+08:00,2025-03-02T16:00:00+08:00,qr_scan
r3,v1,a1,o1,370214001001,助老,2025-03-03T08:00:00+08:00,2025-03-03T16:00:00+08:00,qr_scan
r4,v1,a1,o1,370214001001,助老,2025-03-04T08:00:00+08:00,2025-03-04T14:00:00+08:00,qr_scan
r5,v2,a2,o1,370214001002,助老,2025-03-02T08:00:00+08:00,2025-03-02T10:00:00+08:00,self_report
r6,v3,a2,o1,370214001002,助老,2026-03-02T08:00:00+08:00,2026-03-02T10:00:00+08:00,qr_scan
"""


def test_stars_rates_every_volunteer_of_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    path.write_text(STARS_CSV, encoding="utf-8")
    # 30 h for v1 under 张家港 (1★ at 30 h); v2's self-report does not count toward stars;
    # v3's record is after the rating date, so it is not posted (a future record).
    code = main(["stars", str(path), "--scheme", "zhangjiagang", "--as-of", "2025-12-31"])
    out, err = capsys.readouterr()
    assert code == 1  # one row was invalid (v3's record lies in the future)
    assert "v1: 一星级 (30 小时)  还差 30 小时 / 30 hours to 2★" in out
    assert "v2: 无星级 (0 小时)" in out
    assert "per level / 各星级: 无星级 2, 一星级 1" in out
    assert "r6" in err
    assert main(["stars", str(path), "--as-of", "2026-12-31"]) == 0  # national: all below 100 h
    assert "无星级 3" in capsys.readouterr().out


def test_stars_reads_a_scheme_file_and_refuses_unknown_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    path.write_text(STARS_CSV, encoding="utf-8")
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(
        'name = "tiny"\nthresholds_hours = [10, 20]\napproving = ["county", "county"]\n',
        encoding="utf-8",
    )
    assert main(["stars", str(path), "--scheme", str(scheme), "--as-of", "2026-12-31"]) == 0
    assert "v1: 二星级 (30 小时)" in capsys.readouterr().out
    assert main(["stars", str(path), "--scheme", "no-such-scheme"]) == 2
    assert "no-such-scheme" in capsys.readouterr().err


def test_demo_and_simulate_compare_two_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["demo", "--scale", "0.005"], capsys)
    assert code == 0
    assert "政策模拟 / what-if: 烟台市 at 0.005×" in out
    assert "A = national, B = local" in out
    table = out.split("政策模拟")[1]
    assert "一星级 / 1 star" in table and "发放积分 / points issued" in table
    # the volunteers line shows the same population on both sides
    vols = next(ln for ln in table.splitlines() if ln.startswith("志愿者"))
    assert vols.split()[-1] == "+0"
    # the report says which rules each side ran under, with their sources
    from zhiyuan.scoring import STAR_PROFILES

    cited = STAR_PROFILES["zhangjiagang"].source
    assert cited is not None and "local 依据 / rules applied:" in table
    assert f"星级 / stars zhangjiagang: {cited.explain().splitlines()[0]}" in table
    assert "工时 / hours local: 出处 / source: 未注明" in table  # the variant of one's own
    a = tmp_path / "a.toml"
    a.write_text('name = "A"\n', encoding="utf-8")
    b = tmp_path / "b.toml"
    b.write_text(
        'name = "B"\n[stars]\nthresholds_hours = [30, 60, 100, 200, 300]\n', encoding="utf-8"
    )
    out_json = tmp_path / "cmp.json"
    out_html = tmp_path / "cmp.html"
    code, out, _ = run(
        [
            "simulate",
            "--region",
            "370202",
            "--policy",
            str(a),
            "--compare",
            str(b),
            "--scale",
            "0.02",
            "--json",
            str(out_json),
            "--html",
            str(out_html),
        ],
        capsys,
    )
    assert code == 0
    assert "市南区" in out and "A = A, B = B" in out
    import json

    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["a"]["scenario"] == "A" and data["b"]["scenario"] == "B"
    stars_a = sum(v for k, v in data["a"]["star_counts"].items() if k != "0")
    stars_b = sum(v for k, v in data["b"]["star_counts"].items() if k != "0")
    assert stars_b >= stars_a  # lower thresholds never give fewer stars
    page = out_html.read_text(encoding="utf-8")
    assert "<table>" in page and "依据 / rules applied" in page
    assert data["a"]["sources"][0][0] == "工时 / hours national"
    code, _, err = run(["simulate", "--region", "1101"], capsys)
    assert code == 2 and "region not found" in err and "110100000000" in err


# --- bad input and a bad environment: one error line, never a traceback ---------------------------

_GZ = gzip.compress("code,name\n37,山东省\n".encode())
_COMMANDS = ["demo", "simulate", "tree", "find", "stars", "report"]


@pytest.fixture
def bad_inputs(tmp_path: Path) -> Path:
    """Files and NBS directories that cannot be read, next to a good records.csv."""
    (tmp_path / "records.csv").write_text(STARS_CSV, encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes(STARS_CSV.encode("gbk"))  # 助老 in GBK, not UTF-8
    (tmp_path / "gbk.toml").write_bytes('name = "助老"\n'.encode("gbk"))
    (tmp_path / "bad.toml").write_text("name = \n", encoding="utf-8")
    long_row = "r1," + "x" * 131_073 + "\n"
    (tmp_path / "long.csv").write_text(STARS_CSV.splitlines()[0] + "\n" + long_row, "utf-8")
    dirs = {
        "gbk": ("provinces.csv", "code,name\n37,山东省\n".encode("gbk")),
        "plain": ("provinces.csv.gz", b"code,name\n37,x\n"),  # named .gz, not gzipped
        "cut": ("provinces.csv.gz", _GZ[:20]),  # truncated: EOFError
        "damaged": ("provinces.csv.gz", _GZ[:10] + b"\xff" * 30),  # zlib.error
        "crc": ("provinces.csv.gz", _GZ[:-8] + b"\0\0\0\0" + _GZ[-4:]),  # BadGzipFile, CRC
        "long": ("provinces.csv", ("code,name\n37," + "x" * 131_073 + "\n").encode()),
    }
    for name, (file, blob) in dirs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_bytes(blob)
    return tmp_path


def _argv(argv: list[str], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def _ids(value: object) -> str | None:
    """Test ids: the command line of a case (``stars {tmp}/gbk.csv``), nothing for the rest."""
    return (
        " ".join(value)
        if isinstance(value, list) and value and value[0] in [*_COMMANDS, "frob"]
        else None
    )


def assert_one_error_line(err: str, *needles: str) -> None:
    """Exactly one line on stderr, ``error / 错误: …`` with Chinese in it, naming ``needles``."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error / 错误: "), err
    assert re.search(r"[\u4e00-\u9fff]", lines[0].removeprefix("error / 错误: ")), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        # a missing file, or a directory where a file belongs
        (["stars", "{tmp}/none.csv"], ["records: '{tmp}/none.csv'", "no such file"]),
        (["simulate", "--policy", "{tmp}/none.toml"], ["--policy: '{tmp}/none.toml'", "no such"]),
        (["simulate", "--compare", "{tmp}/none.toml"], ["--compare: '{tmp}/none.toml'"]),
        (["simulate", "--compare", "{tmp}"], ["--compare: '{tmp}'", "is a directory"]),
        (["stars", "{tmp}"], ["records: '{tmp}'", "is a directory"]),
        # not UTF-8
        (["stars", "{tmp}/gbk.csv"], ["records: '{tmp}/gbk.csv'", "not UTF-8", "0xd6"]),
        (
            ["stars", "{tmp}/records.csv", "--scheme", "{tmp}/gbk.toml"],
            ["--scheme: '{tmp}/gbk.toml'", "UTF-8"],
        ),
        (["simulate", "--policy", "{tmp}/gbk.toml"], ["--policy: '{tmp}/gbk.toml'", "not UTF-8"]),
        (["report", "{tmp}/gbk"], ["data: '{tmp}/gbk'", "UTF-8"]),
        (["tree", "37", "--data", "{tmp}/gbk"], ["--data: '{tmp}/gbk'", "UTF-8"]),
        (["find", "山东", "--data", "{tmp}/gbk"], ["--data: '{tmp}/gbk'", "UTF-8"]),
        # .gz files that are not gzip, truncated or damaged (the NBS reader may name the file
        # and line itself; the option and the directory are named either way)
        (["report", "{tmp}/plain"], ["data: '{tmp}/plain'", "gzip"]),
        (["report", "{tmp}/cut"], ["data: '{tmp}/cut'", "gzip"]),
        (["report", "{tmp}/damaged"], ["data: '{tmp}/damaged'", "gzip"]),
        (["report", "{tmp}/crc"], ["data: '{tmp}/crc'", "gzip", "CRC"]),
        # a CSV field over the csv module's limit
        (["report", "{tmp}/long"], ["data: '{tmp}/long'", "CSV"]),
        (["stars", "{tmp}/long.csv"], ["records: '{tmp}/long.csv'", "131,072"]),
        # zhiyuan's own input errors name the file too
        (
            ["stars", "{tmp}/records.csv", "--scheme", "{tmp}/bad.toml"],
            ["--scheme: '{tmp}/bad.toml'", "TOML"],
        ),
    ],
    ids=_ids,
)
def test_unreadable_input_is_one_error_line(
    argv: list[str], needles: list[str], bad_inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(_argv(argv, bad_inputs), capsys)
    assert code == 2
    assert out == ""  # every input is read before anything is printed
    assert_one_error_line(err, *_argv(needles, bad_inputs))


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (
            ["stars", "{tmp}/records.csv", "--as-of", "2025-13-01"],
            ["--as-of: '2025-13-01'", "不是有效日期"],
        ),
        (["stars", "{tmp}/records.csv", "--as-of", "31/12/2025"], ["--as-of: '31/12/2025'"]),
        (["demo", "--scale", "-1"], ["--scale: '-1'", "(0, 1]"]),
        (["demo", "--scale", "0"], ["--scale: '0'", "(0, 1]"]),
        (["demo", "--scale", "nan"], ["--scale: 'nan'", "(0, 1]"]),
        (["demo", "--scale", "abc"], ["--scale: 'abc'", "not a number"]),
        (["simulate", "--scale", "-1"], ["--scale: '-1'", "(0, 1]"]),
        (["simulate", "--scale", "0"], ["--scale: '0'"]),
        (["simulate", "--scale", "1.5"], ["--scale: '1.5'"]),
        (["simulate", "--scale", "一半"], ["--scale: '一半'", "not a number"]),
        (["demo", "--seed", "-1"], ["--seed: '-1'", "must not be negative"]),
        (["simulate", "--seed", "x"], ["--seed: 'x'", "not a whole number"]),
        (["demo", "--top", "-1"], ["--top: '-1'"]),
        (["tree", "37", "--depth", "-1"], ["--depth: '-1'"]),
        (["tree", "37", "--depth", "two"], ["--depth: 'two'"]),
        (
            ["simulate", "--json", "{tmp}/nowhere/cmp.json"],
            ["--json: '{tmp}/nowhere/cmp.json'", "does not exist"],
        ),
        (["simulate", "--html", "{tmp}"], ["--html: '{tmp}'", "is a directory"]),
        (["tree"], ["required: code", "zhiyuan tree --help"]),
        (["frob"], ["invalid choice: 'frob'"]),
    ],
    ids=_ids,
)
def test_the_parser_refuses_bad_values_before_printing(
    argv: list[str], needles: list[str], bad_inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(_argv(argv, bad_inputs))
    out, err = capsys.readouterr()
    assert info.value.code == 2
    assert out == ""  # not even the header of the report
    assert_one_error_line(err, *_argv(needles, bad_inputs))


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["stars", "{tmp}/none.csv"], "records: '{tmp}/none.csv'"),
        (["report", "{tmp}/plain"], "data: '{tmp}/plain'"),
        (["report", "{tmp}/cut"], "data: '{tmp}/cut'"),
        (["stars", "{tmp}/records.csv", "--as-of", "2025-13-01"], "--as-of: '2025-13-01'"),
        (["simulate", "--scale", "-1"], "--scale: '-1'"),
    ],
    ids=_ids,
)
def test_python_dash_m_prints_one_line_and_exits_2(
    argv: list[str], needle: str, bad_inputs: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zhiyuan", *_argv(argv, bad_inputs)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, needle.replace("{tmp}", str(bad_inputs)))


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        # ~400 kB, far more than a pipe holds (64 kB): the command is still writing when the
        # reader closes its end, so it meets EPIPE for certain.
        (["tree", "37", "--depth", "4"], "山东省 (37): 2 市级 · 23 县级 · 300 乡级 · 8,629 村级"),
        # the example of `zhiyuan tree 370214 --depth 2 | head -1` (15 kB: EPIPE or not, by timing)
        (["tree", "370214", "--depth", "2"], "山东省/青岛市/城阳区 (370214): 9 乡级 · 300 村级"),
        # the reader closes before reading: the only write is the flush at the end
        (["find", "芝罘"], None),
    ],
    ids=_ids,
)
def test_a_closed_pipe_ends_quietly(argv: list[str], first: str | None) -> None:
    """`zhiyuan … | head -1`, through a real pipe. Asserted: status 0, since a reader that stops
    early is no error (left to Python, a traceback and status 1, or "Exception ignored …" and
    status 120 when the pipe breaks at the final flush), and nothing at all on stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "zhiyuan", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    if first is not None:
        assert proc.stdout.readline().decode("utf-8") == first + "\n"
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8")
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""


# --- help ----------------------------------------------------------------------------------------


def test_every_argument_has_help() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(sub.choices) == sorted(_COMMANDS)
    for name, command in sub.choices.items():
        for action in command._actions:
            assert action.help, f"zhiyuan {name}: {action.dest} has no help"


@pytest.mark.parametrize("command", [[], *([c] for c in _COMMANDS)])
def test_the_help_texts_are_those_of_the_docs(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    docs = Path(__file__).parents[1] / "docs" / "reference" / "cli.md"
    assert f"```text\n{text}```" in docs.read_text(encoding="utf-8")


def test_the_find_example_of_the_help_finds_towns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit):
        main(["--help"])
    m = re.search(r"`find (\S+)`", capsys.readouterr().out)
    assert m is not None
    code, out, _ = run(["find", m.group(1)], capsys)
    assert code == 0
    codes = re.findall(r"\((\d+)\)$", out, re.MULTILINE)
    assert len(codes) >= 2, out  # namesakes, as the example promises
    assert all(len(c) == 9 for c in codes), out  # towns (乡级), not villages


# --- output formats: CSV, JSON and Parquet agree with the text -----------------------------------

_STAR_LINE = re.compile(
    r"  (\w+): (\S+) \(([\d,]+) 小时\)(?:  还差 ([\d,]+) 小时 / [\d,]+ hours? to (\d)★)?$"
)


def _stars_text(out: str) -> dict[str, tuple[str, int, int | None, int | None]]:
    """volunteer → (star, counted minutes, minutes missing, next level), read off the text."""
    found = {}
    for line in out.splitlines():
        m = _STAR_LINE.match(line)
        if m:
            vid, star, hours, missing, nxt = m.groups()
            found[vid] = (
                star,
                int(hours.replace(",", "")) * 60,
                None if missing is None else int(missing.replace(",", "")) * 60,
                None if nxt is None else int(nxt),
            )
    return found


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_stars_writes_csv_json_and_parquet_that_agree_with_the_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "records.csv"
    path.write_text(STARS_CSV, encoding="utf-8")
    argv = ["stars", str(path), "--scheme", "zhangjiagang", "--as-of", "2025-12-31"]
    code, text, _ = run(argv, capsys)
    assert code == 1  # r6 is invalid, in every format
    want = _stars_text(text)
    assert want == {
        "v1": ("一星级", 1800, 1800, 2),
        "v2": ("无星级", 0, 1800, 1),
        "v3": ("无星级", 0, 1800, 1),
    }

    code, out, err = run([*argv, "--format", "csv"], capsys)
    assert code == 1 and "r6" in err
    assert out.splitlines()[0] == (
        "volunteer_id,level,star,counted_minutes,next_level,minutes_missing,scheme,as_of"
    )
    rows = _read_csv(out)
    got = {
        r["volunteer_id"]: (
            r["star"].split(" / ")[0],
            int(r["counted_minutes"]),
            int(r["minutes_missing"]),
            int(r["next_level"]),
        )
        for r in rows
    }
    assert got == want
    assert [r["level"] for r in rows] == ["1", "0", "0"]  # integers, not "1.0"
    assert {(r["scheme"], r["as_of"]) for r in rows} == {("zhangjiagang", "2025-12-31")}

    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["ratings"] == [
        {
            k: (int(v) if k in ("level", "counted_minutes", "next_level", "minutes_missing") else v)
            for k, v in r.items()
        }
        for r in rows
    ]
    for r in doc["ratings"]:
        assert all(type(r[k]) is int for k in ("level", "counted_minutes", "minutes_missing"))
    assert doc["scheme"] == "zhangjiagang" and doc["as_of"] == "2025-12-31"
    assert doc["volunteers"] == 3 and doc["invalid_rows"] == 1
    summary = ", ".join(f"{p['star'].split(' / ')[0]} {p['volunteers']}" for p in doc["per_level"])
    assert f"per level / 各星级: {summary}" in text.splitlines()
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc

    target = tmp_path / "ratings.parquet"
    code, out, _ = run([*argv, "--format", "parquet", "--output", str(target)], capsys)
    assert code == 1
    assert out == f"Parquet: {target}\n"
    table = pq.read_table(target)
    assert [str(t) for t in table.schema.types] == [
        "string",
        "int64",
        "string",
        "int64",
        "int64",
        "int64",
        "string",
        "date32[day]",
    ]
    assert [{**r, "as_of": r["as_of"].isoformat()} for r in table.to_pylist()] == doc["ratings"]
    meta = json.loads(table.schema.metadata[b"zhiyuan"])
    assert meta == {k: v for k, v in doc.items() if k != "ratings"}


def test_stars_output_writes_the_format_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    path.write_text(STARS_CSV, encoding="utf-8")
    argv = ["stars", str(path), "--as-of", "2026-12-31"]
    for fmt, name in (("text", "文本 / text"), ("csv", "CSV"), ("json", "JSON")):
        _, on_stdout, _ = run([*argv, "--format", fmt], capsys)
        target = tmp_path / f"out.{fmt}"
        code, out, _ = run([*argv, "--format", fmt, "--output", str(target)], capsys)
        assert code == 0
        assert out.splitlines() == [f"{name}: {target}"]
        assert target.read_text(encoding="utf-8") == on_stdout
    _, text, _ = run(argv, capsys)
    assert (tmp_path / "out.text").read_text(encoding="utf-8") == text  # the default is text


_TABLE_ROW = re.compile(r"^(.+?)\s+(-?[\d,]+)\s+(-?[\d,]+)\s+([+-][\d,]+)$")


def _metrics_text(out: str) -> list[tuple[str, int, int, int]]:
    """The comparison table's rows, read off the text: (metric, A, B, B − A)."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("-----")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        m = _TABLE_ROW.match(line)
        assert m is not None, line
        label, *nums = m.groups()
        a, b, d = (int(n.replace(",", "")) for n in nums)
        rows.append((label.strip(), a, b, d))
    return rows


def test_simulate_writes_csv_json_and_parquet_that_agree_with_the_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    argv = ["simulate", "--region", "370202", "--scale", "0.01", "--seed", "5"]
    code, text, _ = run(argv, capsys)
    assert code == 0
    want = _metrics_text(text)
    assert len(want) >= 9 and want[0][0] == "志愿者 / volunteers"

    also = tmp_path / "also.json"
    code, out, err = run([*argv, "--format", "csv", "--json", str(also)], capsys)
    assert code == 0
    assert out.splitlines()[0] == "metric,a,b,delta"  # nothing but CSV on stdout
    assert f"  JSON: {also}" in err.splitlines()  # the note went to stderr
    rows = _read_csv(out)
    assert [(r["metric"], int(r["a"]), int(r["b"]), int(r["delta"])) for r in rows] == want

    code, out, _ = run([*argv, "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    same = json.loads(also.read_text(encoding="utf-8"))  # --json: the same document …
    for side in "ab":  # … but for how long each replay took
        assert doc[side].pop("seconds") >= 0 and same[side].pop("seconds") >= 0
    assert doc == same
    assert [(r["metric"], r["a"], r["b"], r["delta"]) for r in doc["rows"]] == want
    assert all(type(r[k]) is int for r in doc["rows"] for k in ("a", "b", "delta"))
    run_ = doc["run"]
    assert run_["random_seed"] == 5 and run_["scale"] == 0.01 and run_["city"] == "市南区"
    assert run_["seed_city_file"] == "001"
    pop = run_["population"]
    assert (
        f"合成人口 / synthetic population: {pop['volunteers']:,} volunteers / 志愿者, "
        f"{pop['records']:,} records / 记录, {pop['served_hours']:,.0f} h / 小时 "
        "(随机种子 / random seed 5)"
    ) in text
    assert doc["a"]["volunteers"] == pop["volunteers"] == want[0][1]

    target = tmp_path / "metrics.parquet"
    code, out, _ = run([*argv, "--format", "parquet", "--output", str(target)], capsys)
    assert code == 0 and out == f"Parquet: {target}\n"
    table = pq.read_table(target)
    assert table.column_names == ["metric", "a", "b", "delta"]
    assert [str(t) for t in table.schema.types] == ["string", "int64", "int64", "int64"]
    assert table.to_pylist() == doc["rows"]
    meta = json.loads(table.schema.metadata[b"zhiyuan"])
    assert meta["run"] == doc["run"]
    assert meta["a"]["star_counts"] == doc["a"]["star_counts"]
    assert meta["b"]["sources"] == doc["b"]["sources"]


@pytest.mark.parametrize("command", [["stars", "{tmp}/records.csv"], ["simulate"]], ids=_ids)
def test_parquet_needs_a_file(
    command: list[str], bad_inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*_argv(command, bad_inputs), "--format", "parquet"])
    out, err = capsys.readouterr()
    assert info.value.code == 2 and out == ""
    assert_one_error_line(err, "--output", "Parquet", f"zhiyuan {command[0]} --help")


@pytest.mark.parametrize("command", [["stars", "{tmp}/records.csv"], ["simulate"]], ids=_ids)
def test_parquet_without_pyarrow_is_one_bilingual_error(
    command: list[str],
    bad_inputs: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow: ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    target = bad_inputs / "out.parquet"
    argv = [*_argv(command, bad_inputs), "--format", "parquet", "--output", str(target)]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""  # refused before the work, not after it
    assert_one_error_line(err, "--format: 'parquet'", "pyarrow", "pip install 'zhiyuan[arrow]'")
    assert not target.exists()


def test_parquet_without_pyarrow_prints_no_traceback(bad_inputs: Path) -> None:
    script = (
        "import sys; sys.modules['pyarrow'] = None; from zhiyuan.__main__ import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "stars",
            str(bad_inputs / "records.csv"),
            "--format",
            "parquet",
            "--output",
            str(bad_inputs / "out.parquet"),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_error_line(proc.stderr, "pyarrow", "zhiyuan[arrow]")


# --- no object reprs on stdout; the seed-city file is not the random seed -----------------------

_REPR = re.compile(r"<[A-Z][\w.]*[ >]|object at 0x")


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--scale", "0.005", "--top", "1"],
        ["simulate", "--region", "370202", "--scale", "0.005"],
        ["simulate", "--region", "370202", "--scale", "0.005", "--format", "csv"],
        ["simulate", "--region", "370202", "--scale", "0.005", "--format", "json"],
        ["tree", "3706"],
        ["find", "永乐镇"],
        ["stars", "{tmp}/records.csv", "--as-of", "2025-12-31"],
        ["stars", "{tmp}/records.csv", "--as-of", "2025-12-31", "--format", "csv"],
        ["stars", "{tmp}/records.csv", "--as-of", "2025-12-31", "--format", "json"],
        ["report", "{nbs}"],
    ],
    ids=_ids,
)
def test_no_command_prints_an_object_repr(
    argv: list[str], bad_inputs: Path, nbs_small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.replace("{nbs}", str(nbs_small)) for a in _argv(argv, bad_inputs)]
    code, out, _ = run(argv, capsys)
    assert code in (0, 1)
    assert out.strip()
    assert _REPR.search(out) is None, _REPR.search(out)


def test_the_seed_city_file_is_not_shown_as_the_random_seed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["simulate", "--region", "3706", "--scale", "0.002", "--seed", "42"], capsys)
    assert code == 0
    assert "seed 000" not in out  # the profile's file number, once shown as if it were the seed
    lines = out.splitlines()
    assert lines[0] == "政策模拟 / what-if: 烟台市 at 0.002×; A = national, B = local"
    assert lines[1] == (
        "  城市数据 / city figures (种子城市资料 / seed-city file 000): "
        "146 万 registered, 2,920 万 hours, 1.9 万 teams, 1.5 万 stations"
    )
    assert lines[2].startswith("  合成人口 / synthetic population: 2,920 volunteers / 志愿者, ")
    assert lines[2].endswith("(随机种子 / random seed 42)")
    code, out, _ = run(["demo", "--scale", "0.002", "--seed", "9"], capsys)
    assert "(随机种子 / random seed 9)" in out and "seed 000" not in out


def test_the_find_example_of_the_docs_is_what_find_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs = (Path(__file__).parents[1] / "docs" / "reference" / "cli.md").read_text("utf-8")
    m = re.search(r"```text\n\$ python -m zhiyuan find (\S+)\n(.*?)```", docs, re.DOTALL)
    assert m is not None
    code, out, _ = run(["find", m.group(1)], capsys)
    assert code == 0
    assert out == m.group(2)
    assert re.search(r"\(\d{9}\)$", out, re.MULTILINE)  # a town (乡级) among them


def test_simulate_replays_a_file_of_real_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`simulate --records FILE --registrations FILE`: the what-if of a city's own export."""
    records = tmp_path / "records.csv"
    records.write_text(
        "volunteer_id,region_code,start,end,evidence,category\n"
        "v1,370202001001,2025-03-01 09:00:00,2025-03-01 12:00:00,qr_scan,助老\n"
        "v1,370202001001,2025-03-02 09:00:00,2025-03-02 19:00:00,qr_scan,助老\n"
        "v2,370202001001,2025-03-01 09:00:00,2025-03-01 10:00:00,gps,环保\n",
        encoding="utf-8",
    )
    people = tmp_path / "volunteers.csv"
    people.write_text(
        "volunteer_id,registered_on\nv1,2024-01-01\nv2,2024-06-01\nv3,2025-01-01\n",
        encoding="utf-8",
    )
    code = main(
        ["simulate", "--records", str(records), "--registrations", str(people), "--format", "json"]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["records_file"] == str(records)
    assert doc["run"]["population"] == {"volunteers": 3, "records": 3, "served_hours": 14.0}
    assert any("行为不变" in line for line in doc["run"]["assumptions"])
    # national: all 14 h count; the local variant caps the day at 8 h
    rows = {r["metric"]: r for r in doc["rows"]}
    assert rows["计入小时 / counted hours"]["a"] == 14
    assert rows["计入小时 / counted hours"]["b"] == 12
    assert main(["simulate", "--records", str(records)]) == 0
    text = capsys.readouterr().out
    assert "真实记录 / real records: 2 volunteers" in text and "<" not in text
    assert main(["simulate", "--registrations", str(people)]) == 2
    assert "--registrations" in capsys.readouterr().err


def test_a_province_on_the_embedded_tree_says_which_cities_it_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["simulate", "--region", "37", "--scale", "0.0005", "--format", "json"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "holds only 青岛市、烟台市 of 370000000000" in err and "--data" in err
    assert main(["simulate", "--region", "3706", "--scale", "0.0005", "--format", "json"]) == 0
    assert "holds only" not in capsys.readouterr().err  # a seed city is whole
