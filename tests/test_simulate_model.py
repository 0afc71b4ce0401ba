"""The generated SimPy model, imported in-process: queueing theory, metamorphic relations
under common random numbers, deterministic mode against the checker, and unit checks of
understaffing, fatigue and overtime."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alchemist.simulate import cover_roster, t_quantile, without
from alchemist.simulate.rosters import busiest_shift
from alchemist.spec import Schedule, load_spec
from alchemist.spec.model import ProblemSpec
from tests.conftest_sim import (
    call_center_spec,
    every_day,
    load_sim,
    simulate_in_process,
    ward_spec,
)

NO_FATIGUE = {"per_extra_day": 0, "night": 0, "per_extra_night": 0, "short_rest": 0}


def kpis(out: dict) -> list[dict]:
    return [r["kpis"] for r in out["replications"]]


# --------------------------------------------------------------------------- theory


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lambda / mu (Erlang C)."""
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (below + top)


@pytest.mark.parametrize(("c", "rate_per_hour", "mean_minutes"), [(5, 60.0, 4.0), (3, 30.0, 5.0)])
def test_call_center_matches_erlang_c(c, rate_per_hour, mean_minutes):
    """Constant staffing c, Poisson arrivals, exponential service, infinite patience."""
    sim = {
        "arrivals": {"per_hour": [rate_per_hour] * 24},
        "classes": [
            {
                "name": "call",
                "share": 1,
                "mean_minutes": mean_minutes,
                "distribution": "exponential",
            }
        ],
        "absence": {"sick_call_probability": 0},
        "fatigue": NO_FATIGUE,
        "call_center": {"patience_mean_seconds": None, "service_level_seconds": 20},
    }
    spec = call_center_spec(days=7, agents=c, per_shift=c, simulation=sim)
    out = simulate_in_process(
        spec, every_day(spec, [s.id for s in spec.staff], "D"), replications=20, seed=1
    )
    lam, mu = rate_per_hour / 60.0, 1.0 / mean_minutes
    p_wait = erlang_c(c, lam / mu)
    wait = p_wait / (c * mu - lam)
    service_level = 1.0 - p_wait * math.exp(-(c * mu - lam) * 20.0 / 60.0)
    agg = out["aggregate"]
    assert agg["wait_mean_minutes"]["ci_low"] <= wait <= agg["wait_mean_minutes"]["ci_high"], (
        wait,
        agg["wait_mean_minutes"],
    )
    assert agg["service_level"]["ci_low"] <= service_level <= agg["service_level"]["ci_high"], (
        service_level,
        agg["service_level"],
    )
    assert agg["utilization"]["mean"] == pytest.approx(lam / (c * mu), abs=0.02)
    assert all(k["abandoned"] == 0 for k in kpis(out))


def test_littles_law_on_the_ward():
    spec = ward_spec(days=28)
    out = simulate_in_process(spec, cover_roster(spec), replications=5, seed=3)
    for k in kpis(out):
        lam = k["arrival_rate_per_hour"] / 60.0
        assert k["mean_in_system"] == pytest.approx(lam * k["sojourn_mean_minutes"], rel=0.02), k


@pytest.mark.parametrize(
    "spec",
    [
        ward_spec(days=14),
        ward_spec(days=14, simulation={"renege": True}),
        ward_spec(days=14, family="icu"),
        call_center_spec(
            days=7, agents=6, per_shift=4, simulation={"call_center": {"patience_mean_seconds": 60}}
        ),
    ],
    ids=["ward", "ward-renege", "icu", "call-center-abandon"],
)
def test_flow_balance_in_every_replication(spec):
    out = simulate_in_process(spec, cover_roster(spec), replications=4, seed=2)
    for k in kpis(out):
        assert k["arrivals"] == k["served"] + k["waiting"] + k["abandoned"], k
    if spec.simulation.renege or spec.simulation.family == "call_center":
        assert sum(k["abandoned"] for k in kpis(out)) > 0


def test_renege_leaves_missed_care_undone():
    spec = ward_spec(days=14, simulation={"renege": True, "arrivals": {"scale": 1.5}})
    for k in kpis(simulate_in_process(spec, cover_roster(spec), replications=2, seed=4)):
        assert 0 < k["abandoned"] <= k["missed_care"] <= k["arrivals"]
        # an abandoned episode waited exactly its class window, never longer
        assert k["wait_p95_minutes"] <= 120 + 1e-6


# --------------------------------------------------------------------------- metamorphic (CRN)


