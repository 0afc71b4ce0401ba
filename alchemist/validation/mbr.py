"""Minimum-Bayes-risk selection among k candidate implementations of one agent.

Every candidate runs on the same inputs (the scenario plus probe variants, e.g. the spec with
one rule tightened); outputs are compared pairwise with an output distance in [0, 1]:

- optimizer: feasibility per the trusted checker (`alchemist.check.check`) and the relative
  difference of the checker's objective (a candidate's own claims are not compared);
- simulator: deterministic-mode KPI means, relative difference averaged over shared KPIs.

The winner has the least expected disagreement with the others (ties: the faster one). The
decision and the agreement matrix are what the version manifest stores under `mbr`.

    decision = select("optimizer", spec, template_candidates("optimizer", spec, 3))
    decision.winner, decision.matrix, decision.to_manifest()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from alchemist.coders import TemplateCoder
from alchemist.executor import Executor, get_executor
from alchemist.sandbox.base import Sandbox
from alchemist.spec import ProblemSpec, Schedule

# (kind, integer parameter, step): tightening one of these makes a probe variant
TIGHTEN = (
    ("max_consecutive_days", "days", 1),
    ("max_consecutive_nights", "nights", 1),
    ("max_shifts", "count", 1),
    ("max_weekends", "count", 1),
    ("max_hours", "hours", 8),
)
TEMPLATE_VARIANTS = {"optimizer": [None, "pattern"], "simulator": [None]}


@dataclass
class Candidate:
    name: str
    files: dict[str, str]


@dataclass
class Probe:
    """One input all candidates run on: a spec (and, for the simulator, a roster)."""

    name: str
    spec: ProblemSpec
    schedule: Schedule | None = None


class MBRDecision(BaseModel):
    agent: str
    candidates: list[str]
    inputs: list[str]
    matrix: list[list[float]] = Field(description="mean output distance, candidate x candidate")
    risks: list[float] = Field(description="expected disagreement with the other candidates")
    seconds: list[float]
    winner: str
    winner_index: int
    reason: str
    outputs: list[list[dict[str, Any]]] = Field(default_factory=list)

    def to_manifest(self) -> dict[str, Any]:
        return self.model_dump(exclude={"outputs"})


# ----------------------------------------------------------------- candidates and probes


def template_candidates(agent: str, spec: ProblemSpec, k: int) -> list[Candidate]:
    """k candidates from the template coder's alternative formulations (cycled)."""
    variants = TEMPLATE_VARIANTS.get(agent, [None])
    out = []
    for i in range(k):
        variant = variants[i % len(variants)]
        name = (
            "template"
            + (f":{variant}" if variant else "")
            + (f"#{i + 1}" if i >= len(variants) else "")
        )
        out.append(Candidate(name, TemplateCoder(agent, variant=variant).generate(spec)))
    return out


def tightened(spec: ProblemSpec) -> Probe | None:
    """The spec with its first tightenable rule made one step stricter, or None."""
    doc = spec.model_dump(mode="json")
    for kind, param, step in TIGHTEN:
        for rule in doc["constraints"]:
            value = rule.get(param)
            if rule["kind"] == kind and isinstance(value, int | float) and value - step >= 1:
                rule[param] = type(value)(value - step)
                name = f"tightened {rule['id']}: {param} {value} -> {rule[param]}"
                return Probe(name, ProblemSpec.model_validate(doc))
    return None


def default_probes(agent: str, spec: ProblemSpec) -> list[Probe]:
    if agent == "simulator":
        from alchemist.simulate.rosters import busiest_shift, cover_roster, without

        roster = cover_roster(spec)
        out = [Probe("scenario, cover roster", spec, roster)]
        if roster.assignments:
            day, shift = busiest_shift(roster)
            who = next(a.staff for a in roster.assignments if (a.day, a.shift) == (day, shift))
            out.append(
                Probe(f"one nurse fewer ({who}, day {day})", spec, without(roster, who, day))
            )
        return out
    probes = [Probe("scenario", spec)]
    tight = tightened(spec)
    if tight is not None:
        probes.append(tight)
    return probes


# ----------------------------------------------------------------- running (executor tasks)


@dataclass
class _Task:
    agent: str
    files: dict[str, str]
    probes: list[tuple[str, str, str | None]]  # (name, spec JSON, schedule JSON)
    options: dict[str, Any] = field(default_factory=dict)
    sandbox: Sandbox | None = None


def _run_candidate(task: _Task) -> tuple[list[dict[str, Any]], float]:
    """Executor task (module level, picklable): one candidate on every probe; never raises."""
    started = time.perf_counter()
    outputs = []
    for name, spec_json, schedule_json in task.probes:
        spec = ProblemSpec.model_validate_json(spec_json)
        try:
            if task.agent == "simulator":
                out = _simulate(task, spec, Schedule.model_validate_json(schedule_json or "{}"))
            else:
                out = _optimize(task, spec)
        except Exception as err:  # a candidate that breaks the runner is an error output
            out = {"status": "error", "error": f"{type(err).__name__}: {err}"}
        outputs.append({"input": name, **out})
    return outputs, time.perf_counter() - started


