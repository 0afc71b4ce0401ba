"""Per-constraint tests of the trusted checker (Timefold style): one tiny fixture per kind.

Every fixture states the roster as one string per staff member, one character per day
(`E` early 06:00, `L` late 14:00, `N` night 22:00, `.` off), and asserts the exact amount,
hard (violations) and soft (weight x amount). The horizon starts on Monday 2024-01-01.
"""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from alchemist.check import CheckReport, check
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

MONDAY = dt.date(2024, 1, 1)
SHIFTS = [
    ShiftType(id="E", name="early", start="06:00", minutes=480),
    ShiftType(id="L", name="late", start="14:00", minutes=480),
    ShiftType(id="N", name="night", start="22:00", minutes=480, is_night=True),
]
STAFF = [
    Staff(id="a", name="Ana", skills=["rn"], contract="full"),
    Staff(id="b", name="Ben", skills=["rn", "icu"], contract="part"),
    Staff(id="c", skills=[]),
]
CONTRACTS = [
    Contract(id="full", hourly_cost=30),
    Contract(id="part", hourly_cost=20),
]


def make_spec(*rules, days: int = 14, start: dt.date = MONDAY, staff=None) -> ProblemSpec:
    return ProblemSpec(
        horizon=Horizon(start=start, days=days),
        shifts=SHIFTS,
        skills=["rn", "icu"],
        contracts=CONTRACTS,
        staff=staff or STAFF,
        constraints=list(rules),
    )


def roster(**rows: str) -> Schedule:
    """roster(a="EE.N") -> a works E on days 0 and 1, N on day 3."""
    return Schedule(
        assignments=[
            Assignment(staff=s, day=d, shift=c)
            for s, row in rows.items()
            for d, c in enumerate(row)
            if c != "."
        ]
    )


def hard_total(report: CheckReport, kind: str) -> float:
    return sum(v.amount for v in report.hard_violations if v.kind == kind)


def evaluate_both_ways(rule, schedule: Schedule, weight: float = 3.0, **spec_kw):
    """Run the rule hard and soft; return (hard report, soft report)."""
    hard = make_spec(rule.model_copy(update={"hard": True}), **spec_kw)
    soft = make_spec(rule.model_copy(update={"hard": False, "weight": weight}), **spec_kw)
    return check(hard, schedule), check(soft, schedule)


def assert_amount(rule, schedule: Schedule, amount: float, weight: float = 3.0, **spec_kw):
    """Hard: violations of the rule's kind sum to `amount`; soft: the term is weight x amount."""
    hard, soft = evaluate_both_ways(rule, schedule, weight, **spec_kw)
    kind = rule.kind
    assert hard_total(hard, kind) == pytest.approx(amount)
    assert hard.feasible == (amount == 0)
    assert hard.penalties.get(kind, 0.0) == 0.0
    assert soft.feasible
    assert soft.penalties[kind] == pytest.approx(weight * amount)
    assert soft.objective == pytest.approx(weight * amount)
    assert sum(p.amount for p in soft.details) == pytest.approx(amount)
    assert all(p.amount > 0 for p in soft.details)
    return hard, soft


# --------------------------------------------------------------------------- the contract


def test_every_constraint_kind_has_a_test():
    names = [n for n in dir(sys.modules[__name__]) if n.startswith("test_")]
    untested = [k for k in CONSTRAINT_KINDS if not any(n.startswith(f"test_{k}") for n in names)]
    assert untested == []


# --------------------------------------------------------------------------- cover


def test_cover_preferred_is_soft_with_its_own_weights():
    rule = Cover(shift="E", preferred=2, under_weight=10, over_weight=3, scope=Scope(days=[0, 1]))
    report = check(make_spec(rule, days=2), roster(a="EE", b="E.", c="E."))
    assert report.feasible
    assert report.penalties == {"cover_under": 10.0, "cover_over": 3.0}
    assert report.objective == 13.0
    assert [(c.day, c.assigned, c.preferred) for c in report.coverage] == [(0, 3, 2), (1, 1, 2)]
    over, under = report.details
    assert (over.term, over.day, over.amount, over.weight, over.penalty) == (
        "cover_over",
        0,
        1,
        3,
        3,
    )
    assert (under.term, under.day, under.amount, under.penalty) == ("cover_under", 1, 1, 10)


