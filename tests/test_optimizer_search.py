"""The optimizer's search modes: one thread (exact, then neighbourhood search, then exact
again) and two threads (exact search and neighbourhood search side by side, sharing one
incumbent). Whatever the mode, the roster it returns must be the one it reports: the
trusted checker finds no hard violation and the same objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alchemist import service
from alchemist.check import check
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.spec import spec_from_dict

from .optimizer_helpers import generated, make_spec, solve_in_process
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
    # Instance4 is not proved optimal in seconds: the neighbourhood search must take part
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
    result = solve_in_process(spec, threads=threads, time_limit=8, mip_gap=1e-6)
    assert result.status == "feasible"
    extra = result.model_extra
    assert extra["lns_rounds"] > 0
    assert sum(extra["lns_improvements"].values()) >= 1  # neighbourhood rounds that improved
    assert extra["found_by"]  # which search found the improving rosters
    checked(spec, result)


def test_two_threads_name_conflicting_rules():
    spec = make_spec(
        ONE_DAY
        + TWO_STAFF
        + "constraints: [{kind: cover, shift: D, min: 3, preferred: 3, id: three-on-days}, {kind: max_consecutive_days, days: 5}]"
    )
    result = solve_in_process(spec, threads=2)
    assert result.status == "infeasible"
    assert [c.constraint_id for c in result.conflicts] == ["three-on-days"]


@pytest.mark.slow
def test_two_threads_in_the_sandbox():
    """Threads count against the sandbox's process limit and CPU budget: both must allow it."""
    spec = service.import_curtois(CURTOIS / "Instance4.txt")
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
    result = solve_in_process(spec, threads=threads, time_limit=8, mip_gap=1e-6)
    phase = result.model_extra["tier_phase"]
    assert phase["weights_from"] == 100 and phase["rounds"] > 0
    units = phase["objective"] / 100  # only cover counted in the first phase
    assert abs(units - round(units)) < 1e-6
    # the full objective continued from there: requests count again in the final roster
    assert result.terms["shift_request"] > 0 and result.model_extra["lns_rounds"] > phase["rounds"]
    checked(spec, result)


def test_weights_without_tiers_skip_the_first_phase():
    spec = curtois_with_cover_weight(5)  # 5 against 1 to 3: no tiers
    result = solve_in_process(spec, threads=2, time_limit=5, mip_gap=1e-6)
    assert result.model_extra["lns_rounds"] > 0 and result.model_extra["tier_phase"] == {}
    checked(spec, result)
    spec = curtois_with_cover_weight(100)  # tiers, but switched off
    result = solve_in_process(spec, threads=2, time_limit=5, mip_gap=1e-6, tiers=False)
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
