"""The agent loop from the command line:

    alchemist build optimizer scenarios/nurse_ward.yaml --project ./ward --coder template --candidates 2
    alchemist memory [--db PATH]

`build_command` shows the loop live (plan / write / test / reflect with attempt numbers),
selects among candidates by MBR when there are several, and records a workspace version.
Exit codes: 0 every agent accepted, 1 some agent gave up, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alchemist import service

from . import common
from .common import fail, progress_steps

STEP_STYLE = {"plan": "cyan", "write": "blue", "test": "magenta", "reflect": "yellow"}


def build_command(
    agent: Annotated[str, typer.Argument(help="optimizer, simulator or all")],
    scenario: Annotated[Path, typer.Argument(help="scenario YAML or Curtois .txt")],
    project: Annotated[
        Path, typer.Option("--project", "-p", help="project directory (git-versioned)")
    ],
    coder: Annotated[
        str, typer.Option(help="template (offline) or llm (OPENAI_* settings)")
    ] = "template",
    candidates: Annotated[int, typer.Option(help="candidates per agent; >1 selects by MBR")] = 1,
) -> None:
    """Have AGENT (optimizer, simulator or all) write and test its code for SCENARIO, then
    record the accepted code as a new version of PROJECT."""
    try:
        plan = service.plan_build(agent, scenario, project, coder=coder, candidates=candidates)
    except (service.BuildError, service.SpecError) as err:
        raise fail(str(err)) from None

    with progress_steps("starting") as show:

        def on_event(event: service.BuildEvent) -> None:
            say = common.err_console.print  # above the spinner
            if event.kind == "agent_started":
                say(f"[bold]{event.agent}[/] agent ({coder}, {candidates} candidate(s))")
            elif event.kind == "loop":
                step, attempt, msg = event.step, event.attempt, event.message
                style = STEP_STYLE.get(step, "bold")
                show(f"[{style}]{step}[/] attempt {attempt}: {msg}")
                if step in ("reflect", "accept", "give_up"):
                    say(f"  [{style}]{step:8}[/] #{attempt} {msg}", highlight=False)
            else:  # agent_finished
                for r in event.results:
                    color = "green" if r.accepted else "red"
                    say(
                        f"  [{color}]{r.verdict}[/] after {r.attempts} attempt(s): {r.reason}",
                        highlight=False,
                    )
                if event.decision is not None:
                    d = event.decision
                    say(f"  MBR picked {d['winner']}: {d['reason']}")

        report = service.run_build(plan, on_event=on_event)
    print_summary(report)
    if not report.chosen:
        raise typer.Exit(1)
    for note in report.notes:
        common.err_console.print(note)
    if report.version:
        common.console.print(f"Recorded [bold]{report.version}[/] in {project}")
    if not report.ok:
        raise typer.Exit(1)


def print_summary(report: service.BuildReport) -> None:
    table = Table(title=f"build ({report.seconds:.1f}s)")
    for col in ("agent", "verdict", "attempts", "coding s", "sandbox s", "tests s", "tokens"):
        table.add_column(col, justify="left" if col in ("agent", "verdict") else "right")
    for name in report.agents:
        r = report.chosen.get(name)
        if r is None:
            table.add_row(name, "[red]gave up[/]", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            name,
            "[green]accepted[/]",
            str(r.attempts),
            f"{r.coding_seconds:.2f}",
            f"{r.sandbox_seconds:.2f}",
            f"{r.test_seconds:.2f}",
            str(r.tokens),
        )
    common.console.print(table)


def memory_command(db: Path | None = None) -> None:
    """List the lessons the agents have learned (newest first)."""
    listing = service.list_memory(db)
    if not listing.exists:
        common.console.print(f"No memory yet at {listing.path}")
        return
    lessons, attempts = listing.lessons, listing.attempts
    table = Table(title=f"{len(lessons)} lesson(s), {len(attempts)} attempt(s) in {listing.path}")
    for col in ("#", "agent", "kinds", "what failed", "why", "next step"):
        table.add_column(col, overflow="fold")
    for lesson in reversed(lessons):
        table.add_row(
            str(lesson.id),
            lesson.agent,
            ", ".join(lesson.kinds),
            lesson.what_failed,
            lesson.why,
            lesson.next_step,
        )
    common.console.print(table)