def patient_starts(spec: ProblemSpec, schedule: Schedule, seed: int) -> np.ndarray:
    """Per-arrival care start times of replication 0 (inf = never started)."""
    sim = load_sim(spec)
    model = sim.Model(spec.model_dump(mode="json"), schedule.model_dump(mode="json"))
    times, _, care, deadline = model.arrivals([seed, 0, sim.STREAM_ARRIVALS])
    sick = np.random.default_rng([seed, 0, sim.STREAM_ABSENCE]).random(
        (len(model.staff), model.days)
    )
    cover = np.random.default_rng([seed, 0, sim.STREAM_COVER]).random(
        (len(model.staff), model.days)
    )
    crew = model._crew(sick, cover)
    out = sim.play(times, care, deadline, crew["duties"], model.t1)
    return np.array(out["start"])


def test_removing_a_nurse_never_starts_anyone_earlier():
    """Identical nurses (no fatigue): a theorem for FIFO queues, checked patient by patient."""
    spec = ward_spec(days=14, simulation={"fatigue": NO_FATIGUE})
    roster = cover_roster(spec)
    rng = np.random.default_rng(0)
    picks = [roster.assignments[i] for i in rng.choice(len(roster.assignments), 6, replace=False)]
    for seed in (0, 1):
        base = patient_starts(spec, roster, seed)
        for a in picks:
            fewer = patient_starts(spec, without(roster, a.staff, a.day), seed)
            assert len(fewer) == len(base)  # same demand: common random numbers
            assert np.all(fewer >= base - 1e-9), (a, seed)


def test_removing_a_nurse_from_the_busiest_shift_never_reduces_waits():
    """With fatigue and sick calls on, on the mean and p95 of every replication."""
    spec = ward_spec(days=14)
    roster = cover_roster(spec)
    day, shift = busiest_shift(roster)
    base = kpis(simulate_in_process(spec, roster, replications=4, seed=5))
    for a in [a for a in roster.assignments if (a.day, a.shift) == (day, shift)][:3]:
        fewer = kpis(
            simulate_in_process(spec, without(roster, a.staff, a.day), replications=4, seed=5)
        )
        for k0, k1 in zip(base, fewer, strict=True):
            assert k1["wait_mean_minutes"] >= k0["wait_mean_minutes"] - 1e-9
            assert k1["wait_p95_minutes"] >= k0["wait_p95_minutes"] - 1e-9
            assert k1["arrivals"] == k0["arrivals"]
            assert k1["sick_calls"] <= k0["sick_calls"] <= k1["sick_calls"] + 1


def test_doubling_the_arrival_rate_never_reduces_waits():
    spec = ward_spec(days=14)
    doc = spec.model_dump(mode="json")
    doc["simulation"]["arrivals"]["scale"] = 2.0
    double = ProblemSpec.model_validate(doc)
    roster = cover_roster(spec)
    base = kpis(simulate_in_process(spec, roster, replications=4, seed=6))
    more = kpis(simulate_in_process(double, roster, replications=4, seed=6))
    for k0, k1 in zip(base, more, strict=True):
        assert k1["arrivals"] >= k0["arrivals"]
        assert k1["wait_mean_minutes"] >= k0["wait_mean_minutes"]
        assert k1["wait_p95_minutes"] >= k0["wait_p95_minutes"]


def test_raising_demand_only_adds_arrivals():
    """Arrivals are thinned from a fixed 2D Poisson process: a higher rate is a superset."""
    spec = ward_spec(days=7)
    doc = spec.model_dump(mode="json")
    doc["simulation"]["arrivals"]["scale"] = 1.3
    sim = load_sim(spec)
    low = sim.Model(spec.model_dump(mode="json"), {"assignments": []})
    high = sim.Model(doc, {"assignments": []})
    t_low, _, care_low, _ = low.arrivals([1, 0, 1])
    t_high, _, care_high, _ = high.arrivals([1, 0, 1])
    assert len(t_high) > len(t_low)
    pos = np.searchsorted(t_high, t_low)
    assert np.array_equal(t_high[pos], t_low) and np.array_equal(care_high[pos], care_low)


# --------------------------------------------------------------------------- deterministic mode


def random_roster(spec: ProblemSpec, rng: np.random.Generator, work: float) -> Schedule:
    shifts = [s.id for s in spec.shifts]
    return Schedule.model_validate(
        {
            "assignments": [
                {"staff": s.id, "day": d, "shift": shifts[int(rng.integers(len(shifts)))]}
                for s in spec.staff
                for d in range(spec.horizon.days)
                if rng.random() < work
            ]
        }
    )


