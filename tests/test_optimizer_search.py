"""The optimizer's search modes: one thread (exact, then neighbourhood search, then exact
again) and two threads (exact search and neighbourhood search side by side, sharing one
incumbent). Whatever the mode, the roster it returns must be the one it reports: the
trusted checker finds no hard violation and the same objective."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemist import service
from alchemist.check import check
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult

from .optimizer_helpers import make_spec, solve_in_process
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
