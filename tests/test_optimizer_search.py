"""The optimizer's search modes: one thread (exact, then neighbourhood search, then exact
again) and two threads (exact search and neighbourhood search side by side, sharing one
incumbent). Whatever the mode, the roster it returns must be the one it reports: the
trusted checker finds no hard violation and the same objective."""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from alchemist import service
from alchemist.check import check
from alchemist.coders import TemplateCoder
from alchemist.optimize.runner import infeasibility_summary, parse_result
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.sandbox.base import RunResult
from alchemist.spec import spec_from_dict

from .optimizer_helpers import generated, looping_round, make_spec, solve_in_process, write_files
from .test_optimizer_kinds import ONE_DAY, TWO_STAFF

CURTOIS = Path(__file__).resolve().parents[1] / "scenarios" / "curtois"


def checked(spec, result: OptimizerResult) -> None:
    report = check(spec, result.schedule())
    assert report.feasible, report.hard_violations[:3]
    assert abs(report.objective - result.objective) < 1e-6, (report.penalties, result.terms)
    if result.bound is not None:
        assert result.bound <= result.objective + 1e-6


def test_two_threads_prove_a_small_instance_optimal():
    spec = service.import_curtois(CURTOIS / "Instance1.txt")
    result = solve_in_process(spec, threads=2, time_limit=30, mip_gap=1e-6)
    assert result.status == "optimal" and result.objective == 607  # the known optimum
    checked(spec, result)


@pytest.mark.parametrize("threads", [1, 2])
def test_neighbourhood_search_runs_when_exact_search_cannot_finish(threads):
    # without column generation's bound, Instance4 is not proved optimal in seconds: the
    # neighbourhood search must take part
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    result = solve_in_process(spec, threads=threads, time_limit=8, mip_gap=1e-6, columns=False)
    assert result.status == "feasible"
    extra = result.model_extra
    assert extra["lns_rounds"] > 0
    assert sum(extra["lns_improvements"].values()) >= 1  # neighbourhood rounds that improved
    assert extra["found_by"]  # which search found the improving rosters
    checked(spec, result)


def test_the_neighbourhood_kinds_are_an_option():
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    # without column generation, whose roster would leave the neighbourhoods nothing to do,
    # and without tiers, whose phases take their own kinds (`tier_kinds`)
    result = solve_in_process(
        spec, threads=1, time_limit=8, mip_gap=1e-6, columns=False, tiers=False
    )
    assert set(result.model_extra["lns_improvements"]) <= {"staff", "days", "block"}
    # two windows apart only (an unknown kind is left out): its rounds alone improve
    chosen = solve_in_process(
        spec,
        threads=1,
        time_limit=8,
        mip_gap=1e-6,
        lns_kinds=["pair", "no-such-kind"],
        columns=False,
        tiers=False,
    )
    assert set(chosen.model_extra["lns_improvements"]) == {"pair"}
    checked(spec, chosen)


@pytest.mark.parametrize("root_lp", ["ipm", "simplex"])
def test_the_exact_search_proves_the_optimum_whichever_solves_its_first_lp(root_lp):
    # large models start by interior point (node LPs stay simplex): it must not change what
    # is proved
    spec = service.import_curtois(CURTOIS / "Instance2.txt")
    result = solve_in_process(spec, threads=1, time_limit=60, mip_gap=1e-6, root_lp=root_lp)
    assert result.status == "optimal" and result.objective == 828  # the known optimum
    checked(spec, result)


def test_the_exact_search_hands_over_its_thread_on_time_even_inside_a_long_lp():
    # Instance13's first LP takes about 90 s by simplex, and HiGHS asks the interrupt
    # callback only between LPs; its time limit is checked inside them (it has a roster of
    # its own, from feasibility jump, at about 3 s)
    spec = service.import_curtois(CURTOIS / "Instance13.txt")
    result = solve_in_process(spec, threads=2, time_limit=20, mip_gap=1e-6, root_lp="simplex")
    assert result.status == "feasible"
    share = 0.3 * 20
    assert result.model_extra["exact_seconds"] < share + 6  # it would hold on to the deadline
    assert result.model_extra["lns_rounds"] > 0
    checked(spec, result)


def test_an_exact_search_without_a_roster_at_its_share_waits_for_the_construction():
    # at 0.5 s HiGHS is still presolving Instance13: the exact search stops with no roster,
    # and must neither stop the construction nor leave the run without a roster
    spec = service.import_curtois(CURTOIS / "Instance13.txt")
    result = solve_in_process(spec, threads=2, time_limit=12, mip_gap=1e-6, exact_share=0.01)
    assert result.status == "feasible"
    assert "construct" in result.model_extra["found_by"]
    assert result.model_extra["exact_seconds"] < 3
    checked(spec, result)


def test_only_large_models_start_by_interior_point(monkeypatch):
    spec = service.import_curtois(CURTOIS / "Instance2.txt")
    with highs_model(spec) as (b, hm):
        assert hm.h.getOptionValue("mip_lp_solver")[1] == "choose"  # a small model: simplex
        module = sys.modules[type(hm).__module__]
        monkeypatch.setattr(module, "IPM_NONZEROS", hm.A_csc.nnz)  # as large as the limit
        large = module.HighsModel(b.m, {"threads": 1}, b.network)
        assert large.h.getOptionValue("mip_lp_solver")[1] == "ipm"
        # neighbourhood rounds' sub-problems are small: HiGHS's own choice
        assert large._highs(0, model=False).getOptionValue("mip_lp_solver")[1] == "choose"


def test_two_threads_name_conflicting_rules():
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: cover, shift: D, min: 3, preferred: 3, id: three-on-days}, {kind: max_consecutive_days, days: 5}]"
    )
    result = solve_in_process(spec, threads=2)
    assert result.status == "infeasible"
    assert [c.constraint_id for c in result.conflicts] == ["three-on-days"]
    assert result.conflicts_minimal and not result.warnings


