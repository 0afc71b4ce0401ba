"""Every shipped scenario solves end to end (template coder -> sandbox -> HiGHS -> checker)
with no hard violation and the optimizer's objective equal to the checker's."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemist import service
from alchemist.optimize.schemas import OptimizerOptions

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_solves_and_checks(path):
    report = service.solve(path, OptimizerOptions(time_limit=30, threads=1))
    assert report.result.status in ("optimal", "feasible"), report.problems()
    assert report.check is not None and report.check.feasible, [
        v.message for v in report.check.hard_violations
    ][:5]
    assert report.objective_matches, (report.result.objective, report.check.objective)
    assert report.ok
    assert report.roster_csv().count("\n") == len(report.result.assignments) + 1
