"""Contract tests every optimizer must pass, whoever wrote it (template or LLM).

Run in the sandbox with problem.json and options.json in the working directory.
"""

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

STATUSES = {"optimal", "feasible", "infeasible", "time_limit", "error"}
KEYS = {"status", "objective", "bound", "assignments", "solve_seconds", "build_seconds"}


@cache  # one solve serves every test: the run is deterministic and costs seconds
def run_cli() -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "optimizer", "problem.json", "options.json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip(), f"no JSON on stdout; stderr: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cli_prints_the_contract():
    out = run_cli()
    assert set(out) >= KEYS, f"missing keys: {KEYS - set(out)}"
    assert out["status"] in STATUSES
    assert out["status"] != "error", out.get("error")


def test_assignments_reference_the_problem():
    problem = json.loads(Path("problem.json").read_text())
    out = run_cli()
    staff = {s["id"] for s in problem["staff"]}
    shifts = {s["id"] for s in problem["shifts"]}
    days = problem["horizon"]["days"]
    per_day = set()
    for a in out["assignments"]:
        assert a["staff"] in staff and a["shift"] in shifts and 0 <= a["day"] < days, a
        assert (a["staff"], a["day"]) not in per_day, f"{a['staff']} works twice on day {a['day']}"
        per_day.add((a["staff"], a["day"]))


def test_infeasible_results_name_conflicts():
    out = run_cli()
    if out["status"] == "infeasible":
        assert out.get("conflicts"), "an infeasible result must say which rules conflict"
