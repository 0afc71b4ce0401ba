"""The shipped scenarios load, are internally consistent, and leave room for the hard rules.

The feasibility estimate here is deliberately simple (an upper bound on what each person
can work under the hard caps, against the hard `min` cover): it catches an edit that makes a
scenario tight or impossible long before a solver is involved. The YAML files carry the same
arithmetic in their comments.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from alchemist.spec import ProblemSpec, load_spec
from alchemist.spec.scope import days_in_scope, periods, shifts_in_scope, staff_in_scope, weekends

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NAMES = ("nurse_ward", "icu", "call_center")
MAX_LOAD = 0.85  # hard-minimum demand may use at most 85 % of what the hard caps allow


@pytest.fixture(scope="module", params=NAMES)
def spec(request) -> ProblemSpec:
    return load_spec(SCENARIOS / f"{request.param}.yaml")


def _by_id(spec: ProblemSpec) -> dict:
    return {c.id: c for c in spec.constraints}


# --------------------------------------------------------------------------- estimates


def hard_demand(spec: ProblemSpec, skill: str | None = None) -> dict[tuple[int, str], int]:
    """People required on (day, shift) by the hard floors.

    With `skill=None`: cover `min` of rules counting everyone (no skill, or a skill that every
    staff member holds). With a skill: cover `min` for that skill and hard
    `min_skill_per_shift` counts. Overlapping rules take the largest floor, not the sum.
    """
    universal = set.intersection(*(set(s.skills) for s in spec.staff))
    need: dict[tuple[int, str], int] = {}
    for c in spec.constraints:
        if c.kind == "cover":
            counts = c.skill is None or c.skill in universal if skill is None else c.skill == skill
            if not counts or not c.min:
                continue
            keys = [(d, c.shift) for d in days_in_scope(spec, c.scope)]
            value = c.min
        elif c.kind == "min_skill_per_shift" and c.hard and c.skill == skill:
            keys = [
                (d, t) for d in days_in_scope(spec, c.scope) for t in shifts_in_scope(spec, c.scope)
            ]
            value = c.count
        else:
            continue
        for key in keys:
            need[key] = max(need.get(key, 0), value)
    return need


def demand_hours(spec: ProblemSpec, need: dict[tuple[int, str], int]) -> float:
    return sum(n * spec.shift(t).hours for (_, t), n in need.items())


def capacity_hours(spec: ProblemSpec, staff_id: str) -> float:
    """An upper bound on the hours one person can work under the hard rules."""
    person = next(s for s in spec.staff if s.id == staff_id)
    n_days = spec.horizon.days
    blocked: dict[int, set[str]] = {d: set() for d in range(n_days)}
    for c in spec.constraints:
        if c.kind == "unavailability" and c.hard and c.staff == staff_id:
            for d in c.days:
                blocked[d] |= {c.shift} if c.shift else {t.id for t in spec.shifts}
    best = [
        max((t.hours for t in spec.shifts if t.id not in blocked[d]), default=0.0)
        for d in range(n_days)
    ]
    longest = max(best)
    bounds = [sum(best)]
    for c in spec.constraints:
        if not c.hard or person not in staff_in_scope(spec, c.scope):
            continue
        if c.kind == "max_hours":
            bounds.append(
                sum(min(c.hours, sum(best[d] for d in p)) for p in periods(n_days, c.period_days))
            )
        elif c.kind == "max_shifts" and c.shift is None and not c.scope.shifts:
            bounds.append(
                sum(
                    min(c.count, sum(1 for d in p if best[d])) * longest
                    for p in periods(n_days, c.period_days)
                )
            )
        elif c.kind == "max_consecutive_days":
            bounds.append((n_days - n_days // (c.days + 1)) * longest)
    return min(bounds)


def holders(spec: ProblemSpec, skill: str) -> list[str]:
    return [s.id for s in spec.staff if skill in s.skills]


# --------------------------------------------------------------------------- tests


def test_scenario_loads_and_describes_itself(spec: ProblemSpec):
    assert spec.description.strip(), "say what the scenario is in `description:`"
    assert spec.name and spec.name != "unnamed"
    assert 20 <= len(spec.staff) <= 35, "keep scenarios small enough for a MIP in seconds"
    assert spec.horizon.days <= 28
    assert spec.horizon.start.weekday() == 0, "start on a Monday so weeks and weekends line up"


def test_every_staff_member_has_known_skills_and_contract(spec: ProblemSpec):
    contracts = {c.id for c in spec.contracts}
    for s in spec.staff:
        assert s.skills, f"{s.id} has no skill"
        assert set(s.skills) <= set(spec.skills), f"{s.id}: {s.skills}"
        assert s.contract in contracts, f"{s.id}: contract {s.contract!r}"
        assert s.name, f"{s.id} has no name"
    for c in spec.contracts:
        assert c.hourly_cost > 0 and c.description


def test_cover_rules_are_ordered_and_used_skills_are_held(spec: ProblemSpec):
    covers = [c for c in spec.constraints if c.kind == "cover"]
    assert covers
    for c in covers:
        assert c.min <= c.preferred, f"{c.id}: min {c.min} > preferred {c.preferred}"
        assert c.max is None or c.preferred <= c.max
        assert c.under_weight > c.over_weight, f"{c.id}: missing staff must cost more than extra"
        assert days_in_scope(spec, c.scope), f"{c.id} applies to no day"
        if c.skill:
            assert holders(spec, c.skill), f"{c.id}: nobody holds {c.skill}"
    # every (day, shift) has some requirement: nothing is left to chance
    need = {(d, c.shift) for c in covers for d in days_in_scope(spec, c.scope)}
    assert need == {(d, t.id) for d in range(spec.horizon.days) for t in spec.shifts}


def test_rest_and_working_time_rules_are_hard(spec: ProblemSpec):
    rest = [c for c in spec.constraints if c.kind == "min_rest_hours"]
    assert len(rest) == 1 and rest[0].hard and rest[0].hours == 11  # EU WTD art. 3
    # every staff member has a hard weekly cap (hours or shifts)
    for s in spec.staff:
        caps = [
            c
            for c in spec.constraints
            if c.kind in ("max_hours", "max_shifts")
            and c.hard
            and c.period_days == 7
            and s in staff_in_scope(spec, c.scope)
        ]
        assert caps, f"{s.id} has no hard weekly cap"
        assert all(c.kind != "max_hours" or c.hours <= 48 for c in caps)  # EU WTD art. 6


def test_hard_minimum_demand_fits_in_capacity(spec: ProblemSpec):
    demand = demand_hours(spec, hard_demand(spec))
    capacity = sum(capacity_hours(spec, s.id) for s in spec.staff)
    assert demand > 0
    assert demand <= MAX_LOAD * capacity, (
        f"hard minimum {demand:.0f} h > {MAX_LOAD:.0%} of capacity {capacity:.0f} h"
    )


def test_skill_floors_fit_in_skill_holders_capacity(spec: ProblemSpec):
    for skill in spec.skills:
        need = hard_demand(spec, skill)
        if not need:
            continue
        demand = demand_hours(spec, need)
        capacity = sum(capacity_hours(spec, sid) for sid in holders(spec, skill))
        assert demand <= MAX_LOAD * capacity, f"{skill}: {demand:.0f} h vs {capacity:.0f} h"
        # and on every single shift enough holders are not blocked that day
        for (d, t), n in need.items():
            free = [
                sid
                for sid in holders(spec, skill)
                if not any(
                    c.kind == "unavailability"
                    and c.hard
                    and c.staff == sid
                    and d in c.days
                    and c.shift in (None, t)
                    for c in spec.constraints
                )
            ]
            assert len(free) >= 2 * n, f"{skill} on day {d} shift {t}: only {len(free)} free"


def test_weekend_floors_fit_in_weekend_capacity(spec: ProblemSpec):
    """People needed on a weekend day vs people able to work it under hard max_weekends."""
    need = hard_demand(spec)
    limits = [c for c in spec.constraints if c.kind == "max_weekends" and c.hard]
    for weekend in weekends(spec):
        for d in weekend:
            required = sum(n for (day, _), n in need.items() if day == d)
            supply = 0.0
            for s in spec.staff:
                off = any(
                    c.kind == "unavailability"
                    and c.hard
                    and c.staff == s.id
                    and d in c.days
                    and not c.shift
                    for c in spec.constraints
                )
                if off:
                    continue
                share = 1.0
                for c in limits:
                    if s in staff_in_scope(spec, c.scope):
                        share = min(share, c.count / (c.period_weeks or len(weekends(spec))))
                supply += share
            assert required <= MAX_LOAD * supply, f"day {d}: {required} people vs {supply:.1f}"


def test_requests_and_absences_are_plausible(spec: ProblemSpec):
    requests = [c for c in spec.constraints if c.kind == "shift_request"]
    assert 10 <= len(requests) <= 30
    assert all(not r.hard and r.weight > 0 for r in requests)
    assert any(c.kind == "unavailability" for c in spec.constraints)


# --------------------------------------------------------------------------- per scenario


def test_nurse_ward_specifics():
    spec = load_spec(SCENARIOS / "nurse_ward.yaml")
    rules = _by_id(spec)
    assert spec.horizon.days == 28 and len(spec.staff) == 20
    assert {t.id: (t.start, t.minutes, t.is_night) for t in spec.shifts} == {
        "D": ("07:00", 480, False),
        "E": ("15:00", 480, False),
        "N": ("23:00", 480, True),
    }
    seniors = holders(spec, "senior")
    assert all("RN" in next(s for s in spec.staff if s.id == sid).skills for sid in seniors)
    charge = rules["senior-in-charge"]
    assert charge.kind == "min_skill_per_shift" and charge.hard and charge.scope.is_all()
    kinds = spec.kinds()
    for kind in (
        "max_consecutive_days",
        "max_consecutive_nights",
        "max_weekends",
        "complete_weekends",
        "fairness",
        "fatigue",
        "min_hours",
    ):
        assert kind in kinds, kind
    assert not rules["whole-weekends"].hard and not rules["fair-nights"].hard
    assert not rules["fatigue-7d"].hard
    # the numbers quoted in the YAML header
    assert demand_hours(spec, hard_demand(spec)) == 1952
    preferred = sum(
        c.preferred * spec.shift(c.shift).hours * len(days_in_scope(spec, c.scope))
        for c in spec.constraints
        if c.kind == "cover"
    )
    assert preferred == 2560


def test_icu_has_a_charge_nurse_on_every_shift():
    spec = load_spec(SCENARIOS / "icu.yaml")
    charge = [
        c for c in spec.constraints if c.kind == "min_skill_per_shift" and c.skill == "charge"
    ]
    assert charge and all(c.hard and c.count >= 1 and c.scope.is_all() for c in charge)
    assert all(t.minutes == 720 for t in spec.shifts)
    assert any(t.is_night for t in spec.shifts)
    rules = _by_id(spec)
    assert rules["max-3-long-shifts"].days == 3 and rules["max-3-long-shifts"].hard
    assert "budget" in spec.kinds()
    assert all("ICU_RN" in s.skills for s in spec.staff)


# Call-centre staffing: the YAML header derives cover from this hourly demand (Tue-Fri
# calls offered per hour from 07:00 to 21:00; Monday x1.15, Saturday x0.55, Sunday x0.40).
CALLS = (9, 24, 42, 60, 57, 48, 51, 54, 51, 45, 39, 30, 21, 15, 9)
DAY_FACTOR = {"mon": 1.15, "tue": 1.0, "wed": 1.0, "thu": 1.0, "fri": 1.0, "sat": 0.55, "sun": 0.40}
AHT_S = 300
SHRINKAGE = 0.125  # breaks and lunch inside an 8 h shift


def erlang_c_agents(calls: float, target: float, within_s: float) -> int:
    """Fewest agents answering `target` of `calls`/hour within `within_s` (Erlang C)."""
    a = calls * AHT_S / 3600
    n = max(1, math.ceil(a))
    while True:
        if n > a:
            top = a**n / math.factorial(n) * n / (n - a)
            wait = top / (sum(a**k / math.factorial(k) for k in range(n)) + top)
            if 1 - wait * math.exp(-(n - a) * within_s / AHT_S) >= target:
                return n
        n += 1


def test_call_center_cover_meets_erlang_c_by_hour():
    spec = load_spec(SCENARIOS / "call_center.yaml")
    general = [c for c in spec.constraints if c.kind == "cover" and c.skill == "general"]
    for d in range(spec.horizon.days):
        factor = DAY_FACTOR[spec.weekday(d)]
        on = {c.shift: (c.min, c.preferred) for c in general if d in days_in_scope(spec, c.scope)}
        for i, calls in enumerate(CALLS):
            hour = 7 + i
            active = [
                t.id
                for t in spec.shifts
                if t.start_minute <= hour * 60 < t.start_minute + t.minutes
            ]
            offered = round(calls * factor)
            for level, (target, within) in enumerate(((0.6, 60), (0.8, 20))):
                required = math.ceil(erlang_c_agents(offered, target, within) / (1 - SHRINKAGE))
                rostered = sum(on.get(t, (0, 0))[level] for t in active)
                assert rostered >= required, (d, hour, level, rostered, required)
    rules = _by_id(spec)
    assert rules["overstaffing-tolerance"].percent > 0
    assert any(
        c.kind == "max_shifts" and c.count == 5 and c.period_days == 7 for c in spec.constraints
    )