@pytest.mark.slow
def test_two_threads_in_the_sandbox():
    """Threads count against the sandbox's process limit and CPU budget: both must allow it."""
    # Instance5: not proved in 8 s (Instance4 now is, by column generation's bound, at once)
    spec = service.import_curtois(CURTOIS / "Instance5.txt")
    report = service.solve_spec(spec, OptimizerOptions(time_limit=8, threads=2))
    assert report.result.status == "feasible", report.problems()
    assert report.ok


def curtois_with_cover_weight(weight: float):
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    doc = spec.model_dump(mode="json")
    for rule in doc["constraints"]:
        if rule["kind"] == "cover":
            rule["under_weight"] = weight
    return spec_from_dict(doc, "Instance4")


@pytest.mark.parametrize("threads", [1, 2])
def test_dominant_weights_are_searched_first_then_the_full_objective(threads):
    # Instance4: an uncovered shift costs 100, a missed request 1 to 3 (two tiers of weights)
    spec = curtois_with_cover_weight(100)
    # without column generation, which would hand the neighbourhoods the optimum at once
    result = solve_in_process(spec, threads=threads, time_limit=8, mip_gap=1e-6, columns=False)
    phase = result.model_extra["tier_phase"]
    assert phase["weights_from"] == 100 and phase["rounds"] > 0
    units = phase["objective"] / 100  # only cover counted in the first phase
    assert abs(units - round(units)) < 1e-6
    # the full objective continued from there: requests count again in the final roster
    assert result.terms["shift_request"] > 0 and result.model_extra["lns_rounds"] > phase["rounds"]
    checked(spec, result)


def test_weights_without_tiers_skip_the_first_phase():
    spec = curtois_with_cover_weight(5)  # 5 against 1 to 3: no tiers
    result = solve_in_process(spec, threads=2, time_limit=5, mip_gap=1e-6, columns=False)
    assert result.model_extra["lns_rounds"] > 0 and result.model_extra["tier_phase"] == {}
    checked(spec, result)
    spec = curtois_with_cover_weight(100)  # tiers, but switched off
    result = solve_in_process(
        spec, threads=2, time_limit=5, mip_gap=1e-6, tiers=False, columns=False
    )
    assert result.model_extra["lns_rounds"] > 0 and result.model_extra["tier_phase"] == {}


def test_dominant_tier_is_cut_at_the_widest_gap_in_the_weights():
    with generated(make_spec(ONE_DAY), "optimizer.solver") as solver:
        tier = solver.dominant_costs(np.array([0.0, 1, 2, 3, 100, 100, -100]))
        assert tier.tolist() == [0, 0, 0, 0, 100, 100, -100]
        assert solver.dominant_costs(np.array([1.0, 5])) is None  # too close to be tiers
        assert solver.dominant_costs(np.array([1.0, 1, 0])) is None  # one weight only
        assert solver.dominant_costs(np.array([1.0, 10, 100, 1000])).tolist() == [0, 0, 0, 1000]


def test_the_incumbent_is_scored_from_its_values():
    # HiGHS 1.16 can report a better objective alongside the start roster's values: the
    # incumbent must carry the objective of the values it holds, whatever HiGHS says
    with generated(make_spec(ONE_DAY), "optimizer.solver") as solver:
        best = solver.Incumbent(np.array([1.0, 2.0]), 5.0)
        assert best.offer([1, 1], "exact") and best.objective == 8
        assert not best.offer([1, 1], "lns")  # not better
        assert best.offer([1, 0], "lns") and best.objective == 6
        assert best.found == {"exact": 1, "lns": 1}


@contextlib.contextmanager
def highs_model(spec):
    """The generated model of `spec`, built and handed to HiGHS: (Builder, HighsModel)."""
    with generated(spec, "optimizer.model") as model:
        b = model.build(spec.model_dump(mode="json"))
        yield b, model.HighsModel(b.m, {"threads": 1}, b.network)


def rows_hold(hm, values) -> bool:
    """Every row the neighbourhood search sees (all but a sequence network's flow rows)."""
    activity = hm.A_csr @ values
    return bool(
        np.all(activity >= hm.plain_lower - 1e-6) and np.all(activity <= hm.plain_upper + 1e-6)
    )


@pytest.mark.parametrize("split", [False, True])
def test_a_roster_built_staff_by_staff_holds_every_row_and_is_scored_exactly(split):
    # split: as on large models with two threads, alternate staff members built on two
    # threads at once; the cover rows' slacks, which both wrote, set again from their rows
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    with highs_model(spec) as (b, hm):
        if split:
            hm.options.update(threads=2, construct_split_cells=0)
        parts = []
        real = hm._construct
        hm._construct = lambda staff, *rest: (
            parts.append((staff, threading.current_thread().name)),
            real(staff, *rest),
        )[1]
        assert hm.construct(time.perf_counter() + 30, {})
        if split:
            assert sorted(parts) == sorted(
                [
                    (hm.staff[::2], threading.current_thread().name),
                    (hm.staff[1::2], "highs-construct"),
                ]
            )
        else:
            assert parts == [(hm.staff, threading.current_thread().name)]
        values = hm.best.values
        assert hm.best.found == {"construct": 1}
        assert rows_hold(hm, values)
        assert np.allclose(values[hm.integer], np.round(values[hm.integer]), atol=1e-6)
        hm.load()
        b.polish()
        assert abs(pyo.value(b.m.objective) - hm.best.objective) < 1e-6


def test_a_neighbourhood_sub_problem_changes_only_its_cells_and_keeps_every_row():
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    with highs_model(spec) as (b, hm):
        assert hm.construct(time.perf_counter() + 30, {})
        values = hm.best.values
        staff = sorted(set(hm.x_staff.tolist()))[:2]
        cells = hm.x_cols[np.isin(hm.x_staff, staff)]
        cols, rows = hm.neighbourhood(cells)
        assert set(cells) <= set(cols) and not set(cols) & set(
            hm.x_cols[~np.isin(hm.x_staff, staff)]
        )
        h = hm._highs(0, model=False)
        h.passModel(hm.sub_problem(cols, rows, values, hm.cost))
        h.setOptionValue("time_limit", 10.0)
        h.run()
        merged = values.copy()
        merged[cols] = h.getSolution().col_value
        assert rows_hold(hm, merged)  # rows outside the sub-problem cannot have changed
        # the sub-problem's objective is the full one less what the fixed columns cost
        outside = hm.best.score(values) - float(hm.cost[cols] @ values[cols])
        assert abs(hm.best.score(merged) - (h.getInfo().objective_function_value + outside)) < 1e-6
        assert (
            hm.best.score(merged) <= hm.best.score(values) + 1e-6
        )  # the start roster was feasible