def test_cover_min_and_max_are_hard_whatever_the_hard_flag():
    rule = Cover(shift="E", min=2, preferred=2, max=2, hard=False, scope=Scope(days=[0, 1]))
    report = check(make_spec(rule, days=2), roster(a="EE", b="E.", c="E."))
    assert [(v.day, v.amount) for v in report.hard_violations] == [(0, 1), (1, 1)]
    assert report.hard_violations[0].message == "3 people on E on Mon 2024-01-01 (max 2)"
    assert report.hard_violations[1].message == "Only 1 person on E on Tue 2024-01-02 (min 2)"
    assert report.penalties == {"cover_under": 100.0, "cover_over": 1.0}  # default weights


def test_cover_counts_skill_holders_on_scope_weekdays():
    rule = Cover(shift="N", skill="icu", preferred=1, scope=Scope(weekdays=["sat"]))
    # day 5 and 12 are Saturdays; a (no icu) works N on 5, b (icu) on 12
    report = check(make_spec(rule), roster(a=".....N", b="............N"))
    assert [(c.day, c.assigned, c.skill) for c in report.coverage] == [
        (5, 0, "icu"),
        (12, 1, "icu"),
    ]
    assert report.penalties["cover_under"] == 100.0


def test_cover_counts_only_staff_in_scope():
    rule = Cover(shift="E", preferred=0, scope=Scope(days=[0], contracts=["part"]))
    report = check(make_spec(rule), roster(a="E", b="E", c="E"))
    assert report.coverage[0].assigned == 1
    assert report.penalties["cover_over"] == 1.0


# --------------------------------------------------------------------------- overstaffing


CROWD = [Staff(id=f"s{i}") for i in range(8)]


def crowd(n: int, shift: str = "E") -> Schedule:
    return roster(**{f"s{i}": shift for i in range(n)})


def test_overstaffing_tolerance_hard_counts_staff_beyond_the_tolerance():
    cover = Cover(shift="E", preferred=5, scope=Scope(days=[0]))
    tol = OverstaffingTolerance(percent=40)  # floor(5 x 0.4) = 2 extra tolerated
    report = check(make_spec(cover, tol, days=1, staff=CROWD), crowd(8))  # 3 over preferred
    assert report.penalties == {"cover_under": 0.0, "cover_over": 1.0}  # only the one beyond
    (v,) = report.hard_violations
    assert (v.kind, v.amount, v.shift, v.day) == ("overstaffing_tolerance", 1, "E", 0)
    assert "40% tolerance" in v.message


def test_overstaffing_tolerance_soft_adds_its_weight_per_person_beyond():
    cover = Cover(shift="E", preferred=5, scope=Scope(days=[0]))
    tol = OverstaffingTolerance(percent=40, hard=False, weight=4)
    report = check(make_spec(cover, tol, days=1, staff=CROWD), crowd(8))
    assert report.feasible
    assert report.penalties == {
        "cover_under": 0.0,
        "cover_over": 1.0,
        "overstaffing_tolerance": 4.0,
    }
    assert report.objective == 5.0


def test_overstaffing_tolerance_within_tolerance_costs_nothing():
    cover = Cover(shift="E", preferred=5, scope=Scope(days=[0]))
    tol = OverstaffingTolerance(percent=40)
    report = check(make_spec(cover, tol, days=1, staff=CROWD), crowd(7))
    assert report.feasible and report.objective == 0.0


