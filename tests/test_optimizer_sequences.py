"""The run rules as a flow through each staff member's automaton (generated `sequences.py`).

The automaton must accept exactly the schedules the trusted checker accepts; the flow must
tighten the LP without changing which rosters are feasible; and rosters found without the
flow (neighbourhood search, construction) must get the arcs that follow them.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import highspy
import numpy as np
import pytest
from scipy import sparse

from alchemist import service
from alchemist.check import check
from alchemist.spec import Assignment, Schedule

from .optimizer_helpers import generated, make_spec, optimum
from .test_optimizer_search import highs_model

CURTOIS = Path(__file__).resolve().parents[1] / "scenarios" / "curtois"

RUN_RULES = {
    "max and min work": "[{kind: max_consecutive_days, days: 3}, {kind: min_consecutive_days, days: 2}]",
    "min work and min off": "[{kind: min_consecutive_days, days: 3}, {kind: min_consecutive_days_off, days: 2}]",
    "all three": "[{kind: max_consecutive_days, days: 2}, {kind: min_consecutive_days, days: 2},"
    " {kind: min_consecutive_days_off, days: 3}]",
    "max only": "[{kind: max_consecutive_days, days: 1}]",
}


@pytest.mark.parametrize("rules", list(RUN_RULES.values()), ids=list(RUN_RULES))
def test_the_automaton_accepts_exactly_the_schedules_the_checker_accepts(rules):
    days = 9
    spec = make_spec(
        f"horizon: {{start: '2024-01-01', days: {days}}}\n"
        "shifts: [{id: D, start: '07:00', minutes: 480}]\n"
        f"constraints: {rules}"
    )
    with generated(spec) as model:
        network = model.build(spec.model_dump(mode="json")).network
    accepted = 0
    for pattern in itertools.product([False, True], repeat=days):
        schedule = Schedule(
            assignments=[Assignment(staff="a", day=d, shift="D") for d in range(days) if pattern[d]]
        )
        feasible = check(spec, schedule).feasible
        assert (network.path("a", list(pattern)) is not None) == feasible, pattern
        accepted += feasible
    assert 0 < accepted < 2**days  # the rules bite, and some schedules pass


def test_rules_on_some_days_or_shifts_and_soft_rules_stay_out_of_the_automaton():
    spec = make_spec(
        "constraints: [{kind: max_consecutive_days, days: 2, scope: {shifts: [N]}},"
        " {kind: min_consecutive_days, days: 3, hard: false, weight: 5},"
        " {kind: min_consecutive_days_off, days: 2, scope: {weekdays: [sat, sun]}}]"
    )
    with generated(spec) as model:
        assert model.build(spec.model_dump(mode="json")).network is None


def lp_bound(spec, network: bool, plain: bool = False) -> float:
    """The LP relaxation's value; `plain`: of the model the exact search starts on."""
    with generated(spec) as model:
        b = model.build(spec.model_dump(mode="json"), network=network)
        hm = model.HighsModel(b.m, {"threads": 1}, b.network)
        lp = hm.plain_lp() if plain else hm.lp
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
        h = hm._highs(0, model=False)
        h.passModel(lp)
        h.run()
        return h.getInfo().objective_function_value


def test_the_flow_tightens_the_lp_bound_and_the_plain_model_leaves_it_out():
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    windows, flow = lp_bound(spec, network=False), lp_bound(spec, network=True)
    # measured: 1261.0 with the window rows alone, 1488.2 with the flow (optimum 1716)
    assert flow > windows + 200 and flow <= 1716 + 1e-6
    assert abs(lp_bound(spec, network=True, plain=True) - windows) < 1e-6


def full_rows_hold(hm, values) -> bool:
    """Every row of the model HiGHS's exact search sees, flow rows included."""
    a = hm.lp.a_matrix_
    shape = (hm.lp.num_row_, hm.lp.num_col_)
    matrix = sparse.csc_matrix(
        (np.array(a.value_), np.array(a.index_), np.array(a.start_)), shape=shape
    )
    activity = matrix @ values
    return bool(np.all(activity >= hm.row_lower - 1e-6) and np.all(activity <= hm.row_upper + 1e-6))


def test_a_roster_built_without_the_flow_gets_the_arcs_that_follow_it():
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    with highs_model(spec) as (b, hm):
        assert b.network is not None and len(hm.arc_cols) == len(b.network.arcs)
        assert hm.construct(time.perf_counter() + 30, {})  # sub-problems without flow rows
        values = hm.best.values
        assert full_rows_hold(hm, values)  # the arcs were set when the roster was offered
        stale = values.copy()
        stale[hm.arc_cols] = 0.0
        assert not full_rows_hold(hm, stale)
        assert np.array_equal(hm.complete(stale), values)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_staff_member_who_cannot_work_at_all_keeps_an_all_off_path(threads):
    # b is away all week: no roster cell, yet the flow still sends b's unit through days off
    value = optimum(
        "staff: [{id: a, skills: [RN]}, {id: b, skills: [RN]}]\n"
        "constraints: [{kind: max_consecutive_days, days: 2},"
        " {kind: unavailability, staff: b, days: [0, 1, 2, 3, 4, 5, 6]},"
        " {kind: cover, shift: D, preferred: 1, under_weight: 10}]",
        threads=threads,
    )
    assert value == 20  # a works at most 5 of 7 days (2 on, 1 off): two days uncovered


def test_the_flow_is_left_out_past_its_size_limit_unless_asked_for():
    spec = service.import_curtois(CURTOIS / "Instance8.txt")  # 7567 arcs
    problem = spec.model_dump(mode="json")
    with generated(spec) as model:
        assert model.NETWORK_ARCS < 7567
        assert model.build(problem).network is None  # "auto"
        assert len(model.build(problem, network=True).network.arcs) == 7567
        assert model.build(problem, network=False).network is None
    spec4 = service.import_curtois(CURTOIS / "Instance4.txt")  # 2360 arcs
    with generated(spec4) as model:
        assert len(model.build(spec4.model_dump(mode="json")).network.arcs) == 2360
