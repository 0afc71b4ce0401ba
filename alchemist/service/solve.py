"""Solve, check and convert scenarios: the Optimizer agent's model run in the sandbox, the
trusted checker, the Curtois & Qu benchmark format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.check import CheckReport, check
from alchemist.coders import TemplateCoder
from alchemist.optimize.runner import infeasibility_summary, optimizer_files, run_optimizer
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.resources import data_dir
from alchemist.sandbox.base import Sandbox
from alchemist.spec import (
    ProblemSpec,
    Schedule,
    dump_spec_yaml,
    load_schedule_csv,
    load_spec,
    schedule_to_csv,
)
from alchemist.spec.curtois import read_curtois, write_curtois

SCENARIOS_DIR = data_dir("scenarios")
DEFAULT_SCENARIO = SCENARIOS_DIR / "nurse_ward.yaml"

Progress = Callable[[str], None]


@dataclass
class SolveReport:
    """A solve end to end: the spec, the generated code, the result and the trusted check."""

    spec: ProblemSpec
    result: OptimizerResult
    check: CheckReport | None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def objective_matches(self) -> bool:
        """The optimizer's own objective equals the checker's recomputation."""
        if self.check is None or self.result.objective is None:
            return False
        a, b = self.result.objective, self.check.objective
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.feasible and self.objective_matches

    def roster_csv(self) -> str:
        return schedule_to_csv(self.spec, self.result.schedule())

    def problems(self) -> list[str]:
        """What went wrong, for people; empty when the roster is valid."""
        r = self.result
        if r.status == "infeasible":
            return [infeasibility_summary(r)]
        if r.status == "time_limit":
            spent = (
                f" (building the model took {r.build_seconds:.0f} s of it)"
                if r.build_seconds >= 1
                else ""
            )
            return [
                f"The time limit passed before any roster was found{spent}; allow more time (--time-limit)."
            ]
        if r.status == "error":
            return [f"The generated optimizer failed: {r.error}"]
        out = []
        if self.check and not self.check.feasible:
            out.append(
                f"The roster breaks {len(self.check.hard_violations)} hard rule(s) (checker)."
            )
        if self.check and not self.objective_matches:
            out.append(
                f"Reported objective {r.objective} differs from the checker's {self.check.objective}."
            )
        return out

    def to_json(self) -> dict:
        doc = self.result.model_dump(mode="json")
        doc["check"] = self.check.model_dump(mode="json") if self.check else None
        doc["objective_matches"] = self.objective_matches
        doc["scenario"] = self.spec.name
        doc["spec_hash"] = self.spec.content_hash()
        return doc


def load_scenario(path: str | Path) -> ProblemSpec:
    """A YAML scenario or a Curtois benchmark file; raises SpecError with a readable message."""
    return load_spec(path)


def load_roster(spec: ProblemSpec, path: str | Path) -> Schedule:
    """A roster CSV (date, shift, staff_id columns) for `spec`; SpecError names the row."""
    return load_schedule_csv(spec, path)


def scenario_yaml(spec: ProblemSpec) -> str:
    """The spec as scenario YAML (what `load_scenario` reads back)."""
    return dump_spec_yaml(spec)


def solve_spec(
    spec: ProblemSpec,
    options: OptimizerOptions | None = None,
    sandbox: Sandbox | None = None,
    coder: TemplateCoder | None = None,
    progress: Progress | None = None,
) -> SolveReport:
    say = progress or (lambda _msg: None)
    say("Optimizer agent: writing the Pyomo model")
    files = optimizer_files(spec, coder)
    say("Solving with HiGHS in the sandbox")
    result = run_optimizer(spec, files, options, sandbox)
    report = None
    if result.has_roster:
        say("Checking the roster with the trusted checker")
        report = check(spec, result.schedule())
    return SolveReport(spec=spec, result=result, check=report, files=files)


def solve(path: str | Path, options: OptimizerOptions | None = None, **kw) -> SolveReport:
    return solve_spec(load_scenario(path), options, **kw)


def check_roster(
    scenario: str | Path, roster_csv: str | Path
) -> tuple[ProblemSpec, Schedule, CheckReport]:
    spec = load_scenario(scenario)
    schedule = load_roster(spec, roster_csv)
    return spec, schedule, check(spec, schedule)


def import_curtois(path: str | Path) -> ProblemSpec:
    return read_curtois(path)


def export_curtois(spec: ProblemSpec) -> str:
    return write_curtois(spec)
