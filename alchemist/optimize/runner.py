"""Run a generated optimizer inside a sandbox and turn its JSON into a validated result."""

from __future__ import annotations

import json

from pydantic import ValidationError

from alchemist.coders import TemplateCoder
from alchemist.sandbox.base import Limits, RunResult, Sandbox
from alchemist.spec import ProblemSpec
from alchemist.spec.describe import describe

from .schemas import Conflict, OptimizerOptions, OptimizerResult

CODE_PREFIXES = ("optimizer/",)


def optimizer_files(spec: ProblemSpec, coder: TemplateCoder | None = None) -> dict[str, str]:
    """The optimizer package (and its tests) written for `spec` by the coder."""
    return (coder or TemplateCoder("optimizer")).generate(spec)


def default_sandbox() -> Sandbox:
    from alchemist.sandbox import get_sandbox

    return get_sandbox()


def limits_for(options: OptimizerOptions, spec: ProblemSpec) -> Limits:
    """Wall clock = the time limit twice over (build + explanation phase) plus start-up;
    memory grows with staff x days x shifts (a 150-nurse year with 32 shift types peaks
    near 11 GB resident with Pyomo and HiGHS together)."""
    wall = 2 * options.time_limit + 60
    cells = len(spec.staff) * spec.horizon.days * len(spec.shifts)
    memory = int(min(20480, 4096 + cells * 0.008))
    return Limits(
        wall_seconds=wall, cpu_seconds=int(wall * (options.threads + 1)), memory_mb=memory
    )


def run_optimizer(
    spec: ProblemSpec,
    files: dict[str, str],
    options: OptimizerOptions | None = None,
    sandbox: Sandbox | None = None,
) -> OptimizerResult:
    """Solve `spec` with the generated `files`; never raises for a misbehaving optimizer."""
    options = options or OptimizerOptions()
    sandbox = sandbox or default_sandbox()
    inputs = {p: c for p, c in files.items() if p.startswith(CODE_PREFIXES)}
    inputs["problem.json"] = json.dumps(spec.model_dump(mode="json"))
    inputs["options.json"] = options.model_dump_json()
    run = sandbox.run(
        ["python", "-m", "optimizer", "problem.json", "options.json"],
        inputs,
        limits_for(options, spec),
    )
    return parse_result(run, spec)


def parse_result(run: RunResult, spec: ProblemSpec) -> OptimizerResult:
    """Validate the optimizer's stdout against the contract; failures become status=error."""
    lines = [ln for ln in run.stdout.strip().splitlines() if ln.strip()]
    if run.limit_hit:
        return OptimizerResult(status="error", error=f"optimizer {run.explain()}")
    if not lines:
        return OptimizerResult(
            status="error", error=f"optimizer printed no result ({run.explain()})"
        )
    try:
        doc = json.loads(lines[-1])
        result = OptimizerResult.model_validate(doc)
    except (json.JSONDecodeError, ValidationError) as err:
        first = str(err).splitlines()[0]
        return OptimizerResult(
            status="error", error=f"optimizer output breaks the contract: {first}"
        )
    if result.status == "error" and not result.error:
        result.error = run.explain()
    for c in result.conflicts:
        c.message = conflict_message(spec, c) or c.message
    return result


def conflict_message(spec: ProblemSpec, c: Conflict) -> str:
    """The rule in words and where it is broken; empty for a rule the spec does not have
    (the optimizer's own message, if any, then stands)."""
    rule = next((r for r in spec.constraints if r.id == c.constraint_id), None)
    if rule is None:
        return ""
    what = describe(rule, spec)
    where = ""
    if c.rows:
        first = c.rows[0]
        idx = [_label(spec, v) for v in first.index]
        where = f"; e.g. at {', '.join(idx)}" if idx else ""
        if c.violations > 1:
            where += f" and {c.violations - 1} more place(s)"
    return f"'{c.constraint_id}': {what}{where}"


def _label(spec: ProblemSpec, value: str) -> str:
    if value.isdigit() and int(value) < spec.horizon.days:
        d = int(value)
        return f"{spec.weekday(d).capitalize()} {spec.date(d).isoformat()}"
    return value


def infeasibility_summary(result: OptimizerResult) -> str:
    if not result.conflicts:
        why = f" ({'; '.join(result.warnings)})" if result.warnings else ""
        return f"No roster satisfies every hard rule (the conflicting rules could not be isolated{why})."
    names = "\n".join(f"  - {c.message or c.constraint_id}" for c in result.conflicts)
    fewest = (
        " (the fewest possible)" if result.conflicts_minimal else " (not proved to be the fewest)"
    )
    return (
        f"No roster satisfies every hard rule. Relaxing these rules{fewest} "
        f"would make one exist:\n{names}\nMake one of them soft (hard: false) or loosen it."
    )
