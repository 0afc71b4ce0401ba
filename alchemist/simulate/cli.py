"""`alchemist simulate SCENARIO roster.csv [--replications N] [--seed S] [--deterministic]
[--json out.json]`: play a roster forward and print the KPIs with 95% confidence intervals.

Register in the Typer app with `app.command("simulate")(simulate_command)`.
Exit codes: 0 success, 1 the simulation failed, 2 bad input (scenario or roster).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alchemist.spec import SpecError, load_schedule_csv, load_spec

from .runner import run_simulation
from .schemas import SimulationResult

console = Console()
err_console = Console(stderr=True)


def simulate_command(
    scenario: Annotated[
        Path, typer.Argument(help="scenario YAML, or a Curtois & Qu .txt instance")
    ],
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
        spec = load_spec(scenario)
        schedule = load_schedule_csv(spec, roster)
    except SpecError as err:
        raise _fail(str(err), 2) from None

    total = 1 if deterministic else (replications or spec.simulation.replications)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulate", total=total)
        result = run_simulation(
            spec,
            schedule,
            replications=replications,
            seed=seed,
            deterministic=deterministic,
            workers=workers,
            progress=lambda done, _n: bar.update(task, completed=done),
        )
    if not result.ok:
        raise _fail(f"simulation failed: {result.error}", 1)
    if json_out is not None:
        try:
            json_out.write_text(result.model_dump_json(indent=2) + "\n")
        except OSError as err:
            raise _fail(f"{json_out}: cannot write: {err}", 2) from None
    console.print(kpi_table(result))
    t = result.timing
    console.print(
        f"{len(result.replications)} replication(s), seed {result.seed}, {t.wall_seconds:.1f} s "
        f"on {t.executor}; {t.events_per_second:,.0f} events/s"
        + (f"; JSON written to {json_out}" if json_out else ""),
        highlight=False,
    )


def kpi_table(result: SimulationResult) -> Table:
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


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