def test_overstaffing_tolerance_rounds_down_and_respects_its_scope():
    cover = Cover(shift="E", preferred=3, scope=Scope(days=[0]))
    other_shift = OverstaffingTolerance(percent=100, scope=Scope(shifts=["L"]))
    report = check(make_spec(cover, other_shift, days=1, staff=CROWD), crowd(5))
    assert report.feasible and report.penalties["cover_over"] == 2.0  # not in scope
    half = OverstaffingTolerance(percent=50)  # floor(1.5) = 1
    report = check(make_spec(cover, half, days=1, staff=CROWD), crowd(5))
    assert report.penalties["cover_over"] == 1.0
    assert hard_total(report, "overstaffing_tolerance") == 1


def test_overstaffing_tolerance_several_rules_each_check_their_own_limit():
    cover = Cover(shift="E", preferred=5, scope=Scope(days=[0]))
    narrow = OverstaffingTolerance(percent=20, hard=False, weight=2)  # 1 tolerated
    wide = OverstaffingTolerance(percent=40, hard=False, weight=5)  # 2 tolerated
    report = check(make_spec(cover, narrow, wide, days=1, staff=CROWD), crowd(8))
    # cover_over counts beyond the largest tolerance; each rule charges beyond its own
    assert report.penalties["cover_over"] == 1.0
    assert report.penalties["overstaffing_tolerance"] == 2 * 2 + 5 * 1


# --------------------------------------------------------------------------- hours and shifts


def test_max_hours_per_week():
    rule = MaxHours(hours=40, period_days=7)
    # week 1: 6 shifts = 48 h (8 over); week 2: 2 shifts = 16 h
    hard, soft = assert_amount(rule, roster(a="EEEEEE..EE...."), 8)
    (v,) = hard.hard_violations
    assert (v.staff, v.day) == ("a", 0)
    assert v.message == (
        "Ana (a) works 48 h from Mon 2024-01-01 to Sun 2024-01-07, 8 h more than the max of 40 h"
    )


def test_max_hours_whole_horizon_and_short_last_period():
    assert_amount(MaxHours(hours=60), roster(a="EEEEEE..EE...."), 4)
    # 10 days in periods of 7: the short last period (days 7..9) is checked too
    assert_amount(MaxHours(hours=20, period_days=7), roster(a=".......EEE"), 4, days=10)


def test_max_hours_scope_filters_shifts_days_and_staff():
    rows = roster(a="NNNEEE.", b="NNNNNNN")
    assert_amount(MaxHours(hours=16, scope=Scope(staff=["a"], shifts=["N"])), rows, 8, days=7)
    weekend = Scope(staff=["b"], weekdays=["sat", "sun"])
    assert_amount(MaxHours(hours=8, scope=weekend), rows, 8, days=7)
    assert_amount(MaxHours(hours=50, scope=Scope(skills=["icu"])), rows, 6, days=7)


def test_max_hours_fractional_hours():
    rule = MaxHours(hours=2000 / 60)  # 33.33 h
    assert_amount(rule, roster(a="EEEEE"), 400 / 60, days=5)  # 40 h worked
    assert_amount(rule, roster(a="EEEE."), 0, days=5)


def test_min_hours_only_complete_periods():
    rule = MinHours(hours=40, period_days=7)
    # 10 days: period 0..6 is complete (a 16 h, b 40 h, c 0 h); 7..9 is not checked
    hard, _ = assert_amount(rule, roster(a="EE........", b="EEEEE....."), 24 + 40, days=10)
    assert [(v.staff, v.day, v.amount) for v in hard.hard_violations] == [
        ("a", 0, 24),
        ("c", 0, 40),
    ]
    assert hard.hard_violations[0].message == (
        "Ana (a) works 16 h from Mon 2024-01-01 to Sun 2024-01-07, 24 h less than the min of 40 h"
    )


def test_min_hours_amounts_per_staff_and_period():
    rule = MinHours(hours=40, period_days=7, scope=Scope(staff=["a", "b"]))
    assert_amount(rule, roster(a="EE........", b="EEEEE....."), 24, days=10)
    whole = MinHours(hours=40, scope=Scope(skills=["rn"]))  # a and b; c has no rn
    assert_amount(whole, roster(a="EE........", b="EEEEE....."), 24, days=10)


