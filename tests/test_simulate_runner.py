"""The runner: render, run in a sandbox (plain subprocess here), validate, aggregate."""

from __future__ import annotations

import json

import pytest

from alchemist.executor import SerialExecutor
from alchemist.simulate import (
    cover_roster,
    kpi_names,
    parse_output,
    plan_chunks,
    run_simulation,
    simulator_files,
)
from alchemist.simulate.runner import split
from alchemist.simulate.schemas import OutputError
from alchemist.spec import Schedule
from tests.conftest_sim import (
    PlainSandbox,
    ScriptedSandbox,
    call_center_spec,
    simulate_in_process,
    ward_spec,
)

SPEC = ward_spec(days=7)
ROSTER = cover_roster(SPEC)
FILES = simulator_files(SPEC)


def run(**kw):
    kw.setdefault("files", FILES)
    kw.setdefault("sandbox", PlainSandbox())
    kw.setdefault("executor", SerialExecutor())
    return run_simulation(kw.pop("spec", SPEC), kw.pop("schedule", ROSTER), **kw)


def test_replications_and_aggregate_do_not_depend_on_chunking():
    one = run(replications=5, seed=3, chunks=1)
    three = run(replications=5, seed=3, chunks=3)
    assert one.ok and three.ok, (one.error, three.error)
    assert three.timing.chunks == 3
    assert [r.replication for r in three.replications] == [0, 1, 2, 3, 4]
    assert one.replications == three.replications
    assert one.aggregate == three.aggregate
    # and equal to the generated code run in-process (the sandbox adds nothing)
    local = simulate_in_process(SPEC, ROSTER, replications=5, seed=3)
    assert [r.kpis for r in one.replications] == [r["kpis"] for r in local["replications"]]
    assert (
        one.aggregate["wait_mean_minutes"].model_dump() == local["aggregate"]["wait_mean_minutes"]
    )


def test_result_json_keeps_timings_out_of_the_aggregate():
    a, b = run(replications=3, seed=1), run(replications=3, seed=1)
    doc = json.loads(a.model_dump_json())
    assert set(doc) >= {"replications", "aggregate", "timing"}
    assert set(doc["aggregate"]) == set(kpi_names("ward"))
    assert json.dumps(doc["aggregate"], sort_keys=True) == json.dumps(
        json.loads(b.model_dump_json())["aggregate"], sort_keys=True
    )
    assert a.timing.events > 0 and a.timing.wall_seconds > 0
    stat = a.aggregate["wait_mean_minutes"]
    assert stat.n == 3 and stat.ci_low <= stat.mean <= stat.ci_high


def test_deterministic_runs_one_replication_with_coverage():
    res = run(replications=7, deterministic=True)
    assert res.ok and res.mode == "deterministic" and len(res.replications) == 1
    assert res.coverage and all(c.staffed >= 0 for c in res.coverage)
    assert res.aggregate["sick_calls"].mean == 0 and res.aggregate["sick_calls"].half_width == 0


def test_call_center_kpis_are_validated_and_aggregated():
    spec = call_center_spec(days=3)
    res = run(
        spec=spec, schedule=cover_roster(spec), files=simulator_files(spec), replications=2, seed=1
    )
    assert res.ok, res.error
    assert {"service_level", "abandonment_rate", "asa_seconds"} <= set(res.aggregate)


def test_roster_that_does_not_fit_the_spec_fails_with_a_message():
    bad = Schedule.model_validate({"assignments": [{"staff": "ghost", "day": 99, "shift": "E"}]})
    res = run(schedule=bad, replications=1)
    assert res.status == "failed" and "unknown staff 'ghost'" in res.error


def test_unknown_server_skill_fails_before_running():
    spec = ward_spec(days=7, simulation={"server_skills": ["surgeon"]})
    res = run(spec=spec, replications=1)
    assert res.status == "failed" and "surgeon" in res.error


def good_doc(**changes) -> dict:
    out = simulate_in_process(SPEC, ROSTER, replications=1, seed=0)
    out.update(changes)
    return out


def bad_kpis(**changes) -> dict:
    doc = good_doc()
    doc["replications"][0]["kpis"].update(changes)
    return doc


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ("", "printed no result"),
        ("Traceback: boom", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        (
            json.dumps({"status": "error", "error": "ZeroDivisionError: x"}),
            "reported an error: ZeroDivisionError",
        ),
        (json.dumps(good_doc(family="icu")), "family is 'icu'"),
        (json.dumps(good_doc(replications=[])), "replications: List should have at least 1 item"),
        (
            json.dumps(bad_kpis(arrivals=10**6)),
            "replications[0].kpis: flow balance broken: arrivals 1000000",
        ),
        (
            json.dumps(bad_kpis(p_shift_understaffed=1.5)),
            "replications[0].kpis.p_shift_understaffed",
        ),
        (json.dumps(bad_kpis(wait_mean_minutes=-1)), "replications[0].kpis.wait_mean_minutes"),
        (
            json.dumps(good_doc(replication_offset=0) | {"mode": "deterministic"}),
            "mode is 'deterministic'",
        ),
    ],
)
def test_malformed_output_is_a_failed_run_with_a_precise_message(stdout, message):
    res = run(sandbox=ScriptedSandbox(stdout), replications=1)
    assert res.status == "failed"
    assert message in res.error, res.error
    assert "replications 0..0" in res.error


def test_missing_kpi_and_wrong_indices_are_named():
    doc = good_doc()
    del doc["replications"][0]["kpis"]["missed_care"]
    with pytest.raises(OutputError, match=r"replications\[0\]\.kpis\.missed_care: Field required"):
        parse_output(doc, "ward", "stochastic", 0, 1)
    with pytest.raises(OutputError, match="do not match the requested"):
        parse_output(good_doc(), "ward", "stochastic", 5, 1)


def test_sandbox_limit_is_reported():
    res = run(sandbox=ScriptedSandbox("", exit_code=-9, limit_hit="wall"), replications=1)
    assert res.status == "failed" and "wall limit hit" in res.error


def test_sandbox_that_raises_is_a_failed_run():
    class Broken:
        name = "broken"

        def run(self, *a, **k):
            raise RuntimeError("no bubblewrap here")

    res = run(sandbox=Broken(), replications=1)
    assert res.status == "failed" and "no bubblewrap here" in res.error


def test_chunk_plans():
    assert split(10, 3) == [(0, 4), (4, 3), (7, 3)]
    assert split(2, 5) == [(0, 1), (1, 1)]
    assert plan_chunks(30, 2) == [(0, 8), (8, 8), (16, 7), (23, 7)]
    assert plan_chunks(5, 2) == [(0, 3), (3, 2)]
    assert len(plan_chunks(1000, 2)) == 8
    for n, w in [(1, 1), (7, 3), (100, 4)]:
        plan = plan_chunks(n, w)
        assert sum(c for _, c in plan) == n and plan[0][0] == 0
