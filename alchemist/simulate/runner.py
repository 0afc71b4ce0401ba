"""Run a generated simulator in a sandbox, batches of replications through an executor.

    files = simulator_files(spec)                        # TemplateCoder('simulator')
    result = run_simulation(spec, schedule, replications=30, seed=1, files=files)
    result.aggregate["wait_mean_minutes"].ci_low

Replications are split into chunks (a few per worker); each chunk is one sandbox run of
`python -m simulator problem.json schedule.json config.json` with `replication_offset`, and
replication i is seeded from (seed, i) only, so the numbers do not depend on the chunking
or on the executor. Every chunk's output is validated (`schemas.parse_output`); the
aggregate is recomputed here from the validated replications. A misbehaving simulator gives
`status="failed"` with a precise message, never an exception.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from alchemist.coders import TemplateCoder
from alchemist.executor import Executor, SerialExecutor, get_executor
from alchemist.sandbox.base import Limits, Sandbox
from alchemist.spec import ProblemSpec, Schedule
from alchemist.spec.simulation import simulation_errors

from .schemas import (
    OutputError,
    Replication,
    SimConfig,
    SimulationResult,
    Timing,
    kpi_names,
    parse_output,
)
from .stats import aggregate, mean_by_key

CODE_PREFIXES = ("simulator/",)
COMMAND = ["python", "-m", "simulator", "problem.json", "schedule.json", "config.json"]
MIN_CHUNK = 10  # replications per sandbox run before splitting further pays off
ProgressFn = Callable[[int, int], None]  # (replications done, total)


def simulator_files(spec: ProblemSpec, coder: TemplateCoder | None = None) -> dict[str, str]:
    """The simulator package (and its tests) written for `spec` by the coder."""
    return (coder or TemplateCoder("simulator")).generate(spec)


@functools.cache
def _default_sandbox() -> Sandbox:
    from alchemist.sandbox import get_sandbox  # another package; imported when first needed

    return get_sandbox()


def plan_chunks(replications: int, workers: int) -> list[tuple[int, int]]:
    """(first index, count) batches: one to four per worker (a multiple of the workers, so
    none idles in the last round), about MIN_CHUNK replications each at least."""
    per_worker = max(1, min(4, math.ceil(replications / (MIN_CHUNK * workers))))
    return split(replications, per_worker * workers)


def split(replications: int, chunks: int) -> list[tuple[int, int]]:
    """`chunks` consecutive (first index, count) batches of near-equal size."""
    n = max(1, min(replications, chunks))
    base, rest = divmod(replications, n)
    out, first = [], 0
    for i in range(n):
        count = base + (1 if i < rest else 0)
        out.append((first, count))
        first += count
    return out


def limits_for(spec: ProblemSpec, replications: int) -> Limits:
    """Generous per-chunk limits: start-up plus a few seconds per replication-month."""
    months = max(1.0, spec.horizon.days / 28)
    wall = 60.0 + 5.0 * replications * months
    return Limits(wall_seconds=wall, cpu_seconds=int(wall) + 30, memory_mb=2048, processes=16)


@dataclass
class ChunkTask:
    """One sandbox run: the files (code + JSON inputs), the sandbox (None = default), limits."""

    files: dict[str, str]
    first: int
    count: int
    limits: Limits
    sandbox: Sandbox | None = None


@dataclass
class ChunkOutcome:
    first: int
    count: int
    stdout: str = ""
    error: str | None = None  # the sandbox run itself failed (limit, crash, no sandbox)
    wall_seconds: float = 0.0
    stderr_tail: str = ""
    extra: dict = field(default_factory=dict)


def run_chunk(task: ChunkTask) -> ChunkOutcome:
    """Executor task (module level, picklable): run one batch in the sandbox; never raises."""
    started = time.perf_counter()
    out = ChunkOutcome(first=task.first, count=task.count)
    try:
        sandbox = task.sandbox or _default_sandbox()
        run = sandbox.run(list(COMMAND), dict(task.files), task.limits)
    except Exception as err:  # no sandbox here, bad files...: a failed run, said plainly
        out.error = f"sandbox: {type(err).__name__}: {err}"
        return out
    out.wall_seconds = time.perf_counter() - started
    out.stdout = run.stdout
    out.stderr_tail = "\n".join(run.stderr.strip().splitlines()[-5:])
    if run.limit_hit:
        out.error = f"simulator {run.explain()}"
    elif not run.stdout.strip():
        out.error = f"simulator printed no result ({run.explain()})"
    return out


def run_simulation(
    spec: ProblemSpec,
    schedule: Schedule,
    *,
    replications: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    detail: bool = False,
    files: dict[str, str] | None = None,
    sandbox: Sandbox | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    chunks: int | None = None,
    progress: ProgressFn | None = None,
) -> SimulationResult:
    """Simulate `schedule` on `spec`; defaults for replications and seed come from the spec.

    `executor`: where chunks run (default: `get_executor(workers)`, closed afterwards; a
    given executor is left open). `chunks` overrides the number of sandbox runs.
    """
    started = time.perf_counter()
    params = spec.simulation
    n = 1 if deterministic else (replications or params.replications)
    seed = params.seed if seed is None else seed
    mode = "deterministic" if deterministic else "stochastic"
    base = SimulationResult(
        status="failed", scenario=spec.name, family=params.family, mode=mode, seed=seed
    )
    problems = simulation_errors(spec) + _roster_errors(spec, schedule)
    if problems:
        return base.model_copy(update={"error": "; ".join(problems[:4])})
    try:
        files = files if files is not None else simulator_files(spec)
    except Exception as err:  # NeedsLLM or a template error
        return base.model_copy(update={"error": f"cannot write the simulator: {err}"})
    code = {p: c for p, c in files.items() if p.startswith(CODE_PREFIXES)}
    if "simulator/sim.py" not in code:
        return base.model_copy(update={"error": "the simulator files lack simulator/sim.py"})
    code["problem.json"] = json.dumps(spec.model_dump(mode="json"))
    code["schedule.json"] = schedule.model_dump_json()

    own = executor is None
    ex = executor or (SerialExecutor() if n == 1 else get_executor(workers))
    try:
        plan = plan_chunks(n, ex.workers) if chunks is None else split(n, chunks)
        tasks = []
        for first, count in plan:
            config = SimConfig(
                replications=count,
                seed=seed,
                deterministic=deterministic,
                replication_offset=first,
                detail=detail,
            )
            inputs = {**code, "config.json": config.model_dump_json()}
            tasks.append(ChunkTask(inputs, first, count, limits_for(spec, count), sandbox))
        done = 0

        def on_done(_: int, outcome: ChunkOutcome) -> None:
            nonlocal done
            done += outcome.count
            if progress:
                progress(done, n)

        outcomes = ex.map(run_chunk, tasks, on_done=on_done)
        executor_name = ex.describe()
    finally:
        if own:
            ex.close()

    reps: list[Replication] = []
    inside = 0.0
    events = 0
    for outcome in outcomes:
        where = f"replications {outcome.first}..{outcome.first + outcome.count - 1}"
        if outcome.error:
            tail = f" [{outcome.stderr_tail.splitlines()[-1]}]" if outcome.stderr_tail else ""
            return base.model_copy(update={"error": f"{where}: {outcome.error}{tail}"})
        try:
            doc = json.loads(outcome.stdout.strip().splitlines()[-1])
            out = parse_output(doc, params.family, mode, outcome.first, outcome.count)
        except json.JSONDecodeError as err:
            return base.model_copy(
                update={"error": f"{where}: simulator output is not JSON ({err})"}
            )
        except OutputError as err:
            return base.model_copy(
                update={"error": f"{where}: simulator output breaks the contract: {err}"}
            )
        reps.extend(out.replications)
        inside += float(out.timing.get("wall_seconds", 0.0) or 0.0)
        events += sum(r.events for r in out.replications)

    wall = time.perf_counter() - started
    names = kpi_names(params.family)
    # KPIs an (LLM-written) simulator adds beyond the schema are aggregated too
    extra = set.intersection(*(set(r.kpis) for r in reps)) - set(names)
    names += sorted(extra)
    return SimulationResult(
        status="ok",
        scenario=spec.name,
        family=params.family,
        mode=mode,
        seed=seed,
        replications=reps,
        aggregate=aggregate([r.kpis for r in reps], names, exact=deterministic),
        fatigue_by_nurse=mean_by_key([r.fatigue_by_nurse for r in reps]),
        timing=Timing(
            wall_seconds=wall,
            simulator_seconds=inside,
            events=events,
            events_per_second=events / inside if inside > 0 else 0.0,
            replications_per_second=len(reps) / wall if wall > 0 else 0.0,
            chunks=len(outcomes),
            executor=executor_name,
        ),
    )


def _roster_errors(spec: ProblemSpec, schedule: Schedule) -> list[str]:
    """Assignments the spec cannot place (the CSV reader catches these earlier, with rows)."""
    staff = {s.id for s in spec.staff}
    shifts = {s.id for s in spec.shifts}
    seen: set[tuple[str, int]] = set()
    out = []
    for i, a in enumerate(schedule.assignments):
        where = f"roster assignment {i} ({a.staff}, day {a.day}, {a.shift})"
        if a.staff not in staff:
            out.append(f"{where}: unknown staff {a.staff!r}")
        elif a.shift not in shifts:
            out.append(f"{where}: unknown shift {a.shift!r}")
        elif a.day >= spec.horizon.days:
            out.append(f"{where}: day {a.day} is outside the horizon (0..{spec.horizon.days - 1})")
        elif (a.staff, a.day) in seen:
            out.append(f"{where}: {a.staff} already works on day {a.day}")
        seen.add((a.staff, a.day))
    return out