def test_max_shifts_of_one_type_and_of_all_types():
    rows = roster(a="NNNNNEE")
    assert_amount(MaxShifts(count=3, shift="N"), rows, 2, days=7)
    assert_amount(MaxShifts(count=3), rows, 4, days=7)
    assert_amount(MaxShifts(count=1, scope=Scope(shifts=["E"])), rows, 1, days=7)
    assert_amount(MaxShifts(count=2, period_days=3), rows, 1 + 1 + 0, days=7)
    # the counted shift is excluded by scope.shifts: nothing counts
    assert_amount(MaxShifts(count=0, shift="N", scope=Scope(shifts=["E"])), rows, 0, days=7)


# --------------------------------------------------------------------------- sequences


def test_max_consecutive_days_counts_windows_per_run():
    rule = MaxConsecutiveDays(days=5)
    hard, _ = assert_amount(rule, roster(a=".EEELEEE......"), 2)  # 7 days: 2 windows of 6
    (v,) = hard.hard_violations
    assert v.message == "Ana (a) works 7 consecutive days from Tue 2024-01-02 (max 5)"
    assert (v.day, v.amount) == (1, 2)


def test_max_consecutive_days_scope_days_and_shifts():
    rows = roster(a=".EEELEEE......")
    # only windows starting on an in-scope day count
    assert_amount(MaxConsecutiveDays(days=5, scope=Scope(days=[1])), rows, 1)
    # worked = an in-scope shift: E runs are 3 and 3 long
    assert_amount(MaxConsecutiveDays(days=3, scope=Scope(shifts=["E"])), rows, 0)


def test_min_consecutive_days_exempts_blocks_touching_the_horizon_ends():
    rule = MinConsecutiveDays(days=3)
    # blocks: days 0-1 (touches day 0: exempt), 3 (interior, 2 short), 6-9 (ok), 13 (exempt)
    hard, _ = assert_amount(rule, roster(a="EE.E..EEEE...E"), 2, weight=5)
    (v,) = hard.hard_violations
    assert (v.day, v.amount) == (3, 2)
    assert v.message == "Ana (a) works only 1 day in a row from Thu 2024-01-04 (min 3)"


def test_min_consecutive_days_interior_blocks_all_count():
    # two interior blocks of 1 and 2 days: (3-1) + (3-2)
    assert_amount(MinConsecutiveDays(days=3), roster(a="EEE.E.EE..EEEE"), 3)
    # blocks starting outside scope.days are not counted
    assert_amount(MinConsecutiveDays(days=3, scope=Scope(days=[4])), roster(a="EEE.E.EE..EEEE"), 2)


def test_min_consecutive_days_off_exempts_boundary_blocks():
    rule = MinConsecutiveDaysOff(days=2)
    # off blocks: 0-1 (exempt), 3 (1 short), 6-7 (ok), 9 (1 short), 13 (exempt)
    hard, _ = assert_amount(rule, roster(a="..E.EE..E.EEE."), 2)
    assert [v.day for v in hard.hard_violations] == [3, 9]
    assert hard.hard_violations[0].message == (
        "Ana (a) has only 1 day off in a row from Thu 2024-01-04 (min 2)"
    )


def test_min_rest_hours_uses_rest_successions():
    rule = MinRestHours(hours=11)
    # L->E (8 h), N->E (0 h), N->L (8 h); E->L on days 2-3 is 24 h
    hard, _ = assert_amount(rule, roster(a="LE.NE.NL", b="..EL...."), 3, days=8)
    assert hard.hard_violations[0].message == (
        "Ana (a) rests 8 h between L on Mon 2024-01-01 and E on Tue 2024-01-02 (min 11 h)"
    )
    # the rest is measured from the first shift's end, only for in-scope first shifts
    assert_amount(
        MinRestHours(hours=11, scope=Scope(shifts=["L"])), roster(a="LE.NE.NL"), 1, days=8
    )