def test_slacks_are_tightened_to_what_their_rows_need():
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    with highs_model(spec) as (b, hm):
        assert hm.construct(time.perf_counter() + 30, {})
        values = hm.best.values.copy()
        loose = values.copy()
        loose[hm.slack_cols] += 2.0  # feasible, but every slack paid for twice over
        assert hm.best.score(loose) > hm.best.score(values)
        tight = hm.tighten(loose)
        assert rows_hold(hm, tight)
        assert hm.best.score(tight) <= hm.best.score(values) + 1e-6


def test_days_open_to_many_shift_types_get_a_worked_day_column():
    shifts = [{"id": f"s{i}", "start": f"{6 + i:02d}:00", "minutes": 480} for i in range(8)]
    spec = make_spec(
        "horizon: {start: '2024-01-01', days: 14}\n"
        f"shifts: {shifts}\n"
        "staff: [{id: a, skills: [RN]}, {id: b, skills: [RN]}]\n"
        "constraints:\n"
        "  - {kind: max_consecutive_days, days: 3, hard: false, weight: 7}\n"
        "  - {kind: min_consecutive_days, days: 2, hard: false, weight: 5}\n"
        "  - {kind: min_consecutive_days_off, days: 2}\n"
        "  - {kind: forbidden_succession, from_shift: s7, to_shift: s0}\n"
        "  - {kind: forbidden_succession, from_shift: s6, to_shift: s0}\n"
        "  - {kind: cover, shift: s0, preferred: 1, weight: 10}\n"
        "  - {kind: cover, shift: s7, preferred: 1, weight: 10}\n"
        "  - {kind: max_weekends, count: 1, hard: false, weight: 3}\n"
    )
    with highs_model(spec) as (b, hm):
        assert len(b.m.w) == 2 * 14  # every (staff, day): eight shift types open
        # s6 and s7 forbid the same follower: one clique row per staff and day, not two
        assert len(b.m.forbidden_succession) == 2 * 13
        # a weekend indicator sits behind worked-day columns, not cells: freeing a's cells
        # must free a's weekends too, or the sub-problem pins a's weekends as they were
        cols, _ = hm.neighbourhood(hm.x_cols[hm.x_staff == "a"])
        weekends = {
            hm.columns[j].name
            for j in cols
            if hm.columns[j].parent_component().name.startswith("wk")
        }
        assert weekends == {"wk0[a,0]", "wk0[a,1]"}
    result = solve_in_process(spec, time_limit=20, mip_gap=1e-6)
    assert result.status == "optimal"
    checked(spec, result)


def test_neighbourhoods_aim_at_the_days_and_staff_the_roster_pays_for():
    # b is away on day 1, so day 1's cover falls short: a's cells are the only ones in that
    # cover row, so its slack is a's; the shift request is b's own, on day 2
    spec = make_spec(
        "horizon: {start: '2024-01-01', days: 3}\n"
        "shifts: [{id: D, start: '08:00', minutes: 480}]\n"
        "staff: [{id: a, skills: [RN]}, {id: b, skills: [RN]}]\n"
        "constraints:\n"
        "  - {kind: cover, shift: D, preferred: 2, weight: 100}\n"
        "  - {kind: unavailability, staff: b, days: [1]}\n"
        "  - {kind: shift_request, staff: b, day: 2, shift: D, on: false, weight: 3}\n"
    )
    with highs_model(spec) as (b, hm):
        names = {hm.columns[j].name: j for j in range(len(hm.columns))}
        a, b_ = 0, 1  # staff indices: sorted ids
        assert hm.col_day[names["x[a,0,D]"]] == 0 and hm.col_staff[names["x[b,2,D]"]] == b_
        assert (
            hm.col_day[names["cover_under[0,0]"]] == 0
            and hm.col_staff[names["cover_under[0,0]"]] == -1
        )
        assert (
            hm.col_day[names["cover_under[0,1]"]] == 1
            and hm.col_staff[names["cover_under[0,1]"]] == a
        )
        h = hm._highs(0)
        h.run()
        values = np.array(h.getSolution().col_value)
        # the optimum: one short on day 1, and b works day 2 against the request
        assert hm.best.score(values) == 100 + 3
        rng = random.Random(0)
        aims = {hm.target(values, hm.cost, rng) for _ in range(50)}
        assert aims == {(1, a), (2, b_)}  # the shortfall and the request, nothing else
        empty = hm.lower.copy()  # nobody works: every day falls short, no request is broken
        empty[[names[f"cover_under[0,{d}]"] for d in range(3)]] = 2
        assert hm.best.score(empty) == 6 * 100
        assert {hm.target(empty, hm.cost, rng) for _ in range(50)} == {(0, -1), (1, a), (2, -1)}
        assert hm.target(empty, np.zeros(len(hm.cost)), rng) is None  # costs nothing