def scoped_spec() -> ProblemSpec:
    """Cover rules with every kind of scope the checker honours."""
    spec = ward_spec(days=14)
    doc = spec.model_dump(mode="json")
    doc["contracts"] = [{"id": "ft"}, {"id": "pt"}]
    for i, s in enumerate(doc["staff"]):
        s["contract"] = "ft" if i % 3 else "pt"
    doc["constraints"] = [
        {
            "kind": "cover",
            "shift": "E",
            "skill": "nurse",
            "min": 3,
            "preferred": 4,
            "scope": {"weekdays": ["mon", "tue"]},
        },
        {"kind": "cover", "shift": "L", "preferred": 3, "scope": {"days": [0, 3, 13]}},
        {
            "kind": "cover",
            "shift": "N",
            "skill": "senior",
            "preferred": 1,
            "scope": {"contracts": ["ft"]},
        },
        {
            "kind": "cover",
            "shift": "E",
            "preferred": 2,
            "scope": {"staff": ["n01", "n02", "n03"], "weekdays": ["sat"]},
        },
        {
            "kind": "cover",
            "shift": "L",
            "skill": "nurse",
            "preferred": 2,
            "scope": {"skills": ["senior"]},
        },
        {"kind": "min_skill_per_shift", "skill": "senior", "count": 1},
    ]
    return ProblemSpec.model_validate(doc)


@pytest.mark.parametrize("spec_name", ["scoped", "nurse_ward", "icu", "call_center"])
def test_deterministic_coverage_equals_the_checkers_for_any_roster(spec_name):
    check = pytest.importorskip("alchemist.check").check
    spec = scoped_spec() if spec_name == "scoped" else load_spec(f"scenarios/{spec_name}.yaml")
    rng = np.random.default_rng(42)
    rosters = [cover_roster(spec)] + [random_roster(spec, rng, w) for w in (0.2, 0.5, 0.8)]
    for roster in rosters:
        out = simulate_in_process(spec, roster, deterministic=True)
        rep = out["replications"][0]
        mine = {
            (c["constraint_id"], c["day"], c["shift"], c["skill"]): c["staffed"]
            for c in rep["coverage"]
        }
        theirs = {
            (c.constraint_id, c.day, c.shift, c.skill): c.assigned
            for c in check(spec, roster).coverage
        }
        assert mine == theirs
        assert rep["kpis"]["sick_calls"] == 0


@pytest.mark.parametrize(
    ("name", "family"), [("nurse_ward", "ward"), ("icu", "icu"), ("call_center", "call_center")]
)
def test_shipped_scenarios_simulate(name, family):
    spec = load_spec(f"scenarios/{name}.yaml")
    assert spec.simulation.family == family
    out = simulate_in_process(spec, cover_roster(spec), replications=2, seed=1)
    for k in kpis(out):
        assert k["arrivals"] > 1000 and k["arrivals"] == k["served"] + k["waiting"] + k["abandoned"]
        assert 0.2 < k["utilization"] < 0.95


def test_deterministic_mode_has_no_randomness_and_mean_demand():
    spec = ward_spec(days=7)
    roster = cover_roster(spec)
    a = simulate_in_process(spec, roster, deterministic=True, seed=1, replications=9)
    b = simulate_in_process(spec, roster, deterministic=True, seed=2)
    assert a["mode"] == "deterministic" and len(a["replications"]) == 1
    assert a["replications"][0]["kpis"] == b["replications"][0]["kpis"]
    model = load_sim(spec).Model(spec.model_dump(mode="json"), roster.model_dump(mode="json"))
    expected = sum(model.rates) - model.rates[0] * (model.t0 % 60) / 60  # whole window
    assert a["replications"][0]["kpis"]["arrivals"] == round(expected)
    stat = a["aggregate"]["wait_mean_minutes"]
    assert stat["half_width"] == 0 and stat["ci_low"] == stat["ci_high"] == stat["mean"]


def test_understaffing_counts_the_missing_nurse_hours():
    spec = ward_spec(days=7, simulation={"staffing_target": "preferred"})
    roster = cover_roster(spec)
    base = simulate_in_process(spec, roster, deterministic=True)["replications"][0]["kpis"]
    assert base["understaffed_staff_hours"] == 0 and base["p_shift_understaffed"] == 0
    plain = next(
        a
        for a in roster.assignments
        if a.day == 2 and a.shift == "E" and a.staff not in ("n00", "n04", "n08")
    )
    k = simulate_in_process(spec, without(roster, plain.staff, 2), deterministic=True)[
        "replications"
    ][0]["kpis"]
    assert k["understaffed_staff_hours"] == pytest.approx(8.0)
    assert k["understaffed_shifts"] == 1
    assert k["p_shift_understaffed"] == pytest.approx(1 / 21)
    assert k["understaffed_staff_hours_per_shift"] == pytest.approx(8.0 / 21)