def test_min_rest_hours_offset_two_days():
    # N ends Wednesday 06:00; E on Thursday starts 24 h later (< 30 h)
    assert_amount(MinRestHours(hours=30), roster(a="N.E"), 1, days=3)
    assert_amount(MinRestHours(hours=24), roster(a="N.E"), 0, days=3)


def test_forbidden_succession_counts_each_pair():
    rule = ForbiddenSuccession(from_shift="N", to_shift="E")
    hard, _ = assert_amount(rule, roster(a="NENE.", b="NL..."), 2, weight=7, days=5)
    assert hard.hard_violations[0].message == (
        "Ana (a) works E on Tue 2024-01-02 right after N on Mon 2024-01-01 (forbidden succession)"
    )
    scoped = ForbiddenSuccession(from_shift="N", to_shift="E", scope=Scope(staff=["b"]))
    assert_amount(scoped, roster(a="NENE."), 0, days=5)


def test_max_consecutive_nights():
    rule = MaxConsecutiveNights(nights=2)
    hard, _ = assert_amount(rule, roster(a="NNNN.NNE"), 2, days=8)
    assert hard.hard_violations[0].message == (
        "Ana (a) works 4 consecutive nights from Mon 2024-01-01 (max 2)"
    )
    assert_amount(MaxConsecutiveNights(nights=0), roster(a="N.N.E"), 2, days=5)


# --------------------------------------------------------------------------- weekends


def test_max_weekends_over_the_horizon_and_per_period():
    rows = roster(a=".....E.......N", b="......E")  # a: weekends 1 and 2; b: weekend 1
    hard, _ = assert_amount(MaxWeekends(count=1), rows, 1)
    assert hard.hard_violations[0].message == "Ana (a) works 2 weekends over the horizon (max 1)"
    assert_amount(MaxWeekends(count=1, period_weeks=1), rows, 0)
    assert_amount(MaxWeekends(count=0, period_weeks=1), rows, 3)


def test_max_weekends_lone_edge_days_count_as_weekends():
    sunday = dt.date(2023, 12, 31)  # weekends: [0], [6, 7], [13]
    rows = roster(a="E............E")
    assert_amount(MaxWeekends(count=1), rows, 1, start=sunday)
    assert_amount(MaxWeekends(count=1, period_weeks=2), rows, 0, start=sunday)
    assert_amount(MaxWeekends(count=0, period_weeks=2), rows, 2, start=sunday)


def test_complete_weekends():
    rows = roster(a=".....E", b=".....EE", c=".............L")  # a: Sat only; c: Sun only
    hard, _ = assert_amount(CompleteWeekends(), rows, 2)
    assert hard.hard_violations[0].message == (
        "Ana (a) works only Saturday of the weekend of Sat 2024-01-06 (complete weekends)"
    )


def test_complete_weekends_ignore_weekends_cut_by_the_horizon():
    sunday = dt.date(2023, 12, 31)  # weekends: [0] (a lone Sunday), [6, 7]
    assert_amount(CompleteWeekends(), roster(a="E.....E."), 1, days=8, start=sunday)


# --------------------------------------------------------------------------- per person and day


def test_unavailability_any_shift_or_one_shift():
    rows = roster(a="..EN.")
    hard, _ = assert_amount(Unavailability(staff="a", days=[2, 3]), rows, 2, days=5)
    assert hard.hard_violations[0].message == "Ana (a) works E on Wed 2024-01-03 but is unavailable"
    assert_amount(Unavailability(staff="a", days=[2, 3], shift="N"), rows, 1, days=5)
    assert_amount(
        Unavailability(staff="a", days=[2, 3], scope=Scope(shifts=["E"])), rows, 1, days=5
    )