def test_each_neighbourhood_kind_frees_the_cells_it_names():
    # four staff over 20 days, one shift: a cell is (staff, day)
    spec = make_spec(
        "horizon: {start: '2024-01-01', days: 20}\n"
        "shifts: [{id: D, start: '08:00', minutes: 480}]\n"
        "staff: [{id: a, skills: [RN]}, {id: b, skills: [RN]}, {id: c, skills: [RN]}, {id: d, skills: [RN]}]\n"
        "constraints:\n"
        "  - {kind: cover, shift: D, preferred: 2, weight: 100}\n"
    )
    with highs_model(spec) as (_, hm):
        rng = random.Random(1)

        def freed(mask) -> tuple[set, set]:
            return set(hm.x_staff[mask].tolist()), set(hm.x_day[mask].tolist())

        for _ in range(20):
            # two windows of 3 days, everybody, one holding day 2 and one day 15: work can
            # move between them, which no single window of a few days allows
            mask = hm.free_cells("pair", 3, rng, aim=(2, -1), other_day=15)
            who, days = freed(mask)
            assert who == {"a", "b", "c", "d"} and {2, 15} <= days and len(days) == 6
            assert max(d for d in days if d < 10) - min(d for d in days if d < 10) == 2
            assert int(mask.sum()) == 4 * 6  # nothing else
            who, days = freed(hm.free_cells("staff", 2, rng, aim=(-1, 2)))
            assert len(who) == 2 and "c" in who and days == set(range(20))
            who, days = freed(hm.free_cells("days", 4, rng, aim=(7, -1)))
            assert who == {"a", "b", "c", "d"} and 7 in days and len(days) == 4
            who, days = freed(hm.free_cells("block", 3, rng, aim=(19, 0)))
            assert len(who) == 3 and "a" in who and days == set(range(10, 20))
        # unaimed pairs land anywhere, overlapping windows included
        spans = [freed(hm.free_cells("pair", 3, rng))[1] for _ in range(50)]
        assert all(3 <= len(d) <= 6 for d in spans) and len({min(d) for d in spans}) > 5


def test_the_dominant_tier_phase_shares_rosters_that_beat_the_best():
    # its rosters are searched on cover alone, but one better on the full objective too is
    # the other thread's to follow (Instance8: spared it 20 s of re-deriving them)
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        assert hm.construct(time.perf_counter() + 30, {})
        built = hm.best.objective
        dominant = sys.modules[type(hm).__module__].dominant_costs(hm.cost)  # cover only
        tier = hm.improve(time.perf_counter() + 3, {}, cost=dominant)
        assert tier.reached is not None and "tier" in hm.best.found
        assert hm.best.objective < built and rows_hold(hm, hm.best.values)


def test_a_tier_paid_off_the_roster_frees_everybody_over_days():
    # Instance4's dominant tier (an uncovered shift 100) is paid by cover's slacks, which
    # hold everybody on a day: its phases free everybody over a window of days or two
    # windows apart, the full objective's the usual kinds and two windows apart; a tier
    # with a cost on a roster cell keeps the usual kinds
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        dominant = sys.modules[type(hm).__module__].dominant_costs(hm.cost)
        assert hm.tier_kinds(dominant) == ("days", "pair")
        on_a_cell = dominant.copy()
        on_a_cell[hm.x_cols[0]] = 100
        assert hm.tier_kinds(on_a_cell) is None
        assert hm.construct(time.perf_counter() + 30, {})
        calls = []
        improve = hm.improve

        def recording(deadline, options, stop=lambda: False, cost=None, **more):
            calls.append((cost is not None, options.get("lns_kinds")))
            return improve(deadline, options, stop, cost=cost, **more)

        hm.improve = recording
        hm.explore(
            time.perf_counter() + 6, {"tier_stall": 0.01, "full_stall": 0.01, "tier_floor": False}
        )
        tier_calls = [kinds for tiered, kinds in calls if tiered]
        assert tier_calls == [("days", "pair")] * hm.phase["cycles"]
        full = ("staff", "days", "block", "pair")
        assert all(kinds == full for tiered, kinds in calls if not tiered)
        assert hm.phase["kinds"] == ["days", "pair"] and rows_hold(hm, hm.best.values)
        # a tier without pairs leaves the full objective the usual kinds (None); kinds
        # asked for (`lns_kinds`) are kept
        for options, tier_kinds, kinds in (
            ({"tier_kinds": ["staff"]}, ["staff"], None),
            ({"lns_kinds": ["staff"]}, ("days", "pair"), ["staff"]),
        ):
            calls.clear()
            hm.explore(time.perf_counter() + 3, {"tier_stall": 0.01, "full_stall": 0.01, **options})
            assert calls[0] == (True, tier_kinds)
            assert any(not tiered for tiered, _ in calls)
            assert all(k == kinds for tiered, k in calls if not tiered)


def test_the_dominant_tier_takes_over_again_when_the_full_objective_stalls():
    # Instance1 is solved in seconds: every phase stalls after its 2 s minimum, so a 10 s
    # search cycles between the dominant tier and the full objective (without the tier's
    # floor, which would end the cycling once the tier is at it)
    stalls = {"tier_stall": 0.01, "tier_floor": False}
    with highs_model(service.import_curtois(CURTOIS / "Instance1.txt")) as (b, hm):
        assert hm.construct(time.perf_counter() + 30, {})
        stats = hm.explore(time.perf_counter() + 10, {**stalls, "full_stall": 0.01})
        assert hm.phase["cycles"] >= 2 and stats.rounds > hm.phase["rounds"]
        assert rows_hold(hm, hm.best.values)
        hm.phase = {}
        hm.explore(time.perf_counter() + 6, {**stalls, "tier_cycles": False})
        assert hm.phase["cycles"] == 1  # the full objective then runs to the deadline
        # the exact search's thread explores too, late: the result reports the other's phase
        hm.explore(time.perf_counter() + 3, stalls, report=False)
        assert hm.phase["cycles"] == 1
        hm.phase = {}
        hm.explore(time.perf_counter() + 3, stalls, report=False)
        assert hm.phase == {}


def night_shortfall(path: Path) -> int:
    """Nights needed over the horizon less the most nights the staff may work, read
    straight from a Curtois file (staff MaxShifts N=..., cover rows of shift N)."""
    section, caps, needed = "", 0, 0
    for line in path.read_text().splitlines():
        if line.startswith("SECTION_"):
            section = line.strip()
        elif line and not line.startswith("#") and section == "SECTION_STAFF":
            caps += int(dict(p.split("=") for p in line.split(",")[1].split("|"))["N"])
        elif line and not line.startswith("#") and section == "SECTION_COVER":
            day, shift, need = line.split(",")[:3]
            needed += int(need) if shift == "N" else 0
    return needed - caps