def test_fatigue_follows_consecutive_days_nights_and_short_rest():
    spec = ward_spec(days=8, nurses=4, simulation={"absence": {"sick_call_probability": 0}})
    rows = [{"staff": "n01", "day": d, "shift": "E"} for d in range(6)]  # six early shifts in a row
    rows += [{"staff": "n02", "day": 0, "shift": "N"}, {"staff": "n02", "day": 1, "shift": "N"}]
    rows += [{"staff": "n03", "day": 0, "shift": "N"}, {"staff": "n03", "day": 2, "shift": "E"}]
    rows += [{"staff": "n00", "day": 0, "shift": "L"}, {"staff": "n00", "day": 1, "shift": "E"}]
    out = simulate_in_process(
        spec, Schedule.model_validate({"assignments": rows}), deterministic=True
    )
    fatigue = out["replications"][0]["fatigue_by_nurse"]
    assert fatigue["n01"] == pytest.approx((0.03 + 0.06 + 0.09) / 6)  # days 4..6 beyond 3
    assert fatigue["n02"] == pytest.approx((0.05 + 0.05 + 0.03) / 2)  # nights, second in a row
    assert fatigue["n03"] == pytest.approx(0.05 / 2)  # 24 h rest before the early: not short
    assert fatigue["n00"] == pytest.approx(0.10 / 2)  # late then early: 8 h rest


def test_overtime_when_care_runs_past_the_shift_end():
    sim = {
        "handover_minutes": 0,
        "arrivals": {"per_hour": [0] * 14 + [1] + [0] * 9},  # one arrival at 14:30
        "classes": [{"name": "long", "share": 1, "mean_minutes": 60, "distribution": "fixed"}],
    }
    spec = ProblemSpec.model_validate(
        {
            "horizon": {"start": "2025-01-06", "days": 1},
            "shifts": [{"id": "D", "start": "07:00", "minutes": 480}],
            "staff": [{"id": "a"}],
            "simulation": sim,
        }
    )
    out = simulate_in_process(spec, every_day(spec, ["a"], "D"), deterministic=True)
    k = out["replications"][0]["kpis"]
    assert (k["arrivals"], k["served"], k["wait_mean_minutes"]) == (1, 1, 0)
    assert k["overtime_hours"] == pytest.approx(0.5)
    assert k["utilization"] == pytest.approx(60 / 480)


def test_nobody_on_duty_means_everyone_waits():
    spec = ward_spec(days=3)
    k = kpis(simulate_in_process(spec, Schedule(), replications=1, seed=0))[0]
    assert k["served"] == 0 and k["waiting"] == k["arrivals"] > 0
    assert k["p_shift_understaffed"] == 1 and k["missed_care"] > 0


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_same_numbers_and_batches_do_not_matter():
    spec = ward_spec(days=7)
    roster = cover_roster(spec)
    whole = simulate_in_process(spec, roster, replications=4, seed=9)
    again = simulate_in_process(spec, roster, replications=4, seed=9)
    tail = simulate_in_process(spec, roster, replications=2, seed=9, replication_offset=2)
    other = simulate_in_process(spec, roster, replications=4, seed=10)
    assert (
        whole["replications"] == again["replications"] and whole["aggregate"] == again["aggregate"]
    )
    assert whole["replications"][2:] == tail["replications"]
    assert whole["replications"] != other["replications"]


def test_generated_and_trusted_t_quantiles_agree():
    sim = load_sim(ward_spec(days=7))
    for df in [*range(1, 40), 99, 250, 1000]:
        assert sim.t_quantile(df) == t_quantile(df)
    assert t_quantile(1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(9) == pytest.approx(2.2622, abs=1e-4)
    assert t_quantile(29) == pytest.approx(2.0452, abs=1e-4)


def test_bad_inputs_are_named():
    spec = ward_spec(days=7)
    sim = load_sim(spec)
    problem = spec.model_dump(mode="json")
    cases = [
        (
            {"assignments": [{"staff": "ghost", "day": 0, "shift": "E"}]},
            {},
            "unknown staff 'ghost'",
        ),
        ({"assignments": [{"staff": "n01", "day": 9, "shift": "E"}]}, {}, "day 9 is outside 0..6"),
        ({"assignments": [{"staff": "n01", "day": 0, "shift": "Z"}]}, {}, "unknown shift 'Z'"),
        ({"assignments": []}, {"replications": 0}, "config.replications"),
        ({"assignments": []}, {"seed": -1}, "config.seed"),
    ]
    for schedule, config, message in cases:
        with pytest.raises(sim.SimulationInputError, match=message):
            sim.simulate(problem, schedule, {"replications": 1, "seed": 0, **config})
    problem["simulation"]["family"] = "call_center"
    with pytest.raises(sim.SimulationInputError, match="generated for the ward family"):
        sim.simulate(problem, {"assignments": []}, {"replications": 1})
