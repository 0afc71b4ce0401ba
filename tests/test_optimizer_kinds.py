"""One tiny problem per constraint kind whose optimum is known by hand.

Every fixture is solved by the generated Pyomo model and re-checked by the trusted checker
(objective equality is asserted in `optimum`). Comments give the hand computation.
"""

import pytest

from tests.optimizer_helpers import make_spec, optimum, solve_in_process

ONE_DAY = "horizon: {start: 2024-01-01, days: 1}\n"
TWO_STAFF = "staff: [{id: a, skills: [RN, senior], contract: cheap}, {id: b, skills: [RN], contract: dear}]\n"


def test_cover_under_and_over():
    # 1 nurse, 2 days, 2 preferred per day: 1 missing per day x 100
    assert (
        optimum(
            "horizon: {start: 2024-01-01, days: 2}\nconstraints: [{kind: cover, shift: D, preferred: 2}]"
        )
        == 200
    )
    # min 1 forces 1 nurse where 0 are preferred: 1 over per day x 5
    text = "horizon: {start: 2024-01-01, days: 2}\nconstraints: [{kind: cover, shift: D, min: 1, preferred: 0, over_weight: 5}]"
    assert optimum(text) == 10


def test_cover_counts_only_the_skill():
    text = (
        ONE_DAY + TWO_STAFF + "constraints: [{kind: cover, shift: D, skill: senior, preferred: 2}]"
    )
    assert optimum(text) == 100  # only a is senior


def test_overstaffing_tolerance():
    three = "staff: [{id: a}, {id: b}, {id: c}]\n" + ONE_DAY
    cover = "{kind: cover, shift: D, min: 3, preferred: 2, over_weight: 1}"
    assert optimum(three + f"constraints: [{cover}]") == 1  # 1 over x 1
    assert (
        optimum(three + f"constraints: [{cover}, {{kind: overstaffing_tolerance, percent: 50}}]")
        == 0
    )  # 1 tolerated
    soft = f"constraints: [{cover}, {{kind: overstaffing_tolerance, percent: 0, hard: false, weight: 7}}]"
    assert optimum(three + soft) == 8  # 1 over: cover 1 + tolerance 7


def test_overstaffing_tolerance_hard_caps_cover():
    three = "staff: [{id: a}, {id: b}, {id: c}]\n" + ONE_DAY
    reqs = ", ".join(
        f"{{kind: shift_request, staff: {s}, day: 0, shift: D, weight: 9}}" for s in "abc"
    )
    text = (
        three
        + f"constraints: [{{kind: cover, shift: D, preferred: 2, over_weight: 0}}, {reqs}, {{kind: overstaffing_tolerance, percent: 0}}]"
    )
    assert optimum(text) == 9  # all three ask for D, but a third nurse is over the cap


def test_max_hours():
    week = "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_hours, hours: 40, period_days: 7}]"
    assert optimum(week) == 200  # 5 shifts of 8 h, 2 days uncovered
    soft = "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_hours, hours: 40, period_days: 7, hard: false, weight: 10}]"
    assert optimum(soft) == 160  # working all 7 days: 16 h over x 10 < 2 x 100


def test_min_hours():
    offs = ", ".join(
        f"{{kind: shift_request, staff: a, day: {d}, on: false, weight: 5}}" for d in range(7)
    )
    assert (
        optimum(f"constraints: [{offs}, {{kind: min_hours, hours: 24}}]") == 15
    )  # 3 shifts against 3 requests
    assert (
        optimum(f"constraints: [{offs}, {{kind: min_hours, hours: 24, hard: false, weight: 0.5}}]")
        == 12
    )  # 24 h x 0.5


def test_min_hours_skips_incomplete_periods():
    # 10 days, 7-day periods: only days 0..6 form a complete period
    text = "horizon: {start: 2024-01-01, days: 10}\nconstraints: [{kind: min_hours, hours: 8, period_days: 7}, {kind: shift_request, staff: a, day: 8, on: false, weight: 1}]"
    assert optimum(text) == 0


def test_max_shifts():
    assert (
        optimum(
            "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_shifts, count: 3}]"
        )
        == 400
    )
    text = "constraints: [{kind: cover, shift: N, preferred: 1}, {kind: max_shifts, count: 2, shift: N, period_days: 7}]"
    assert optimum(text) == 500


def test_max_consecutive_days():
    cover = "{kind: cover, shift: D, preferred: 1}"
    assert (
        optimum(f"constraints: [{cover}, {{kind: max_consecutive_days, days: 3}}]") == 100
    )  # WWW-WWW
    # soft: 7 straight days break 4 windows of 4 days: 4 x 20 = 80 < one uncovered day
    assert (
        optimum(
            f"constraints: [{cover}, {{kind: max_consecutive_days, days: 3, hard: false, weight: 20}}]"
        )
        == 80
    )


@pytest.mark.parametrize("variant", [None, "pattern"])
def test_max_consecutive_days_variants_agree(variant):
    spec = make_spec(
        "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_consecutive_days, days: 2}]"
    )
    assert solve_in_process(spec, variant=variant, mip_gap=0.0).objective == 200  # WW-WW-W


