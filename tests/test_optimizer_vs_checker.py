"""Randomised agreement: on small random specs using every kind with random scopes, the
generated optimizer's roster must pass the checker with exactly the objective it reports.

This is what keeps the templates and the trusted checker on the same semantics.
"""

from __future__ import annotations

import random

import pytest

from alchemist.check import check
from alchemist.spec import spec_from_dict
from tests.optimizer_helpers import solve_in_process

SHIFTS = [
    {"id": "D", "start": "07:00", "minutes": 480},
    {"id": "E", "start": "15:00", "minutes": 480},
    {"id": "N", "start": "23:00", "minutes": 480, "is_night": True},
    {"id": "L", "start": "10:00", "minutes": 720},
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def random_scope(rng: random.Random, staff: list[str], shifts: list[str], days: int) -> dict:
    scope: dict = {}
    if rng.random() < 0.3:
        scope["staff"] = rng.sample(staff, rng.randint(1, len(staff)))
    if rng.random() < 0.2:
        scope["skills"] = [rng.choice(["RN", "senior"])]
    if rng.random() < 0.15:
        scope["contracts"] = ["ft"]
    if rng.random() < 0.3:
        scope["shifts"] = rng.sample(shifts, rng.randint(1, len(shifts)))
    if rng.random() < 0.2:
        scope["weekdays"] = rng.sample(WEEKDAYS, rng.randint(2, 6))
    elif rng.random() < 0.15:
        scope["days"] = sorted(rng.sample(range(days), rng.randint(1, days)))
    return scope


def random_rule(
    rng: random.Random, kind: str, staff: list[str], shifts: list[str], days: int
) -> dict:
    s = rng.choice(staff)
    params = {
        "cover": lambda: {"shift": rng.choice(shifts), "preferred": rng.randint(0, 3), "min": 0,
                          "skill": rng.choice([None, "RN", "senior"]), "over_weight": rng.choice([0, 1, 5])},
        "overstaffing_tolerance": lambda: {"percent": rng.choice([0, 20, 50, 100])},
        "max_hours": lambda: {"hours": rng.choice([16, 24, 40]), "period_days": rng.choice([None, 3, 7])},
        "min_hours": lambda: {"hours": rng.choice([8, 16, 24]), "period_days": rng.choice([None, 4, 7])},
        "max_shifts": lambda: {"count": rng.randint(0, 4), "period_days": rng.choice([None, 7]),
                               "shift": rng.choice([None, *shifts])},
        "max_consecutive_days": lambda: {"days": rng.randint(1, 4)},
        "min_consecutive_days": lambda: {"days": rng.randint(2, 3)},
        "min_consecutive_days_off": lambda: {"days": rng.randint(2, 3)},
        "min_rest_hours": lambda: {"hours": rng.choice([8, 11, 16])},
        "forbidden_succession": lambda: {"from_shift": rng.choice(shifts), "to_shift": rng.choice(shifts)},
        "max_consecutive_nights": lambda: {"nights": rng.randint(0, 2)},
        "max_weekends": lambda: {"count": rng.randint(0, 1), "period_weeks": rng.choice([None, 1])},
        "complete_weekends": lambda: {},
        "unavailability": lambda: {"staff": s, "days": sorted(rng.sample(range(days), 2)),
                                   "shift": rng.choice([None, *shifts])},
        "shift_request": lambda: {"staff": s, "day": rng.randrange(days), "shift": rng.choice([None, *shifts]),
                                  "on": rng.random() < 0.5},
        "min_skill_per_shift": lambda: {"skill": rng.choice(["RN", "senior"]), "count": 1},
        "fatigue": lambda: {"window_days": rng.randint(2, 4), "max_score": rng.choice([3, 4, 6]),
                            "recovery": rng.choice([0, 1])},
        "fairness": lambda: {"metric": rng.choice(["nights", "weekends", "hours"]), "max_spread": rng.choice([0, 1, 8])},
        "budget": lambda: {"max_cost": rng.choice([500, 1500])},
        "objective_weight": lambda: {"term": rng.choice(["shift_request", "cover_under", "cost", "fatigue"]),
                                     "weight": rng.choice([0.5, 2])},
    }[kind]()  # fmt: skip
    rule = {"kind": kind, **params, "weight": rng.choice([1, 2, 7])}
    if kind not in ("objective_weight", "unavailability", "shift_request"):
        rule["scope"] = random_scope(rng, staff, shifts, days)
    if kind not in ("cover", "objective_weight"):
        rule["hard"] = rng.random() < 0.25
    if kind == "cover":
        rule.pop("weight")
    return rule


KINDS = [
    "cover", "overstaffing_tolerance", "max_hours", "min_hours", "max_shifts", "max_consecutive_days",
    "min_consecutive_days", "min_consecutive_days_off", "min_rest_hours", "forbidden_succession",
    "max_consecutive_nights", "max_weekends", "complete_weekends", "unavailability", "shift_request",
    "min_skill_per_shift", "fatigue", "fairness", "budget", "objective_weight",
]  # fmt: skip


def random_spec(seed: int):
    rng = random.Random(seed)
    days = rng.choice([5, 7, 9])
    shifts = SHIFTS[: rng.randint(2, 4)]
    shift_ids = [s["id"] for s in shifts]
    staff = [
        {"id": f"s{i}", "skills": ["RN", "senior"] if i == 0 else rng.choice([["RN"], ["RN", "senior"], []]),
         "contract": rng.choice(["ft", "pt", None])}
        for i in range(rng.randint(2, 4))
    ]  # fmt: skip
    ids = [s["id"] for s in staff]
    kinds = rng.sample(KINDS, 7) + ["cover", "cover"]
    doc = {
        "name": f"random-{seed}",
        "horizon": {"start": rng.choice(["2024-01-01", "2024-01-04", "2024-01-06"]), "days": days},
        "shifts": shifts,
        "skills": ["RN", "senior"],
        "contracts": [{"id": "ft", "hourly_cost": 40}, {"id": "pt", "hourly_cost": 30}],
        "staff": staff,
        "constraints": [random_rule(rng, k, ids, shift_ids, days) for k in kinds],
    }
    return spec_from_dict(doc, f"random-{seed}")


@pytest.mark.parametrize("seed", range(120))
def test_random_spec_optimizer_agrees_with_checker(seed):
    spec = random_spec(seed)
    result = solve_in_process(spec, mip_gap=0.0, lns=False)
    if result.status == "infeasible":
        assert result.conflicts, "infeasible without naming conflicts"
        hard = {r.id for r in spec.constraints if r.hard or r.kind == "cover"}
        assert {c.constraint_id for c in result.conflicts} <= hard
        return
    assert result.status == "optimal", result
    report = check(spec, result.schedule())
    assert report.feasible, [v.message for v in report.hard_violations]
    assert report.objective == pytest.approx(result.objective, abs=1e-6), (
        report.penalties,
        result.terms,
    )
    for term, value in report.penalties.items():
        assert value == pytest.approx(result.terms.get(term, 0.0), abs=1e-6), term
