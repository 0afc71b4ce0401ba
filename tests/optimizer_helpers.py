"""Run a generated optimizer in-process (fast, for the per-constraint tests).

Production runs go through the sandbox; these tests are about the model's semantics.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import tempfile
from pathlib import Path

import highspy
import numpy as np

from alchemist.check import check
from alchemist.coders import TemplateCoder
from alchemist.optimize.schemas import OptimizerResult
from alchemist.spec import ProblemSpec, spec_from_dict
from alchemist.spec.io import yaml_load

BASE = {
    "name": "fixture",
    "horizon": {"start": "2024-01-01", "days": 7},  # a Monday
    "shifts": [
        {"id": "D", "start": "07:00", "minutes": 480},
        {"id": "E", "start": "15:00", "minutes": 480},
        {"id": "N", "start": "23:00", "minutes": 480, "is_night": True},
    ],
    "skills": ["RN", "senior"],
    "contracts": [{"id": "cheap", "hourly_cost": 10}, {"id": "dear", "hourly_cost": 50}],
    "staff": [{"id": "a", "skills": ["RN"]}],
}


def make_spec(text: str) -> ProblemSpec:
    """BASE updated with the YAML snippet (top-level keys replace BASE's)."""
    doc = {**BASE, **(yaml_load(text) or {})}
    return spec_from_dict(doc, "fixture")


def write_files(files: dict[str, str], root: Path) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@contextlib.contextmanager
def generated(spec: ProblemSpec, module: str = "optimizer.model", variant: str | None = None):
    """Import one module of the optimizer generated for `spec` (removed again on exit)."""
    files = TemplateCoder("optimizer", variant=variant).generate(spec)
    with tempfile.TemporaryDirectory() as tmp:
        write_files(files, Path(tmp))
        for name in [m for m in sys.modules if m == "optimizer" or m.startswith("optimizer.")]:
            del sys.modules[name]
        sys.path.insert(0, tmp)
        try:
            yield importlib.import_module(module)
        finally:
            sys.path.remove(tmp)
            for name in [m for m in sys.modules if m == "optimizer" or m.startswith("optimizer.")]:
                del sys.modules[name]


DATA = Path(__file__).resolve().parent / "data"


def looping_round(highs):
    """`highs` given the Curtois Instance8 round on which HiGHS 1.16's restart presolve
    loops past its time limit (with random seed 26 and restarts on), ready to run."""
    round_ = np.load(DATA / "highs_restart_hang.npz")
    highs.setOptionValue("mip_rel_gap", 1e-6)
    highs.readModel(str(DATA / "highs_restart_hang.mps.gz"))
    n = highs.getNumCol()
    highs.setSolution(n, np.arange(n, dtype=np.int32), round_["start"])
    highs.setOptionValue("objective_bound", float(round_["objective_bound"]))
    highs.setOptionValue("time_limit", float(round_["time_limit"]))
    return highs


def endless_mip(highs):
    """`highs` given a market-split problem (Cornuejols and Dawande): four equality knapsacks
    over 30 binaries, which branch-and-bound takes far longer than a test to settle (HiGHS
    1.16: 150k nodes in 45 s, still open), and no time limit: a HiGHS call that runs on,
    whatever state HiGHS is in."""
    rng = np.random.default_rng(0)
    rows, n = 4, 30
    weights = rng.integers(0, 100, (rows, n)).astype(float)
    half = np.floor(weights.sum(axis=1) / 2)
    highs.clearModel()
    highs.addVars(n, np.zeros(n), np.ones(n))
    highs.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    for i in range(rows):
        highs.addRow(half[i], half[i], n, np.arange(n, dtype=np.int32), weights[i])
    highs.setOptionValue("time_limit", highspy.kHighsInf)
    return highs


def solve_in_process(spec: ProblemSpec, variant: str | None = None, **options) -> OptimizerResult:
    with generated(spec, variant=variant) as model:
        out = model.solve(
            spec.model_dump(mode="json"), {"time_limit": 30, "mip_gap": 0.0, **options}
        )
    return OptimizerResult.model_validate(out)


def optimum(text: str, **options) -> float:
    """Solve the fixture; assert the checker agrees (no hard violation, same objective)."""
    spec = make_spec(text)
    result = solve_in_process(spec, **options)
    assert result.status == "optimal", result
    report = check(spec, result.schedule())
    assert report.feasible, report.hard_violations
    assert abs(report.objective - result.objective) < 1e-6, (report.penalties, result.terms)
    return result.objective