def test_min_consecutive_days():
    days5 = "horizon: {start: 2024-01-01, days: 5}\n"
    reqs = "{kind: shift_request, staff: a, day: 2, shift: D, weight: 10}, " + ", ".join(
        f"{{kind: shift_request, staff: a, day: {d}, on: false, weight: 3}}" for d in (0, 1, 3, 4)
    )
    assert optimum(days5 + f"constraints: [{reqs}, {{kind: min_consecutive_days, days: 2}}]") == 3
    # soft: a 1-day block costs (2 - 1) x 1
    assert (
        optimum(
            days5 + f"constraints: [{reqs}, {{kind: min_consecutive_days, days: 2, hard: false}}]"
        )
        == 1
    )


def test_min_consecutive_days_exempts_the_horizon_edges():
    text = "horizon: {start: 2024-01-01, days: 3}\nconstraints: [{kind: shift_request, staff: a, day: 0, shift: D, weight: 5}, {kind: shift_request, staff: a, day: 1, on: false, weight: 5}, {kind: min_consecutive_days, days: 3}]"
    assert optimum(text) == 0  # W - - : the block touches day 0


def test_min_consecutive_days_off():
    days5 = "horizon: {start: 2024-01-01, days: 5}\n"
    reqs = "{kind: shift_request, staff: a, day: 2, on: false, weight: 10}, " + ", ".join(
        f"{{kind: shift_request, staff: a, day: {d}, shift: D, weight: 3}}" for d in (0, 1, 3, 4)
    )
    assert (
        optimum(days5 + f"constraints: [{reqs}, {{kind: min_consecutive_days_off, days: 2}}]") == 3
    )
    assert (
        optimum(
            days5
            + f"constraints: [{reqs}, {{kind: min_consecutive_days_off, days: 3, hard: false}}]"
        )
        == 2
    )


def test_min_rest_hours():
    days2 = "horizon: {start: 2024-01-01, days: 2}\n"
    reqs = "{kind: shift_request, staff: a, day: 0, shift: E, weight: 10}, {kind: shift_request, staff: a, day: 1, shift: D, weight: 10}"
    assert (
        optimum(days2 + f"constraints: [{reqs}, {{kind: min_rest_hours, hours: 11}}]") == 10
    )  # E 23:00 -> D 07:00 is 8 h
    assert (
        optimum(
            days2
            + f"constraints: [{reqs}, {{kind: min_rest_hours, hours: 11, hard: false, weight: 4}}]"
        )
        == 4
    )
    assert optimum(days2 + f"constraints: [{reqs}, {{kind: min_rest_hours, hours: 8}}]") == 0


def test_forbidden_succession():
    days2 = "horizon: {start: 2024-01-01, days: 2}\n"
    reqs = "{kind: shift_request, staff: a, day: 0, shift: N, weight: 10}, {kind: shift_request, staff: a, day: 1, shift: E, weight: 6}"
    assert (
        optimum(
            days2
            + f"constraints: [{reqs}, {{kind: forbidden_succession, from_shift: N, to_shift: E}}]"
        )
        == 6
    )
    assert (
        optimum(
            days2
            + f"constraints: [{reqs}, {{kind: forbidden_succession, from_shift: N, to_shift: E, hard: false, weight: 2}}]"
        )
        == 2
    )


def test_max_consecutive_nights():
    days4 = "horizon: {start: 2024-01-01, days: 4}\n"
    assert (
        optimum(
            days4
            + "constraints: [{kind: cover, shift: N, preferred: 1}, {kind: max_consecutive_nights, nights: 2}]"
        )
        == 100
    )


def test_max_weekends():
    weeks2 = "horizon: {start: 2024-01-01, days: 14}\n"
    reqs = "{kind: shift_request, staff: a, day: 5, shift: D, weight: 10}, {kind: shift_request, staff: a, day: 12, shift: D, weight: 10}"
    assert optimum(weeks2 + f"constraints: [{reqs}, {{kind: max_weekends, count: 1}}]") == 10
    assert (
        optimum(
            weeks2 + f"constraints: [{reqs}, {{kind: max_weekends, count: 1, period_weeks: 1}}]"
        )
        == 0
    )
    assert (
        optimum(
            weeks2
            + f"constraints: [{reqs}, {{kind: max_weekends, count: 0, hard: false, weight: 3}}]"
        )
        == 6
    )


def test_complete_weekends():
    reqs = "{kind: shift_request, staff: a, day: 5, shift: D, weight: 10}, {kind: shift_request, staff: a, day: 6, on: false, weight: 3}"
    assert optimum(f"constraints: [{reqs}, {{kind: complete_weekends}}]") == 3
    assert (
        optimum(f"constraints: [{reqs}, {{kind: complete_weekends, hard: false, weight: 2}}]") == 2
    )