def test_the_dominant_tiers_floor_is_its_lp_bound():
    # Instance8: the staff's night caps sum to 74 of the 86 nights needed, and nothing else
    # need go uncovered, so the cover tier's least (LP and integer alike) is 12 x 100
    path = CURTOIS / "Instance8.txt"
    assert night_shortfall(path) == 12
    with highs_model(service.import_curtois(path)) as (b, hm):
        dominant = sys.modules[type(hm).__module__].dominant_costs(hm.cost)
        # while one thread works it out, the other goes on without it rather than wait
        with hm._tier_floor_lock:
            assert hm.tier_floor(dominant, time.perf_counter() + 60) is None
        floor = hm.tier_floor(dominant, time.perf_counter() + 60)
        assert floor == pytest.approx(100 * night_shortfall(path), abs=1e-6)
        # worked out once: a second ask, even with no time left, gets the same answer
        assert hm.tier_floor(dominant, time.perf_counter()) == floor


def test_the_tier_floor_decides_whether_a_tier_phase_runs_and_when_it_stalls():
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        assert hm.construct(time.perf_counter() + 30, {})
        dominant = sys.modules[type(hm).__module__].dominant_costs(hm.cost)
        at = float(dominant @ hm.best.values) + hm.offset  # the tier's value of the roster
        calls, stops = [], []
        improve = hm.improve

        def recording(deadline, options, stop=lambda: False, cost=None, **more):
            calls.append((cost is not None, options.get("stall_seconds"), options.get("until")))
            if cost is not None:  # does the phase stop once the shared best is at the floor?
                real = hm.best.values
                hm.best.values = np.where(cost > 0, 0.0, real)  # nothing paid on the tier
                stops.append(stop())
                hm.best.values = real
                stops.append(stop())
            return improve(deadline, options, stop, cost=cost, **more)

        hm.improve = recording
        # at the floor: no tier phase, the full objective runs to the deadline, unstalled
        hm.tier_floor = lambda tier, deadline: at
        hm.explore(time.perf_counter() + 3, {"tier_stall": 0.01, "full_stall": 0.01})
        assert calls == [(False, None, None)]
        assert hm.phase["rounds"] == 0 and hm.phase["floor"] == at
        # a unit (100) above it: the tier phase runs first, ending only at the floor or at
        # its share of the time, not on a stall
        calls.clear()
        hm.phase = {}
        at = float(dominant @ hm.best.values) + hm.offset  # the full objective may have moved it
        hm.tier_floor = lambda tier, deadline: at - 100
        hm.explore(time.perf_counter() + 3, {"tier_stall": 0.01, "full_stall": 0.01})
        assert calls[0] == (True, None, pytest.approx(at - 1e-6))
        assert hm.phase["floor"] == at - 100 and hm.phase["rounds"] > 0
        # and it stops once the shared best roster (the other thread's, say) is at the floor
        assert stops[:2] == [True, False]
        # without the floor, the tier phase ends on a stall as before
        calls.clear()
        hm.explore(
            time.perf_counter() + 3, {"tier_stall": 0.01, "full_stall": 0.01, "tier_floor": False}
        )
        assert calls[0][0] and calls[0][1] == 2.0 and calls[0][2] is None
        assert stops[-2:] == [False, False]


# two days, a and b, one on the day shift each day (an uncovered one costs 100); a asks for
# day 0 off and b for day 1 (1 each): cover is the dominant tier, and only a on day 1 and b
# on day 0 meet every request as well
COVER_AND_REQUESTS = make_spec(
    "horizon: {start: 2024-01-01, days: 2}\n"
    "staff: [{id: a, skills: [RN]}, {id: b, skills: [RN]}]\n"
    "constraints: [{kind: cover, shift: D, preferred: 1, under_weight: 100},"
    " {kind: shift_request, staff: a, day: 0, on: false, weight: 1},"
    " {kind: shift_request, staff: b, day: 1, on: false, weight: 1}]"
)


@contextlib.contextmanager
def search_from(spec, schedules: dict):
    """The generated search of `spec` with the roster `schedules` (staff index -> shift
    index per day, -1 off) as its best: (HighsModel, dominant tier's costs)."""
    with generated(spec, "optimizer.model") as model:
        b = model.build(spec.model_dump(mode="json"))
        hm = model.HighsModel(b.m, {"threads": 1}, b.network)
        values = hm.from_schedules(model.ColumnGeneration(b.D), schedules)
        assert values is not None and hm.best.offer(values, "start")
        yield hm, sys.modules[type(hm).__module__].dominant_costs(hm.cost)


def test_polishing_a_tier_roster_puts_its_requests_right_and_holds_the_tier():
    # a on the day shift both days: cover met (0 on the tier), a's request missed (1)
    with search_from(COVER_AND_REQUESTS, {0: [0, 0], 1: [-1, -1]}) as (hm, tier):
        values = hm.best.values
        assert hm.best.objective == 1 and float(tier @ values) + hm.offset == 0
        cols, rows = hm.neighbourhood(hm.x_cols)  # every cell free
        h = hm._highs(0, model=False)
        polished = hm.polish(h, [], cols, rows, values, tier, 10.0)
        assert polished is not None and hm.best.score(polished) == 0
        assert float(tier @ polished) + hm.offset == 0 and rows_hold(hm, polished)
        on = {k for k, v in zip(hm.x_keys, polished[hm.x_cols], strict=True) if v > 0.5}
        assert {(s, d) for s, d, _ in on} == {("a", 1), ("b", 0)}
        # nothing better there: None, the roster kept
        assert hm.polish(h, [], cols, rows, polished, tier, 10.0) is None