def test_shift_request_on_and_off_with_and_without_shift():
    rows = roster(a="L.NE", b="EEE.")
    cases = [
        (ShiftRequest(staff="a", day=0, shift="E", weight=2), 1),  # works L instead
        (ShiftRequest(staff="b", day=0, shift="E", weight=2), 0),
        (ShiftRequest(staff="a", day=1, weight=2), 1),  # wants any shift, is off
        (ShiftRequest(staff="b", day=1, weight=2), 0),
        (ShiftRequest(staff="a", day=2, shift="N", on=False, weight=2), 1),
        (ShiftRequest(staff="a", day=2, shift="E", on=False, weight=2), 0),
        (ShiftRequest(staff="a", day=3, on=False, weight=2), 1),  # wants the day off
        (ShiftRequest(staff="b", day=3, on=False, weight=2), 0),
    ]
    for rule, amount in cases:
        assert_amount(rule, rows, amount, weight=2, days=4)
    report = check(make_spec(*(r for r, _ in cases), days=4), rows)
    assert report.penalties == {"shift_request": 8.0}
    assert [d.message for d in report.details] == [
        "Ana (a) asked to work E on Mon 2024-01-01 but works L",
        "Ana (a) asked to work on Tue 2024-01-02 but is off",
        "Ana (a) asked not to work N on Wed 2024-01-03 but does",
        "Ana (a) asked for Thu 2024-01-04 off but works E",
    ]


def test_min_skill_per_shift():
    rule = MinSkillPerShift(skill="icu", count=1, scope=Scope(shifts=["N"]))
    # day 0 b (icu) on N; day 1 only a (no icu); day 2 nobody
    hard, _ = assert_amount(rule, roster(a=".N.", b="N.."), 2, weight=10, days=3)
    assert [(v.day, v.shift) for v in hard.hard_violations] == [(1, "N"), (2, "N")]
    two = MinSkillPerShift(skill="rn", count=2, scope=Scope(shifts=["E"], days=[0]))
    assert_amount(two, roster(a="E", b="E", c="E"), 0, days=1)
    assert_amount(two, roster(a="E", c="E"), 1, days=1)


# --------------------------------------------------------------------------- windows and spreads


def test_fatigue_windows_with_loads_and_recovery():
    rule = Fatigue(window_days=3, max_score=5, loads={"N": 4}, recovery=1)
    # loads: N 4 (given), L 2 (evening default), E 1; windows: NNL=10, NL.=5, L.E=2, .EE=1
    hard, _ = assert_amount(rule, roster(a="NNL.EE"), 5, weight=2, days=6)
    (v,) = hard.hard_violations
    assert v.message == "Ana (a)'s fatigue score is 10 over the 3 days from Mon 2024-01-01 (max 5)"


def test_fatigue_default_night_load_and_short_horizon():
    assert_amount(Fatigue(window_days=3, max_score=6), roster(a="NNN"), 3, days=3)
    assert_amount(Fatigue(window_days=4, max_score=0), roster(a="NNN"), 0, days=3)
    # every window of the horizon: days 0..H-window
    assert_amount(Fatigue(window_days=2, max_score=1), roster(a="EEEE"), 3, days=4)


def test_fairness_nights_hours_and_weekends():
    rows = roster(a="NNN....", b="EE.....", c="N......")
    hard, _ = assert_amount(Fairness(metric="nights", max_spread=1), rows, 2, days=7)
    assert hard.hard_violations[0].message == (
        "Nights differ by 3 across 3 staff: Ana (a) 3, Ben (b) 0 (max spread 1)"
    )
    assert_amount(Fairness(metric="hours", max_spread=10), rows, 6, days=7)  # 24 h vs 8 h
    scoped = Fairness(metric="nights", max_spread=1, scope=Scope(staff=["a", "c"]))
    assert_amount(scoped, rows, 1, days=7)
    weekend = roster(a=".....EE......N", b=".....N")
    assert_amount(Fairness(metric="weekends", max_spread=0), weekend, 2)
    assert_amount(
        Fairness(metric="nights", max_spread=0, scope=Scope(staff=["a"])), rows, 0, days=7
    )


