"""Play a roster forward in the Simulator agent's SimPy model (in the sandbox): KPIs with 95%
confidence intervals over replications."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alchemist.simulate import SimulationResult, run_simulation
from alchemist.spec import ProblemSpec, Schedule

from .solve import load_roster, load_scenario

ReplicationProgress = Callable[[int, int], None]
"""Called with (replications done, total); once with (0, total) before the first run."""


def simulate_schedule(
    spec: ProblemSpec,
    schedule: Schedule,
    *,
    replications: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    workers: int | None = None,
    progress: ReplicationProgress | None = None,
) -> SimulationResult:
    """Simulate `schedule` on `spec`; replications and seed default to the scenario's.

    A failed simulation is a result with `ok == False` and a precise `error`, not an exception.
    """
    total = 1 if deterministic else (replications or spec.simulation.replications)
    if progress is not None:
        progress(0, total)
    return run_simulation(
        spec,
        schedule,
        replications=replications,
        seed=seed,
        deterministic=deterministic,
        workers=workers,
        progress=progress,
    )


def simulate_roster(
    scenario: str | Path,
    roster: str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    workers: int | None = None,
    progress: ReplicationProgress | None = None,
) -> SimulationResult:
    """Load a scenario and a roster CSV, then `simulate_schedule`.

    Raises SpecError (naming the file, field or row) when either file is bad.
    """
    spec = load_scenario(scenario)
    schedule = load_roster(spec, roster)
    return simulate_schedule(
        spec,
        schedule,
        replications=replications,
        seed=seed,
        deterministic=deterministic,
        workers=workers,
        progress=progress,
    )
