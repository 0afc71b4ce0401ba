"""The CLI end to end: real generated code, real sandbox, real HiGHS, real checker."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alchemist.cli import app

CURTOIS = Path(__file__).resolve().parents[1] / "scenarios" / "curtois"
INSTANCE1 = CURTOIS / "Instance1.txt"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def solved_instance1(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("solve")
    roster, result = tmp / "roster.csv", tmp / "result.json"
    res = invoke("solve", INSTANCE1, "--time-limit", 30, "--out", roster, "--json", result)
    return res, roster, result


def test_solve_writes_roster_and_contract_json(solved_instance1):
    res, roster, result = solved_instance1
    assert res.exit_code == 0, res.output
    doc = json.loads(result.read_text())
    assert doc["status"] == "optimal" and doc["objective"] == 607
    assert doc["check"]["hard_violations"] == [] and doc["check"]["objective"] == 607
    assert doc["objective_matches"] is True
    assert {"status", "objective", "bound", "assignments", "solve_seconds", "build_seconds"} <= set(
        doc
    )
    rows = list(csv.DictReader(roster.open()))
    assert len(rows) == len(doc["assignments"])
    assert list(rows[0]) == [
        "date",
        "weekday",
        "shift",
        "start",
        "end",
        "hours",
        "staff_id",
        "staff_name",
        "skill",
    ]
    assert rows[0]["date"] == "2024-01-01" and rows[0]["weekday"] == "Mon"


def test_solve_shows_the_optimizers_warnings(monkeypatch, tmp_path):
    # e.g. a search left inside HiGHS past its time limit: the roster stands, the user is told
    from alchemist import service

    solve_spec = service.solve_spec

    def warned(*args, **kwargs):
        report = solve_spec(*args, **kwargs)
        report.result.warnings.append("the search was stopped past its time limit")
        return report

    monkeypatch.setattr(service, "solve_spec", warned)
    res = invoke("solve", INSTANCE1, "--time-limit", 30, "--json", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    assert "Warning: the search was stopped past its time limit" in res.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["warnings"] == ["the search was stopped past its time limit"]


def test_check_accepts_the_solved_roster(solved_instance1):
    _, roster, _ = solved_instance1
    res = invoke("check", INSTANCE1, roster)
    assert res.exit_code == 0, res.output
    assert "607" in res.output


def test_check_exits_1_and_lists_violations(solved_instance1, tmp_path):
    _, roster, _ = solved_instance1
    rows = roster.read_text().splitlines()
    # staff A is off on day 0 (SECTION_DAYS_OFF); put A on day 0
    rows.append("2024-01-01,Mon,D,,,8,A,,")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join(
            r for r in rows if not (r.startswith("2024-01-01") and ",A," in r and r != rows[-1])
        )
        + "\n"
    )
    res = invoke("check", INSTANCE1, bad)
    assert res.exit_code == 1, res.output
    assert "unavailab" in res.output.lower()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("date,shift,staff_id\n2024-01-01,D,ZZ\n", "row 2: unknown staff_id 'ZZ'"),
        ("date,shift,staff_id\n2030-01-01,D,A\n", "outside the horizon"),
        ("date,shift,staff_id\nnot-a-date,D,A\n", "row 2: date 'not-a-date'"),
        ("who,when\nA,1\n", "header lacks column"),
        ("", "empty file"),
    ],
)
def test_check_bad_roster_exits_2(tmp_path, content, expected):
    bad = tmp_path / "roster.csv"
    bad.write_text(content)
    res = invoke("check", INSTANCE1, bad)
    assert res.exit_code == 2
    assert expected in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("horizon: {start: 2024-01-01, days: [\n", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (
            "horizon: {start: 2024-01-01, days: 7}\nshifts: [{id: D, start: '07:00', minutes: 480}]\n"
            "staff: [{id: a}]\nconstraints: [{kind: cover, shift: X, preferred: 1}]\n",
            "unknown shift 'X'",
        ),
        (
            "horizon: {start: 2024-01-01, days: -7}\nshifts: [{id: D, start: '07:00', minutes: 480}]\nstaff: [{id: a}]\n",
            "horizon.days",
        ),
        (
            "horizon: {start: 2024-01-01, days: 7}\nshifts: [{id: D, start: '07:00', minutes: 480}]\nstaff: []\n",
            "staff",
        ),
        (
            "horizon: {start: 2024-01-01, days: 7}\nshifts: [{id: D, start: '25:00', minutes: 480}]\nstaff: [{id: a}]\n",
            "shifts[0](id=D).start",
        ),
        (
            "horizon: {start: 2024-01-01, days: 7}\nshifts: [{id: D, start: '07:00', minutes: 480}]\nstaff: [{id: a}]\n"
            "constraints: [{kind: max_hourz, hours: 3}]\n",
            "constraints[0]",
        ),
    ],
)
def test_solve_bad_scenario_exits_2(tmp_path, yaml_text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text)
    res = invoke("solve", bad)
    assert res.exit_code == 2, res.output
    assert expected in res.output
    assert str(bad) in res.output
    assert "Traceback" not in res.output


def test_missing_file_exits_2(tmp_path):
    res = invoke("solve", tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "no such file" in res.output


def test_infeasible_scenario_names_the_conflict(tmp_path):
    text = (
        "name: impossible\nhorizon: {start: 2024-01-01, days: 3}\n"
        "shifts: [{id: D, start: '07:00', minutes: 480}]\n"
        "staff: [{id: a}, {id: b}]\n"
        "constraints:\n"
        "  - {kind: cover, id: three-nurses, shift: D, min: 3, preferred: 3}\n"
        "  - {kind: max_consecutive_days, days: 5}\n"
    )
    path = tmp_path / "impossible.yaml"
    path.write_text(text)
    res = invoke("solve", path, "--time-limit", 10)
    assert res.exit_code == 1
    assert "three-nurses" in res.output
    assert "at least 3" in res.output
    assert "(the fewest possible)" in res.output


def test_import_curtois_roundtrip(tmp_path):
    out = tmp_path / "i1.yaml"
    res = invoke("import-curtois", INSTANCE1, "-o", out)
    assert res.exit_code == 0, res.output
    back = tmp_path / "i1.txt"
    assert invoke("export-curtois", out, "-o", back).exit_code == 0

    def data_lines(p: Path) -> list[str]:
        return [
            ln.strip() for ln in p.read_text().splitlines() if ln.strip() and not ln.startswith("#")
        ]

    assert data_lines(back) == data_lines(INSTANCE1)


def test_import_broken_curtois_exits_2(tmp_path):
    broken = tmp_path / "broken.txt"
    broken.write_text(
        INSTANCE1.read_text().replace("A,D=14,4320,3360,5,2,2,1", "A,D=14,lots,3360,5,2,2,1")
    )
    res = invoke("import-curtois", broken, "-o", tmp_path / "x.yaml")
    assert res.exit_code == 2
    assert "SECTION_STAFF" in res.output and "lots" in res.output
