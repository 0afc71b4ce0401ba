"""The checker's report as a whole: API, invariants, cross-checks against naive definitions, speed."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from alchemist.check import CheckReport, CoverCount, Penalty, Violation, check
from alchemist.spec.model import (
    CONSTRAINT_KINDS,
    Assignment,
    Budget,
    CompleteWeekends,
    Contract,
    Cover,
    Fairness,
    Fatigue,
    ForbiddenSuccession,
    Horizon,
    MaxConsecutiveDays,
    MaxConsecutiveNights,
    MaxHours,
    MaxShifts,
    MaxWeekends,
    MinConsecutiveDays,
    MinConsecutiveDaysOff,
    MinHours,
    MinRestHours,
    MinSkillPerShift,
    ObjectiveWeight,
    OverstaffingTolerance,
    ProblemSpec,
    Schedule,
    Scope,
    ShiftRequest,
    ShiftType,
    Staff,
    Unavailability,
)
from alchemist.spec.scope import weekends

STRUCTURAL = {"one_shift_per_day", "invalid_assignment"}


def ward(n_staff: int = 6, days: int = 28, n_shifts: int = 3) -> ProblemSpec:
    """A small ward using every constraint kind, soft and hard mixed."""
    shifts = [
        ShiftType(id="E", start="06:00", minutes=480),
        ShiftType(id="L", start="14:00", minutes=480),
        ShiftType(id="N", start="22:00", minutes=600, is_night=True),
    ][:n_shifts]
    staff = [
        Staff(id=f"n{i:02d}", name=f"Nurse {i}", skills=["rn", "icu"][: 1 + i % 2], contract="std")
        for i in range(n_staff)
    ]
    rules = [
        Cover(shift="E", preferred=2, min=1, scope=Scope(weekdays=["mon", "tue", "wed"])),
        Cover(shift="N", skill="icu", preferred=1, max=2),
        OverstaffingTolerance(percent=50, hard=False, weight=2),
        MaxHours(hours=40, period_days=7, hard=False, weight=1),
        MinHours(hours=16, period_days=7, hard=False, weight=1),
        MaxShifts(count=6, shift="N"),
        MaxConsecutiveDays(days=5, hard=False, weight=4),
        MinConsecutiveDays(days=2, hard=False, weight=3),
        MinConsecutiveDaysOff(days=2, hard=False, weight=3),
        MinRestHours(hours=11, hard=False, weight=5),
        ForbiddenSuccession(from_shift="N", to_shift="E", hard=False, weight=6),
        MaxConsecutiveNights(nights=3),
        MaxWeekends(count=2, period_weeks=4, hard=False, weight=7),
        CompleteWeekends(hard=False, weight=2),
        Unavailability(staff="n00", days=[0, 1, 2]),
        ShiftRequest(staff="n01", day=3, shift="L", weight=3),
        ShiftRequest(staff="n02", day=4, on=False, weight=2),
        MinSkillPerShift(skill="icu", count=1, scope=Scope(shifts=["N"]), hard=False, weight=9),
        Fatigue(window_days=7, max_score=10, recovery=0.5, hard=False, weight=1),
        Fairness(metric="nights", max_spread=2, hard=False, weight=10),
        Budget(max_cost=20000, hard=False, weight=0.01),
        ObjectiveWeight(term="shift_request", weight=2),
        ObjectiveWeight(term="cost", weight=0.001),
    ]
    return ProblemSpec(
        name="ward",
        horizon=Horizon(start=dt.date(2024, 1, 1), days=days),
        shifts=shifts,
        skills=["rn", "icu"],
        contracts=[Contract(id="std", hourly_cost=35)],
        staff=staff,
        constraints=rules,
    )


def random_roster(spec: ProblemSpec, seed: int, p_work: float = 0.6) -> Schedule:
    rng = random.Random(seed)
    ids = [s.id for s in spec.shifts]
    return Schedule(
        assignments=[
            Assignment(staff=s.id, day=d, shift=rng.choice(ids))
            for s in spec.staff
            for d in range(spec.horizon.days)
            if rng.random() < p_work
        ]
    )


def test_ward_uses_every_kind():
    assert ward().kinds() == set(CONSTRAINT_KINDS)


@pytest.mark.parametrize("seed", range(5))
def test_report_invariants_on_random_rosters(seed):
    spec = ward()
    report = check(spec, random_roster(spec, seed))
    assert isinstance(report, CheckReport)
    assert report.objective == pytest.approx(sum(report.penalties.values()))
    assert report.objective == pytest.approx(sum(d.penalty for d in report.details))
    for term, value in report.penalties.items():
        assert value == pytest.approx(sum(d.penalty for d in report.details if d.term == term))
    assert all(
        d.amount > 0 and d.penalty == pytest.approx(d.weight * d.amount) for d in report.details
    )
    assert all(v.amount > 0 and v.message for v in report.hard_violations)
    assert {v.kind for v in report.hard_violations} <= set(CONSTRAINT_KINDS) | STRUCTURAL
    hard_ids = {r.id for r in spec.constraints if r.hard and r.kind != "cover"}
    assert {d.constraint_id for d in report.details}.isdisjoint(hard_ids)
    assert report.feasible == (not report.hard_violations)


def test_penalty_terms_listed_for_every_soft_rule_even_at_zero():
    spec = ward()
    report = check(spec, Schedule())
    soft_kinds = {
        r.kind
        for r in spec.constraints
        if not r.hard and r.kind not in ("cover", "objective_weight")
    }
    assert set(report.penalties) == soft_kinds | {"cover_under", "cover_over", "cost"}
    assert report.penalties["cost"] == 0.0
    assert "max_shifts" not in report.penalties  # hard


def test_objective_weights_scale_the_details():
    spec = ward()
    report = check(spec, random_roster(spec, 1))
    for d in report.details:
        if d.term == "shift_request":
            rule = next(r for r in spec.constraints if r.id == d.constraint_id)
            assert d.weight == rule.weight * 2


def test_coverage_lists_every_cover_rule_and_day():
    spec = ward()
    report = check(spec, random_roster(spec, 2))
    e_days = [d for d in range(28) if d % 7 in (0, 1, 2)]
    assert [(c.constraint_id, c.day) for c in report.coverage] == [
        *(("cover-1", d) for d in e_days),
        *(("cover-2", d) for d in range(28)),
    ]
    grid = {(a.staff, a.day): a.shift for a in random_roster(spec, 2).assignments}
    icu = {s.id for s in spec.staff if "icu" in s.skills}
    for c in report.coverage:
        who = icu if c.skill == "icu" else {s.id for s in spec.staff}
        assert c.assigned == sum(grid.get((s, c.day)) == c.shift for s in who)


def test_feasible_roster_summary_and_json_round_trip():
    spec = ProblemSpec(
        horizon=Horizon(start=dt.date(2024, 1, 1), days=2),
        shifts=[ShiftType(id="D", start="08:00", minutes=480)],
        staff=[Staff(id="a", name="Ana")],
        constraints=[Cover(shift="D", preferred=1, min=1), MaxShifts(count=2)],
    )
    report = check(
        spec, Schedule(assignments=[Assignment(staff="a", day=d, shift="D") for d in (0, 1)])
    )
    assert report.feasible and report.objective == 0
    assert report.summary() == "Feasible: every hard rule holds.\nObjective 0"
    doc = json.loads(report.to_json())
    assert doc["feasible"] is True
    assert CheckReport.model_validate(doc) == report
    assert [CoverCount.model_validate(c) for c in doc["coverage"]] == report.coverage


def test_summary_of_an_infeasible_roster():
    spec = ward()
    report = check(spec, random_roster(spec, 3, p_work=0.9))
    text = report.summary(max_lines=2)
    lines = text.splitlines()
    assert lines[0].startswith("Infeasible: ")
    assert lines[1].startswith("Objective ")
    assert lines[2] == f"  - {report.hard_violations[0].message}"
    assert lines[-1] == f"  ... and {len(report.hard_violations) - 2} more violation(s)"


def test_check_is_deterministic_and_leaves_inputs_alone():
    spec = ward()
    schedule = random_roster(spec, 4)
    before = (spec.model_dump_json(), schedule.model_dump_json())
    assert check(spec, schedule).to_json() == check(spec, schedule).to_json()
    assert (spec.model_dump_json(), schedule.model_dump_json()) == before


def test_report_records_are_plain_data():
    v = Violation(constraint_id="x", kind="cover", amount=1, message="m")
    p = Penalty(constraint_id="x", kind="cover", term="cover_under", amount=1, weight=2, penalty=2)
    assert v.staff is None and p.day is None
    with pytest.raises(ValueError):
        v.amount = 3  # frozen


# --------------------------------------------------------------------------- naive cross-checks


def _worked(schedule: Schedule, staff: str, days: int) -> list[bool]:
    on = {a.day for a in schedule.assignments if a.staff == staff}
    return [d in on for d in range(days)]


def _naive_max_consecutive(w: list[bool], limit: int) -> int:
    return sum(all(w[d : d + limit + 1]) for d in range(len(w) - limit))


def _naive_min_blocks(w: list[bool], minimum: int) -> int:
    """Curtois' pattern: off, s worked days, off (s < minimum) strictly inside the horizon."""
    total = 0
    for s in range(1, minimum):
        for d in range(len(w) - s - 1):
            if not w[d] and all(w[d + 1 : d + s + 1]) and not w[d + s + 1]:
                total += minimum - s
    return total


