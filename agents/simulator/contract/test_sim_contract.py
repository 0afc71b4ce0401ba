"""Contract tests every simulator must pass, whoever wrote it (template or LLM).

They run in the sandbox from the workspace root (`python -m pytest tests`).
"""

import json
import math
import subprocess
import sys

from sim_helpers import load_problem, load_schedule, short, staffed_from_roster
from simulator.sim import simulate

COMMON = {
    "arrivals",
    "served",
    "waiting",
    "abandoned",
    "wait_mean_minutes",
    "wait_p95_minutes",
    "overtime_hours",
    "understaffed_staff_hours_per_shift",
    "p_shift_understaffed",
    "sick_calls",
    "fatigue_mean",
}
PROBLEM = short(load_problem(), days=7)
SCHEDULE = load_schedule(PROBLEM)
SCHEDULE = {
    "assignments": [a for a in SCHEDULE["assignments"] if a["day"] < PROBLEM["horizon"]["days"]]
}


def run_cli(tmp_path, problem, schedule, config):
    for name, doc in (("problem", problem), ("schedule", schedule), ("config", config)):
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            *(str(tmp_path / f"{n}.json") for n in ("problem", "schedule", "config")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip(), f"no JSON on stdout; stderr: {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def test_cli_prints_the_contract(tmp_path):
    code, out = run_cli(
        tmp_path, PROBLEM, SCHEDULE, {"replications": 2, "seed": 3, "deterministic": False}
    )
    assert code == 0 and out["status"] == "ok", out.get("error")
    assert out["mode"] == "stochastic" and len(out["replications"]) == 2
    for rep in out["replications"]:
        assert set(rep["kpis"]) >= COMMON, COMMON - set(rep["kpis"])
        assert all(math.isfinite(v) for v in rep["kpis"].values())
    for stat in out["aggregate"].values():
        assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
    assert "wall_seconds" in out["timing"]


def test_same_seed_same_numbers():
    config = {"replications": 2, "seed": 11, "deterministic": False}
    a, b = simulate(PROBLEM, SCHEDULE, config), simulate(PROBLEM, SCHEDULE, config)
    assert a["replications"] == b["replications"] and a["aggregate"] == b["aggregate"]


def test_batches_do_not_change_replications():
    whole = simulate(PROBLEM, SCHEDULE, {"replications": 3, "seed": 5, "deterministic": False})
    tail = simulate(
        PROBLEM,
        SCHEDULE,
        {"replications": 2, "seed": 5, "deterministic": False, "replication_offset": 1},
    )
    assert whole["replications"][1:] == tail["replications"]


def test_flow_balance_in_every_replication():
    out = simulate(PROBLEM, SCHEDULE, {"replications": 3, "seed": 1, "deterministic": False})
    for rep in out["replications"]:
        k = rep["kpis"]
        assert k["arrivals"] == k["served"] + k["waiting"] + k["abandoned"], k


def test_deterministic_staffing_is_the_roster():
    out = simulate(PROBLEM, SCHEDULE, {"replications": 5, "seed": 0, "deterministic": True})
    assert out["mode"] == "deterministic" and len(out["replications"]) == 1
    rep = out["replications"][0]
    assert rep["kpis"]["sick_calls"] == 0
    got = {(c["constraint_id"], c["day"]): c["staffed"] for c in rep["coverage"]}
    assert got == staffed_from_roster(PROBLEM, SCHEDULE)


def test_bad_roster_is_an_error_not_a_crash(tmp_path):
    bad = {
        "assignments": [{"staff": "no-such-person", "day": 0, "shift": PROBLEM["shifts"][0]["id"]}]
    }
    code, out = run_cli(
        tmp_path, PROBLEM, bad, {"replications": 1, "seed": 0, "deterministic": False}
    )
    assert code == 1 and out["status"] == "error" and "no-such-person" in out["error"]