@pytest.mark.parametrize(
    "until, seconds, polished",
    [(99.5, 5.0, True), (None, 5.0, True), (-1.0, 5.0, False), (99.5, 0.0, False)],
)
def test_a_tier_round_that_reaches_the_floor_is_polished_on_the_full_objective(
    until, seconds, polished
):
    # from a on day 0 alone (day 1 uncovered: 100 on the tier, 101 in all), a tier round
    # reaches the tier's floor (0) with the first roster HiGHS finds, which misses a request
    # here; polished, the roster meets the requests as well (0). Polished: the move that
    # reaches `until`, or every move when the floor is not known (None); not one that
    # stays above it (-1: never reached), nor any with `polish_seconds` 0
    with search_from(COVER_AND_REQUESTS, {0: [0, -1], 1: [-1, -1]}) as (hm, tier):
        assert hm.best.objective == 101
        options = {
            "lns_kinds": ["days"],
            "until": until,
            "stall_seconds": 1.0,
            "polish_seconds": seconds,
        }
        stats = hm.improve(time.perf_counter() + 5, options, cost=tier)
        assert stats.reached == 0
        # the polished roster is shared with the other thread (without `until` the phase
        # goes on along its plateau, whose rosters are not)
        if polished:
            assert stats.improvements["polish"] == 1 and hm.best.objective == 0
        else:
            assert "polish" not in stats.improvements and hm.best.objective > 0
        if until == 99.5:  # ends at the floor: the roster handed back is that one
            assert hm.best.score(stats.roster) == hm.best.objective


def test_a_sub_problem_ends_in_its_time_limit_where_highs_restart_looped():
    # one round of Curtois Instance8 (ten staff freed from a roster 1326, HiGHS random seed
    # 26, 1.7 s): with a restart, HiGHS 1.16's presolve ran on past the time limit and the
    # run never returned. The full objective's rounds (and polish) restart no more, and
    # such a round ends in time; the tier's rounds keep restarts
    with search_from(COVER_AND_REQUESTS, {0: [0, 0], 1: [-1, -1]}) as (hm, tier):
        asked = []
        highs = hm._highs

        def recording(seed, model=True, restart=True):
            asked.append(restart)
            return highs(seed, model, restart)

        hm._highs = recording
        hm.improve(time.perf_counter() + 0.5, {"stall_seconds": 0.2})
        assert asked == [False]
        asked.clear()
        hm.improve(time.perf_counter() + 0.5, {"stall_seconds": 0.2}, cost=tier)
        assert asked == [True, False]  # the rounds', the polish's
        h = looping_round(highs(26, model=False, restart=False))
        ended = threading.Event()
        # a thread of its own: a HiGHS that loops cannot be stopped, only left behind
        threading.Thread(target=lambda: (h.run(), ended.set()), daemon=True).start()
        assert ended.wait(20), "HiGHS ran on far past its time limit"
        assert h.getInfo().primal_solution_status == 2  # a roster, at least the start


def test_a_search_stuck_past_its_time_limit_gives_the_best_roster_it_had():
    # a HiGHS call that never returns (as above, with restarts) must not cost the roster:
    # here the exact search finds Instance1's optimum, then hangs until released
    spec = service.import_curtois(CURTOIS / "Instance1.txt")
    with generated(spec) as model:
        solver = sys.modules["optimizer.solver"]
        run, release, had = solver.HighsModel.run, threading.Event(), []

        def run_then_stuck(self, seconds):
            run(self, seconds)
            had.append(self.best.objective)
            release.wait()
            raise RuntimeError("released")  # ends the left-behind search

        solver.HighsModel.run = run_then_stuck
        threading.Timer(30, release.set).start()  # without the guard: a late, failing return
        began = time.perf_counter()
        try:
            out = model.solve(
                spec.model_dump(mode="json"),
                {"time_limit": 3, "threads": 1, "mip_gap": 0.0, "overrun_seconds": 1},
            )
        finally:
            release.set()
        elapsed = time.perf_counter() - began
    result = OptimizerResult.model_validate(out)
    assert elapsed < 10, elapsed
    assert result.status == "feasible" and result.objective == pytest.approx(had[0])
    assert "time limit" in result.warnings[0]
    checked(spec, result)


def test_a_stuck_search_for_the_conflicting_rules_still_says_infeasible():
    # the explanation is a HiGHS call too: when it hangs, the answer "infeasible" must not
    # be lost to the sandbox's wall clock, and the time limit must hold
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: cover, shift: D, min: 3, preferred: 3, id: three-on-days}]"
    )
    with generated(spec) as model:
        solver = sys.modules["optimizer.solver"]
        run, release, explaining = solver.HighsModel.run, threading.Event(), []

        def stuck_when_explaining(self, seconds):
            if threading.current_thread().name == "highs-explain":
                explaining.append(seconds)
                release.wait()
                raise RuntimeError("released")  # ends the left-behind search
            return run(self, seconds)

        solver.HighsModel.run = stuck_when_explaining
        threading.Timer(30, release.set).start()
        began = time.perf_counter()
        try:
            out = model.solve(
                spec.model_dump(mode="json"),
                {"time_limit": 4, "threads": 1, "overrun_seconds": 1},
            )
        finally:
            release.set()
        elapsed = time.perf_counter() - began
    result = OptimizerResult.model_validate(out)
    assert result.status == "infeasible"
    assert not result.conflicts and not result.conflicts_minimal
    assert "left behind" in result.warnings[0]
    # what was left of the 4 s (nearly all: presolve settles it), not the time limit again
    assert 2 < explaining[0] < 4, explaining
    assert elapsed < 8, elapsed
    summary = infeasibility_summary(result)
    assert "could not be isolated" in summary and "left behind" in summary


def test_conflicting_rules_not_proved_the_fewest_are_said_to_be():
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: cover, shift: D, min: 3, preferred: 3, id: three-on-days}]"
    )
    doc = {
        "status": "infeasible",
        "conflicts": [
            {"constraint_id": "three-on-days", "violations": 1},
            {"constraint_id": "(elastic)", "message": "a message of the optimizer's own"},
        ],
    }
    result = parse_result(RunResult(exit_code=0, stdout=json.dumps(doc)), spec)
    summary = infeasibility_summary(result)
    assert "not proved to be the fewest" in summary and "fewest possible" not in summary
    assert "'three-on-days': " in summary
    assert "a message of the optimizer's own" in summary  # not replaced by an empty rule name
    result = parse_result(
        RunResult(exit_code=0, stdout=json.dumps({**doc, "conflicts_minimal": True})), spec
    )
    assert "(the fewest possible)" in infeasibility_summary(result)