def test_budget_uses_contract_hourly_cost():
    rows = roster(a="EE", b="E.", c="EE")  # 16 h x 30 + 8 h x 20 + 16 h x 0 = 640
    hard, _ = assert_amount(Budget(max_cost=600), rows, 40, weight=0.5, days=2)
    assert hard.hard_violations[0].message == (
        "Staff cost 640.00 exceeds the budget of 600.00 by 40.00"
    )
    assert_amount(Budget(max_cost=100, scope=Scope(contracts=["part"])), rows, 60, days=2)


# --------------------------------------------------------------------------- objective weights


def test_objective_weight_multiplies_a_term_and_several_rules_multiply():
    request = ShiftRequest(staff="a", day=0, shift="E", weight=2)
    cover = Cover(shift="E", preferred=1, under_weight=10, scope=Scope(days=[0]))
    rules = [request, cover, ObjectiveWeight(term="shift_request", weight=3)]
    report = check(make_spec(*rules, days=1), roster(a="L"))
    assert report.penalties == {"shift_request": 6.0, "cover_under": 10.0, "cover_over": 0.0}
    both = [*rules, ObjectiveWeight(term="shift_request", weight=5)]
    report = check(make_spec(*both, days=1), roster(a="L"))
    assert report.penalties["shift_request"] == 30.0
    assert report.objective == 40.0
    detail = next(d for d in report.details if d.term == "shift_request")
    assert (detail.amount, detail.weight, detail.penalty) == (1, 30, 30)
    halved = [cover, ObjectiveWeight(term="cover_under", weight=0.5)]
    assert check(make_spec(*halved, days=1), roster(a="L")).penalties["cover_under"] == 5.0


def test_objective_weight_cost_term():
    rows = roster(a="EE", b="E.", c="EE")  # total cost 640
    report = check(make_spec(ObjectiveWeight(term="cost", weight=0.01), days=2), rows)
    assert report.penalties == {"cost": pytest.approx(6.4)}
    assert report.objective == pytest.approx(6.4)
    assert report.details[0].amount == pytest.approx(640)
    # no cost term without the rule
    assert check(make_spec(days=2), rows).penalties == {}


def test_objective_weight_does_not_touch_hard_rules():
    rules = [MaxShifts(count=0), ObjectiveWeight(term="max_shifts", weight=10)]
    report = check(make_spec(*rules, days=1), roster(a="E"))
    assert hard_total(report, "max_shifts") == 1
    assert report.objective == 0.0


# --------------------------------------------------------------------------- roster structure


def test_one_shift_per_day_is_a_structural_violation():
    schedule = Schedule(
        assignments=[
            Assignment(staff="a", day=0, shift="E"),
            Assignment(staff="a", day=0, shift="N"),
        ]
    )
    report = check(make_spec(MaxShifts(count=1, shift="N"), days=1), schedule)
    (v,) = report.hard_violations
    assert (v.kind, v.staff, v.day, v.amount) == ("one_shift_per_day", "a", 0, 1)
    assert v.message == "Ana (a) has 2 shifts on Mon 2024-01-01 (E, N); one shift per day (kept E)"


def test_invalid_assignments_are_reported_and_ignored():
    schedule = Schedule(
        assignments=[
            Assignment(staff="zed", day=0, shift="E"),
            Assignment(staff="a", day=0, shift="X"),
            Assignment(staff="a", day=9, shift="E"),
            Assignment(staff="b", day=0, shift="E"),
        ]
    )
    cover = Cover(shift="E", preferred=1, scope=Scope(days=[0]))
    report = check(make_spec(cover, days=2), schedule)
    assert [v.kind for v in report.hard_violations] == ["invalid_assignment"] * 3
    assert "unknown staff 'zed'" in report.hard_violations[0].message
    assert "unknown shift 'X'" in report.hard_violations[1].message
    assert "day 9 outside the horizon (0..1)" in report.hard_violations[2].message
    assert report.coverage[0].assigned == 1
    assert report.objective == 0.0
