"""`alchemist` command line (Typer + rich). Calls `alchemist.service` only.

Exit codes: 0 success, 1 the problem or roster is bad (infeasible, hard violations), 2 bad
input (unreadable scenario, malformed roster or benchmark file).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from alchemist import service
from alchemist.optimize.schemas import OptimizerOptions
from alchemist.spec import SpecError, dump_spec_yaml

app = typer.Typer(
    help="Alchemist: coding agents that write, check and version staffing optimizers and simulators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

Scenario = Annotated[Path, typer.Argument(help="scenario YAML, or a Curtois & Qu .txt instance")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def progress_steps(title: str) -> Iterator:
    """A spinner with elapsed time; the yielded function updates the step shown."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)
        yield lambda text: bar.update(task, description=text)


def load(path: Path):
    try:
        return service.load_scenario(path)
    except SpecError as err:
        raise fail(str(err)) from None


@app.command()
def solve(
    scenario: Scenario,
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 60.0,
    gap: Annotated[float, typer.Option(help="relative MIP gap at which to stop")] = 1e-4,
    threads: Annotated[int, typer.Option(help="HiGHS threads")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="write the roster CSV here")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the result + check JSON here")
    ] = None,
) -> None:
    """Have the Optimizer agent write a Pyomo model for SCENARIO, solve it with HiGHS and check it."""
    spec = load(scenario)
    options = OptimizerOptions(time_limit=time_limit, mip_gap=gap, threads=threads)
    with progress_steps("Starting") as step:
        report = service.solve_spec(spec, options, progress=step)
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), indent=2))
    if report.result.has_roster:
        print_solution(report)
        if out:
            out.write_text(report.roster_csv())
            console.print(
                f"Roster written to [bold]{out}[/] ({len(report.result.assignments)} assignments)"
            )
    for problem in report.problems():
        err_console.print(f"[bold red]{problem}[/]", highlight=False)
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
    console.print(table)


@app.command("check")
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
    except SpecError as err:
        raise fail(str(err)) from None
    if json_out:
        json_out.write_text(report.to_json())
    console.print(report.summary(max_lines=20), highlight=False)
    if not report.feasible:
        raise typer.Exit(1)


@app.command("import-curtois")
def import_curtois(
    file: Annotated[Path, typer.Argument(help="Curtois & Qu instance (InstanceN.txt)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="scenario YAML to write")],
) -> None:
    """Convert a Curtois & Qu benchmark instance into a scenario YAML."""
    try:
        spec = service.import_curtois(file)
    except SpecError as err:
        raise fail(str(err)) from None
    output.write_text(dump_spec_yaml(spec))
    console.print(
        f"{file.name}: {len(spec.staff)} staff, {spec.horizon.days} days, {len(spec.shifts)} shift types, "
        f"{len(spec.constraints)} rules -> {output}"
    )


@app.command("export-curtois")
def export_curtois(
    scenario: Scenario,
    output: Annotated[Path, typer.Option("--output", "-o", help="Curtois .txt file to write")],
) -> None:
    """Write a scenario in the Curtois & Qu format (when the format can express it)."""
    spec = load(scenario)
    try:
        output.write_text(service.export_curtois(spec))
    except SpecError as err:
        raise fail(str(err)) from None
    console.print(f"wrote {output}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="roster CSV to write")] = Path(
        "roster.csv"
    ),
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 60.0,
) -> None:
    """Solve the shipped nurse ward scenario, print a summary and write the roster CSV."""
    solve(service.DEFAULT_SCENARIO, time_limit=time_limit, out=out)


@app.command()
def doctor() -> None:
    """Show the sandbox in use and its isolation, solver and package versions, LLM settings."""
    from alchemist.doctor import render_doctor

    render_doctor(console)


def _register_agent_commands() -> None:
    """Commands whose bodies live next to their engine (simulate, build, versions ...)."""
    from alchemist.aca.cli import build_command, memory_command
    from alchemist.simulate.cli import simulate_command
    from alchemist.workspace.cli import diff_command, replay_command, versions_command

    app.command("simulate")(simulate_command)
    app.command("versions")(versions_command)
    app.command("diff")(diff_command)
    app.command("replay")(replay_command)
    app.command("build")(build_command)
    app.command("memory")(memory_command)


_register_agent_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