@pytest.mark.slow
def test_the_optimizer_process_exits_with_its_roster_while_highs_still_runs(tmp_path):
    # the real thing: after its first rosters the search enters a HiGHS call that runs on
    # (branch-and-bound on a problem it cannot settle in minutes, no time limit), and
    # `python -m optimizer` must still print its result and exit. Not the round HiGHS's
    # restart looped on (tests/data): after a first HiGHS run in the same process, that
    # round ended in its time limit on another machine
    spec = service.import_curtois(CURTOIS / "Instance1.txt")
    write_files(TemplateCoder("optimizer").generate(spec), tmp_path)
    (tmp_path / "problem.json").write_text(json.dumps(spec.model_dump(mode="json")))
    options = {"time_limit": 3, "threads": 1, "mip_gap": 0.0, "overrun_seconds": 1}
    (tmp_path / "options.json").write_text(json.dumps(options))
    script = f"""
import runpy, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from tests.optimizer_helpers import endless_mip
from optimizer import solver
run = solver.HighsModel.run
def run_then_run_on(self, seconds):
    run(self, seconds)
    print("best", round(self.best.objective, 6), file=sys.stderr)
    endless_mip(self._highs(26, model=False)).run()
    print("HiGHS returned", file=sys.stderr)
solver.HighsModel.run = run_then_run_on
sys.argv = ["optimizer", "problem.json", "options.json"]
runpy.run_module("optimizer", run_name="__main__")
"""
    began = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    elapsed = time.perf_counter() - began
    assert run.returncode == 0, run.stderr[-2000:]
    assert "HiGHS returned" not in run.stderr  # it was still running when the process ended
    result = OptimizerResult.model_validate_json(run.stdout.strip().splitlines()[-1])
    assert result.status == "feasible" and result.warnings
    assert f"best {result.objective}" in run.stderr  # the roster it had when it entered HiGHS
    checked(spec, result)
    assert elapsed < 30, elapsed


def test_the_floor_roster_is_shared_before_it_is_polished():
    # at the floor the other thread's tier phase ends (`explore` stops it once the best
    # roster is there) and its full-objective search starts from that roster: it does not
    # wait for the polish, which runs on even though this phase's stop now says so too
    with search_from(COVER_AND_REQUESTS, {0: [0, -1], 1: [-1, -1]}) as (hm, tier):
        seen = []
        polish = hm.polish

        def recording_polish(*args):
            seen.append((hm.best.objective, hm.tier_best.objective))
            return polish(*args)

        hm.polish = recording_polish
        options = {
            "lns_kinds": ["days"],
            "until": 99.5,
            "stall_seconds": 1.0,
            "polish_seconds": 5.0,
        }

        def at_floor():
            return float(tier @ hm.best.values) + hm.offset < 99.5

        stats = hm.improve(time.perf_counter() + 5, options, at_floor, cost=tier, lead=hm.tier_best)
        # shared unpolished (the tier at 0, requests missed: HiGHS's first roster there),
        # then polished
        [(shared_objective, shared_tier)] = seen
        assert shared_tier == 0 and 0 < shared_objective < 101
        assert stats.improvements["polish"] == 1 and hm.best.objective == 0


def scripted_rounds(hm, solver, status=None):
    """Rounds that find nothing and end at once, recording what each was asked: the
    kind and size of its neighbourhood, the objective it starts from and its seconds.
    They close (infeasible), or end as `status(n)` says for the n-th round recorded."""
    asked, status = [], status or (lambda n: solver.MS.kInfeasible)
    free_cells = hm.free_cells

    def recording_cells(kind, size, rng, aim=(-1, -1), other_day=-1):
        asked.append({"kind": kind, "size": size})
        return free_cells(kind, size, rng, aim, other_day)

    def nothing_better(h, found, cols, rows, values, cost, objective, seconds):
        asked[-1].update(objective=objective, seconds=seconds)
        return [], status(len(asked))

    hm.free_cells, hm.resolve = recording_cells, nothing_better
    return asked


def test_a_tier_phase_goes_on_from_the_furthest_tier_phase():
    # the two threads' tier phases share their best roster on the tier: one ahead of it
    # offers it its improving rosters, one behind it starts its next round from it
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        solver = sys.modules[type(hm).__module__]
        assert hm.construct(time.perf_counter() + 30, {})
        dominant = solver.dominant_costs(hm.cost)
        built = hm.best.values.copy()
        behind = solver.penalty(dominant, hm.offset, built)
        lead = hm.tier_best
        assert lead is not None and lead.cost.tolist() == dominant.tolist()  # on the tier
        hm.improve(time.perf_counter() + 3, {}, cost=dominant, lead=lead)
        ahead = lead.objective
        assert ahead is not None and ahead < behind - 1e-6
        asked = scripted_rounds(hm, solver)
        stats = hm.improve(time.perf_counter() + 0.5, {}, cost=dominant, start=built, lead=lead)
        assert asked and all(r["objective"] == pytest.approx(ahead) for r in asked)
        assert stats.reached == pytest.approx(ahead)
        # without a lead it keeps to its own roster
        asked.clear()
        stats = hm.improve(time.perf_counter() + 0.5, {}, cost=dominant, start=built)
        assert asked and all(r["objective"] == pytest.approx(behind) for r in asked)
        assert stats.reached == pytest.approx(behind)