def _optimize(task: _Task, spec: ProblemSpec) -> dict[str, Any]:
    from alchemist.check import check
    from alchemist.optimize.runner import run_optimizer
    from alchemist.optimize.schemas import OptimizerOptions

    options = OptimizerOptions(**task.options)
    result = run_optimizer(spec, task.files, options, task.sandbox)
    out: dict[str, Any] = {
        "status": result.status,
        "reported_objective": result.objective,
        "has_roster": result.has_roster,
    }
    if result.status == "error":
        out["error"] = result.error
    if result.has_roster:
        report = check(spec, result.schedule())
        out.update(feasible=report.feasible, objective=report.objective)
    return out


def _simulate(task: _Task, spec: ProblemSpec, schedule: Schedule) -> dict[str, Any]:
    from alchemist.executor import SerialExecutor
    from alchemist.simulate.runner import run_simulation

    result = run_simulation(
        spec,
        schedule,
        deterministic=True,
        files=task.files,
        sandbox=task.sandbox,
        executor=SerialExecutor(),  # already inside an executor task
    )
    if result.status != "ok":
        return {"status": "error", "error": result.error}
    return {"status": "ok", "kpis": {k: v.mean for k, v in result.aggregate.items()}}


# ----------------------------------------------------------------- distances


def _rel(a: float, b: float) -> float:
    return min(1.0, abs(a - b) / max(1.0, abs(a), abs(b)))


def optimizer_distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """0 = same answer, 1 = contradictory (one errs, one infeasible, rosters the checker
    judges differently); otherwise the relative difference of the checker's objectives."""
    if (a["status"] == "error") != (b["status"] == "error"):
        return 1.0
    if a["status"] == "error":
        return 0.0
    if a["has_roster"] != b["has_roster"]:
        return 1.0
    if not a["has_roster"]:
        return 0.0
    if a["feasible"] != b["feasible"]:
        return 1.0
    return _rel(a["objective"], b["objective"])


def simulator_distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    if (a["status"] == "error") != (b["status"] == "error"):
        return 1.0
    if a["status"] == "error":
        return 0.0
    shared = sorted(set(a["kpis"]) & set(b["kpis"]))
    if not shared:
        return 1.0
    return sum(_rel(a["kpis"][k], b["kpis"][k]) for k in shared) / len(shared)


DISTANCES = {"optimizer": optimizer_distance, "simulator": simulator_distance}


# ----------------------------------------------------------------- selection


def decide(
    agent: str,
    names: list[str],
    inputs: list[str],
    outputs: list[list[dict[str, Any]]],
    seconds: list[float],
) -> MBRDecision:
    """The MBR decision from outputs already computed (pure; unit-testable)."""
    distance = DISTANCES[agent]
    k = len(names)
    matrix = [[0.0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i + 1, k):
            d = sum(distance(x, y) for x, y in zip(outputs[i], outputs[j], strict=True))
            matrix[i][j] = matrix[j][i] = round(d / max(1, len(inputs)), 9)
    risks = [round(sum(row) / max(1, k - 1), 9) for row in matrix]
    best = min(range(k), key=lambda i: (risks[i], seconds[i]))
    ties = [i for i in range(k) if risks[i] == risks[best]]
    reason = f"least expected disagreement ({risks[best]:.3g}) over {len(inputs)} input(s)"
    if len(ties) > 1:
        reason += f"; fastest of {len(ties)} tied candidates ({seconds[best]:.2f}s)"
    return MBRDecision(
        agent=agent,
        candidates=names,
        inputs=inputs,
        matrix=matrix,
        risks=risks,
        seconds=[round(s, 4) for s in seconds],
        winner=names[best],
        winner_index=best,
        reason=reason,
        outputs=outputs,
    )


def select(
    agent: str,
    spec: ProblemSpec,
    candidates: list[Candidate],
    *,
    probes: list[Probe] | None = None,
    executor: Executor | None = None,
    sandbox: Sandbox | None = None,
    options: dict[str, Any] | None = None,
    workers: int | None = None,
) -> MBRDecision:
    """Run every candidate on every probe (in parallel through the executor) and pick one.

    `executor`: default `get_executor(workers)`, closed afterwards; a given one stays open.
    `options`: optimizer options (default: a short time limit, exact gap for comparability).
    """
    if not candidates:
        raise ValueError("MBR needs at least one candidate")
    probes = probes or default_probes(agent, spec)
    packed = [
        (p.name, p.spec.model_dump_json(), p.schedule.model_dump_json() if p.schedule else None)
        for p in probes
    ]
    opts = {"time_limit": 20.0, "mip_gap": 0.0, "threads": 1, **(options or {})}
    tasks = [_Task(agent, c.files, packed, opts, sandbox) for c in candidates]
    own = executor is None
    ex = executor or get_executor(workers or min(len(tasks), 4))
    try:
        results = ex.map(_run_candidate, tasks)
    finally:
        if own:
            ex.close()
    return decide(
        agent,
        [c.name for c in candidates],
        [p.name for p in probes],
        [r[0] for r in results],
        [r[1] for r in results],
    )