@pytest.mark.parametrize("seed", range(8))
def test_sequences_match_their_naive_definitions(seed):
    days = 21
    spec = ProblemSpec(
        horizon=Horizon(start=dt.date(2024, 1, 1), days=days),
        shifts=[
            ShiftType(id="D", start="08:00", minutes=480),
            ShiftType(id="N", start="21:00", minutes=600, is_night=True),
        ],
        staff=[Staff(id=f"s{i}") for i in range(6)],
        constraints=[
            MaxConsecutiveDays(days=3),
            MinConsecutiveDays(days=3),
            MinConsecutiveDaysOff(days=3),
            MaxConsecutiveNights(nights=1),
            MaxWeekends(count=1),
            Fatigue(window_days=5, max_score=4, recovery=1),
        ],
    )
    schedule = random_roster(spec, seed, p_work=0.55)
    report = check(spec, schedule)

    def total(kind: str, staff: str) -> float:
        return sum(v.amount for v in report.hard_violations if v.kind == kind and v.staff == staff)

    grid = {(a.staff, a.day): a.shift for a in schedule.assignments}
    for st in spec.staff:
        w = _worked(schedule, st.id, days)
        nights = [grid.get((st.id, d)) == "N" for d in range(days)]
        assert total("max_consecutive_days", st.id) == _naive_max_consecutive(w, 3)
        assert total("max_consecutive_nights", st.id) == _naive_max_consecutive(nights, 1)
        assert total("min_consecutive_days", st.id) == _naive_min_blocks(w, 3)
        assert total("min_consecutive_days_off", st.id) == _naive_min_blocks([not x for x in w], 3)
        worked_weekends = sum(any(w[d] for d in wk) for wk in weekends(spec))
        assert total("max_weekends", st.id) == max(0, worked_weekends - 1)
        load = [{"D": 1, "N": 3}.get(grid.get((st.id, d)), -1) for d in range(days)]
        fatigue = sum(max(0, sum(load[d : d + 5]) - 4) for d in range(days - 4))
        assert total("fatigue", st.id) == pytest.approx(fatigue)