def test_one_unit_above_the_floor_every_tier_round_is_a_pair_of_windows():
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        solver = sys.modules[type(hm).__module__]
        assert hm.construct(time.perf_counter() + 30, {})
        dominant = solver.dominant_costs(hm.cost)
        at = solver.penalty(dominant, hm.offset, hm.best.values)
        timed_out_after = [math.inf]  # rounds after this many run out their time

        def status(n: int):
            return solver.MS.kTimeLimit if n > timed_out_after[0] else solver.MS.kInfeasible

        asked = scripted_rounds(hm, solver, status)
        kinds = {"lns_kinds": ("days", "pair")}

        def rounds(n: int, options: dict, cost=dominant) -> None:
            asked.clear()
            hm.improve(time.perf_counter() + 20, options, lambda: len(asked) >= n, cost=cost)

        # below `last_unit_below`: pairs of windows a quarter of the horizon each, 5 s
        quarter = hm.horizon // 4
        rounds(6, {**kinds, "last_unit_below": at + 1})
        assert [(r["kind"], r["size"]) for r in asked] == [("pair", quarter)] * 6
        assert all(r["seconds"] == pytest.approx(5.0, abs=0.1) for r in asked)
        # `last_unit_patience` (8) rounds that close at once without gain widen them by a
        # day, up to `last_unit_widest` (0.35 of the horizon: 9 days of 28)
        assert int(0.35 * hm.horizon) == quarter + 2
        rounds(6, {**kinds, "last_unit_below": at + 1, "last_unit_patience": 2})
        assert [r["size"] for r in asked] == [quarter] * 2 + [quarter + 1] * 2 + [quarter + 2] * 2
        # rounds that run out their time narrow them again, never below the quarter
        timed_out_after[0] = 2
        widest = {"last_unit_widest": 0.3, "last_unit_patience": 1}  # a day wider at most
        rounds(5, {**kinds, "last_unit_below": at + 1, **widest})
        assert [r["size"] for r in asked] == [quarter, quarter + 1, quarter + 1, quarter, quarter]
        timed_out_after[0] = math.inf
        # the window and the time are options
        last = {**kinds, "last_unit_below": at + 1, "last_unit_window": 0.5, "last_unit_seconds": 2}
        rounds(3, last)
        assert {(r["kind"], r["size"], r["seconds"]) for r in asked} == {
            ("pair", hm.horizon // 2, 2.0)
        }
        # above it, and on the full objective whatever it says, the kinds take turns and
        # their sizes grow as rounds close at once, in a round's usual second
        for options, cost in (({**kinds, "last_unit_below": at - 1}, dominant), (last, None)):
            rounds(4, options, cost)
            assert [r["kind"] for r in asked] == ["days", "pair", "days", "pair"]
            assert asked[2]["size"] == asked[0]["size"] + 1 and asked[0]["seconds"] == 1.0


def test_a_tier_phase_is_told_its_last_unit_and_its_lead():
    with highs_model(curtois_with_cover_weight(100)) as (b, hm):
        solver = sys.modules[type(hm).__module__]
        assert hm.construct(time.perf_counter() + 30, {})
        dominant = solver.dominant_costs(hm.cost)
        calls = []
        improve = hm.improve

        def recording(deadline, options, stop=lambda: False, cost=None, start=None, lead=None):
            if cost is not None:
                calls.append((options.get("last_unit_below"), lead))
            return improve(deadline, options, stop, cost=cost, start=start, lead=lead)

        hm.improve = recording
        quick = {"full_stall": 0.01, "tier_share": 0.2, "open_share": 0.2}
        for options, told in (({}, True), ({"last_unit": False, "tier_follow": False}, False)):
            calls.clear()
            at = solver.penalty(dominant, hm.offset, hm.best.values)
            hm.tier_floor = lambda tier, deadline, at=at: at - 100  # one unit below the roster
            hm.explore(time.perf_counter() + 3, {**quick, **options})
            last, lead = calls[0]
            if told:
                assert last == pytest.approx(at + 100 - 1e-6) and lead is hm.tier_best is not None
            else:
                assert last is None and lead is None
        # without the floor, no last unit
        calls.clear()
        hm.explore(time.perf_counter() + 3, {**quick, "tier_floor": False})
        assert calls[0] == (None, hm.tier_best)


@pytest.mark.parametrize(
    "build, said", [(52.4, " (building the model took 52 s of it)"), (0.3, "")]
)
def test_no_roster_in_time_says_how_much_of_it_the_build_took(build, said):
    spec = make_spec(ONE_DAY + TWO_STAFF)
    doc = {"status": "time_limit", "build_seconds": build, "solve_seconds": 60.0}
    result = parse_result(RunResult(exit_code=0, stdout=json.dumps(doc)), spec)
    report = service.SolveReport(spec=spec, result=result, check=None)
    assert report.problems() == [
        f"The time limit passed before any roster was found{said}; allow more time (--time-limit)."
    ]


def test_a_staff_member_without_a_first_roster_in_its_try_is_tried_again_with_presolve(
    monkeypatch,
):
    # no time at all without presolve (as for Curtois Instance22's nurse N, none in 10 s):
    # each sub-problem is solved again with presolve, and the roster still holds every row
    spec = service.import_curtois(CURTOIS / "Instance2.txt")
    with highs_model(spec) as (b, hm):
        import optimizer.solver as solver

        monkeypatch.setattr(solver, "CONSTRUCT_TRY_SECONDS", 0.0)
        tries = []
        real = hm._highs

        def spied(*args, **kwargs):
            h = real(*args, **kwargs)
            run = h.run
            h.run = lambda: (
                run(),
                tries.append((h.getOptionValue("presolve")[1], h.getInfo().primal_solution_status)),
            )[0]
            return h

        hm._highs = spied
        assert hm.construct(time.perf_counter() + 30, {})
        assert rows_hold(hm, hm.best.values)
    assert tries[:2] == [("off", 0), ("on", 2)] and len(tries) == 2 * len(hm.staff)


def test_highs_objects_made_on_two_threads_at_once_leave_stdout_where_it_was(monkeypatch):
    # each one is made with stdout sent to stderr (its banner must not reach the result
    # JSON); two threads swapping file descriptor 1 at once could leave it on stderr
    spec = make_spec(ONE_DAY + TWO_STAFF)
    with generated(spec, "optimizer.solver") as solver:
        real = solver.highspy.Highs

        def slow():
            time.sleep(0.2)  # both threads inside the swap at once, were it not one at a time
            return real()

        monkeypatch.setattr(solver.highspy, "Highs", slow)
        before = os.fstat(1)
        start = threading.Barrier(2)
        made = []

        def make():
            start.wait()
            made.append(solver._quiet_highs())

        threads = [threading.Thread(target=make) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        after = os.fstat(1)
    assert len(made) == 2
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
