"""`alchemist solve | check | import-curtois | export-curtois | demo`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alchemist import service

from . import common
from .common import Scenario, fail, progress_steps


def load(path: Path) -> service.ProblemSpec:
    try:
        return service.load_scenario(path)
    except service.SpecError as err:
        raise fail(str(err)) from None


def solve(
    scenario: Scenario,
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 60.0,
    gap: Annotated[float, typer.Option(help="relative MIP gap at which to stop")] = 1e-4,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            help="1: reproducible run (replay checks it bit for bit); 2 or more: exact search "
            "and neighbourhood search side by side, better rosters on hard instances",
        ),
    ] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="write the roster CSV here")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the result + check JSON here")
    ] = None,
) -> None:
    """Have the Optimizer agent write a Pyomo model for SCENARIO, solve it with HiGHS and check it."""
    spec = load(scenario)
    options = service.OptimizerOptions(time_limit=time_limit, mip_gap=gap, threads=threads)
    with progress_steps("Starting") as step:
        report = service.solve_spec(spec, options, progress=step)
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), indent=2))
    if report.result.has_roster:
        print_solution(report)
        if out:
            out.write_text(report.roster_csv())
            common.console.print(
                f"Roster written to [bold]{out}[/] ({len(report.result.assignments)} assignments)"
            )
    for problem in report.problems():
        common.err_console.print(f"[bold red]{problem}[/]", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def print_solution(report: service.SolveReport) -> None:
    r, c, spec = report.result, report.check, report.spec
    table = Table(title=f"{spec.name}: {r.status}", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "staff / days / shifts", f"{len(spec.staff)} / {spec.horizon.days} / {len(spec.shifts)}"
    )
    table.add_row("assignments", str(len(r.assignments)))
    table.add_row("objective (optimizer)", f"{r.objective:g}" if r.objective is not None else "-")
    table.add_row("best bound", f"{r.bound:g}" if r.bound is not None else "-")
    if c is not None:
        table.add_row("objective (checker)", f"{c.objective:g}")
        table.add_row("hard violations (checker)", str(len(c.hard_violations)))
        for term, value in sorted(c.penalties.items(), key=lambda kv: -kv[1]):
            if value:
                table.add_row(f"  penalty: {term}", f"{value:g}")
    table.add_row("model build / solve (s)", f"{r.build_seconds:.2f} / {r.solve_seconds:.2f}")
    common.console.print(table)
    for warning in r.warnings:
        common.err_console.print(f"[yellow]Warning: {warning}[/]", highlight=False)


def check_cmd(
    scenario: Scenario,
    roster: Annotated[Path, typer.Argument(help="roster CSV (date, shift, staff_id columns)")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the check report JSON here")
    ] = None,
) -> None:
    """Check a roster CSV against SCENARIO: exit 0 if no hard rule is broken, 1 if some are."""
    try:
        _, _, report = service.check_roster(scenario, roster)
    except service.SpecError as err:
        raise fail(str(err)) from None
    if json_out:
        json_out.write_text(report.to_json())
    common.console.print(report.summary(max_lines=20), highlight=False)
    if not report.feasible:
        raise typer.Exit(1)


def import_curtois(
    file: Annotated[Path, typer.Argument(help="Curtois & Qu instance (InstanceN.txt)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="scenario YAML to write")],
) -> None:
    """Convert a Curtois & Qu benchmark instance into a scenario YAML."""
    try:
        spec = service.import_curtois(file)
    except service.SpecError as err:
        raise fail(str(err)) from None
    output.write_text(service.scenario_yaml(spec))
    common.console.print(
        f"{file.name}: {len(spec.staff)} staff, {spec.horizon.days} days, {len(spec.shifts)} shift types, "
        f"{len(spec.constraints)} rules -> {output}"
    )


def export_curtois(
    scenario: Scenario,
    output: Annotated[Path, typer.Option("--output", "-o", help="Curtois .txt file to write")],
) -> None:
    """Write a scenario in the Curtois & Qu format (when the format can express it)."""
    spec = load(scenario)
    try:
        output.write_text(service.export_curtois(spec))
    except service.SpecError as err:
        raise fail(str(err)) from None
    common.console.print(f"wrote {output}")


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="roster CSV to write")] = Path(
        "roster.csv"
    ),
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 60.0,
) -> None:
    """Solve the shipped nurse ward scenario, print a summary and write the roster CSV."""
    solve(service.DEFAULT_SCENARIO, time_limit=time_limit, out=out)