# --------------------------------------------------------------------------- scale


def test_every_kind_on_a_large_roster():
    """150 staff x 364 days x 32 shift types, every kind, a dense random roster.

    How fast is a figure, not a test: bench/checker.py times the check on Instance24.
    """
    base = ward()
    shifts = [
        ShiftType(
            id=f"t{i}",
            start=f"{(6 + i * 45 // 60) % 24:02d}:{i * 45 % 60:02d}",
            minutes=480,
            is_night=i >= 24,
        )
        for i in range(32)
    ]
    rename = {"E": "t0", "L": "t10", "N": "t25"}
    rules = []
    for r in base.constraints:
        update = {}
        for field in ("shift", "from_shift", "to_shift"):
            if getattr(r, field, None) in rename:
                update[field] = rename[getattr(r, field)]
        if r.scope.shifts:
            update["scope"] = r.scope.model_copy(
                update={"shifts": [rename[s] for s in r.scope.shifts]}
            )
        if isinstance(r, Unavailability):
            update["staff"] = "n000"
        if isinstance(r, ShiftRequest):
            update["staff"] = "n001"
        rules.append(r.model_copy(update=update))
    rules += [Cover(id=f"cov-{t.id}", shift=t.id, preferred=4) for t in shifts]
    spec = ProblemSpec(
        horizon=Horizon(start=dt.date(2024, 1, 1), days=364),
        shifts=shifts,
        skills=["rn", "icu"],
        contracts=base.contracts,
        staff=[
            Staff(id=f"n{i:03d}", skills=["rn", "icu"][: 1 + i % 2], contract="std")
            for i in range(150)
        ],
        constraints=rules,
    )
    schedule = random_roster(spec, 0, p_work=0.7)
    report = check(spec, schedule)
    assert len(report.coverage) == 156 + 364 * 33  # E on mon-wed, N, and 32 covers
    assert report.objective == pytest.approx(sum(report.penalties.values()))
