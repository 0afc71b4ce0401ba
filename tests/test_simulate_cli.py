"""`alchemist simulate SCENARIO roster.csv ...` through its Typer function."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from alchemist.cli.simulate import simulate_command
from alchemist.simulate import cover_roster
from alchemist.spec import dump_spec_yaml, schedule_to_csv
from tests.conftest_sim import ward_spec

app = typer.Typer()
app.command("simulate")(simulate_command)
app.command("other")(lambda: None)  # two commands: `simulate` is a subcommand, as in alchemist.cli
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    spec = ward_spec(days=7)
    (root / "ward.yaml").write_text(dump_spec_yaml(spec))
    (root / "roster.csv").write_text(schedule_to_csv(spec, cover_roster(spec)))
    return root


def sandbox_or_skip() -> None:
    from alchemist.sandbox import SandboxUnavailable, get_sandbox

    try:
        get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")


def invoke(*args: str):
    return runner.invoke(app, ["simulate", *map(str, args)])


def test_simulate_writes_replications_and_aggregate(files):
    sandbox_or_skip()
    out1, out2 = files / "a.json", files / "b.json"
    r1 = invoke(
        files / "ward.yaml",
        files / "roster.csv",
        "--replications",
        "3",
        "--seed",
        "4",
        "--json",
        out1,
    )
    assert r1.exit_code == 0, r1.output
    assert "wait_mean_minutes" in r1.output and "95% CI" in r1.output
    doc = json.loads(out1.read_text())
    assert doc["status"] == "ok" and len(doc["replications"]) == 3
    assert doc["aggregate"]["wait_mean_minutes"]["n"] == 3 and "wall_seconds" in doc["timing"]
    r2 = invoke(
        files / "ward.yaml",
        files / "roster.csv",
        "-n",
        "3",
        "--seed",
        "4",
        "--json",
        out2,
        "--workers",
        "1",
    )
    assert r2.exit_code == 0, r2.output
    assert json.loads(out2.read_text())["aggregate"] == doc["aggregate"]


def test_simulate_deterministic(files):
    sandbox_or_skip()
    out = files / "det.json"
    r = invoke(files / "ward.yaml", files / "roster.csv", "--deterministic", "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["mode"] == "deterministic" and len(doc["replications"]) == 1
    assert doc["replications"][0]["coverage"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2025-01-06,E,n01\n2025-01-06,E,ghost\n", "row 3: unknown staff_id 'ghost'"),
        ("2025-03-01,E,n01\n", "row 2: date 2025-03-01 is outside the horizon"),
        ("06/01/2025,E,n01\n", "row 2: date '06/01/2025' is not YYYY-MM-DD"),
        ("2025-01-06,Z,n01\n", "row 2: unknown shift 'Z'"),
        ("2025-01-06,E,n01\n2025-01-06,L,n01\n", "row 3: n01 already works on 2025-01-06"),
    ],
)
def test_roster_that_does_not_match_the_scenario_names_the_row(files, rows, message):
    bad = files / "bad.csv"
    bad.write_text("date,shift,staff_id\n" + rows)
    r = invoke(files / "ward.yaml", bad)
    assert r.exit_code == 2
    assert message in " ".join(r.output.split()), r.output


def test_missing_files_and_columns(files):
    r = invoke(files / "nope.yaml", files / "roster.csv")
    assert r.exit_code == 2 and "no such file" in r.output
    headless = files / "cols.csv"
    headless.write_text("day,who\n1,n01\n")
    r = invoke(files / "ward.yaml", headless)
    assert r.exit_code == 2 and "header lacks column(s)" in r.output


def test_failed_simulation_exits_1(files, tmp_path):
    spec = ward_spec(days=7, simulation={"server_skills": ["surgeon"]})
    (tmp_path / "s.yaml").write_text(dump_spec_yaml(spec))
    r = invoke(tmp_path / "s.yaml", files / "roster.csv", "--deterministic")
    assert r.exit_code == 1
    assert "simulation failed" in r.output and "surgeon" in r.output
