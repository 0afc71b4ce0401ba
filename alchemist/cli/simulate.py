"""`alchemist simulate SCENARIO roster.csv [--replications N] [--seed S] [--deterministic]
[--json out.json]`: play a roster forward and print the KPIs with 95% confidence intervals.

Exit codes: 0 success, 1 the simulation failed, 2 bad input (scenario or roster).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alchemist import service

from . import common
from .common import Scenario, fail, progress_count


def simulate_command(
    scenario: Scenario,
    roster: Annotated[Path, typer.Argument(help="roster CSV (date, shift, staff_id columns)")],
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications", "-n", min=1, help="stochastic replications (default: the scenario's)"
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="random seed (default: the scenario's)")
    ] = None,
    deterministic: Annotated[
        bool,
        typer.Option(
            "--deterministic", help="no randomness: everyone shows up, demand is its mean"
        ),
    ] = False,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="write replications, aggregate and timings as JSON"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="local worker processes")
    ] = None,
) -> None:
    """Play a roster forward in the Simulator agent's SimPy model; KPIs with 95% CIs."""
    try:
        spec = service.load_scenario(scenario)
        schedule = service.load_roster(spec, roster)
    except service.SpecError as err:
        raise fail(str(err), 2) from None

    with progress_count("simulating", "replications") as progress:
        result = service.simulate_schedule(
            spec,
            schedule,
            replications=replications,
            seed=seed,
            deterministic=deterministic,
            workers=workers,
            progress=progress,
        )
    if not result.ok:
        raise fail(f"simulation failed: {result.error}", 1)
    if json_out is not None:
        try:
            json_out.write_text(result.model_dump_json(indent=2) + "\n")
        except OSError as err:
            raise fail(f"{json_out}: cannot write: {err}", 2) from None
    common.console.print(kpi_table(result))
    t = result.timing
    common.console.print(
        f"{len(result.replications)} replication(s), seed {result.seed}, {t.wall_seconds:.1f} s "
        f"on {t.executor}; {t.events_per_second:,.0f} events/s"
        + (f"; JSON written to {json_out}" if json_out else ""),
        highlight=False,
    )


def kpi_table(result: service.SimulationResult) -> Table:
    """KPI, mean and 95% confidence interval, one row per KPI."""
    title = f"{result.scenario}: {result.family} simulation ({result.mode})"
    table = Table(title=title, title_justify="left")
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for name, stat in result.aggregate.items():
        ci = "-" if stat.ci_low is None else f"{_num(stat.ci_low)} .. {_num(stat.ci_high)}"
        table.add_row(name, _num(stat.mean), ci)
    return table


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 1 else f"{x:,.2f}"