def test_unavailability():
    cover = "{kind: cover, shift: D, preferred: 1}"
    assert (
        optimum(ONE_DAY + f"constraints: [{cover}, {{kind: unavailability, staff: a, days: [0]}}]")
        == 100
    )
    assert (
        optimum(
            ONE_DAY
            + f"constraints: [{cover}, {{kind: unavailability, staff: a, days: [0], hard: false, weight: 30}}]"
        )
        == 30
    )
    assert (
        optimum(
            ONE_DAY
            + f"constraints: [{cover}, {{kind: unavailability, staff: a, days: [0], shift: N}}]"
        )
        == 0
    )


def test_shift_request():
    on = "{kind: shift_request, staff: a, day: 0, shift: D, weight: 5}"
    assert (
        optimum(ONE_DAY + f"constraints: [{on}, {{kind: unavailability, staff: a, days: [0]}}]")
        == 5
    )
    off = "{kind: shift_request, staff: a, day: 0, on: false, weight: 5}"
    assert optimum(ONE_DAY + f"constraints: [{off}, {{kind: cover, shift: D, preferred: 1}}]") == 5
    assert (
        optimum(ONE_DAY + "constraints: [{kind: shift_request, staff: a, day: 0, weight: 5}]") == 0
    )  # any shift


def test_min_skill_per_shift():
    text = (
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: unavailability, staff: a, days: [0]}, {kind: min_skill_per_shift, skill: senior, count: 1, scope: {shifts: [D]}, hard: false, weight: 50}]"
    )
    assert optimum(text) == 50
    text = (
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: min_skill_per_shift, skill: senior, count: 1, scope: {shifts: [D, N]}, hard: false, weight: 50}]"
    )
    assert optimum(text) == 50  # one senior cannot work two shifts a day


def test_fatigue():
    days3 = "horizon: {start: 2024-01-01, days: 3}\n"
    cover = "{kind: cover, shift: N, preferred: 1}"
    assert (
        optimum(days3 + f"constraints: [{cover}, {{kind: fatigue, window_days: 3, max_score: 6}}]")
        == 100
    )  # 3 nights score 9
    assert (
        optimum(
            days3
            + f"constraints: [{cover}, {{kind: fatigue, window_days: 3, max_score: 6, hard: false, weight: 10}}]"
        )
        == 30
    )
    # recovery 2 per day off: N N - scores 6 - 2 = 4, so a max of 4 still allows two nights
    assert (
        optimum(
            days3
            + f"constraints: [{cover}, {{kind: fatigue, window_days: 3, max_score: 4, recovery: 2}}]"
        )
        == 100
    )


def test_fairness():
    days2 = "horizon: {start: 2024-01-01, days: 2}\n"
    rules = "{kind: cover, shift: N, preferred: 1}, {kind: shift_request, staff: b, day: 0, on: false, weight: 3}, {kind: shift_request, staff: b, day: 1, on: false, weight: 3}"
    assert (
        optimum(
            days2
            + TWO_STAFF
            + f"constraints: [{rules}, {{kind: fairness, metric: nights, max_spread: 0}}]"
        )
        == 3
    )
    assert (
        optimum(
            days2
            + TWO_STAFF
            + f"constraints: [{rules}, {{kind: fairness, metric: nights, max_spread: 0, hard: false, weight: 1}}]"
        )
        == 2
    )


def test_budget():
    rules = "{kind: cover, shift: D, preferred: 1}, {kind: shift_request, staff: a, day: 0, on: false, weight: 5}"
    assert (
        optimum(ONE_DAY + TWO_STAFF + f"constraints: [{rules}, {{kind: budget, max_cost: 100}}]")
        == 5
    )  # b costs 400
    assert (
        optimum(
            ONE_DAY
            + TWO_STAFF
            + f"constraints: [{rules}, {{kind: budget, max_cost: 100, hard: false, weight: 0.01}}]"
        )
        == 3
    )


def test_objective_weight():
    rules = "{kind: shift_request, staff: a, day: 0, shift: D, weight: 5}, {kind: unavailability, staff: a, days: [0]}"
    assert (
        optimum(
            ONE_DAY
            + f"constraints: [{rules}, {{kind: objective_weight, term: shift_request, weight: 3}}]"
        )
        == 15
    )
    cost = (
        "staff: [{id: a, contract: cheap}]\n"
        + ONE_DAY
        + "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: objective_weight, term: cost, weight: 0.1}]"
    )
    assert optimum(cost) == 8  # 8 h x 10 x 0.1


def test_infeasible_rules_are_named():
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: unavailability, staff: a, days: [0], id: a-leave}, {kind: min_skill_per_shift, skill: senior, count: 1, scope: {shifts: [D]}, id: senior-on-days}]"
    )
    result = solve_in_process(spec)
    assert result.status == "infeasible"
    assert len(result.conflicts) == 1
    assert result.conflicts[0].constraint_id in {"a-leave", "senior-on-days"}


def test_infeasibility_names_the_smallest_set():
    # cover needs 3 on day 0 but only 2 staff exist, and an unrelated rule holds
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: cover, shift: D, min: 3, preferred: 3, id: three-on-days}, {kind: max_consecutive_days, days: 5}]"
    )
    result = solve_in_process(spec)
    assert result.status == "infeasible"
    assert [c.constraint_id for c in result.conflicts] == ["three-on-days"]
