"""`alchemist versions PROJECT`, `alchemist diff PROJECT A B`, `alchemist replay PROJECT V`.

Exit codes: 0 success, 1 replay does not match or a version was tampered with, 2 bad input
(not a project, unknown version).
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from alchemist import service

from . import common
from .common import fail, progress_steps

ProjectArg = Annotated[Path, typer.Argument(help="project directory (holds the versions' git)")]
VersionArg = Annotated[str, typer.Argument(help="version: v3, 3 or latest")]


def versions_command(project: ProjectArg) -> None:
    """List a project's versions with their results; flags versions that fail verification."""
    try:
        versions = service.list_versions(project)
    except service.WorkspaceError as err:
        raise fail(str(err), 2) from None
    if not versions:
        common.console.print(f"{project}: no versions yet")
        return
    table = Table(title=f"{project}: {len(versions)} version(s)", title_justify="left")
    for col in ("version", "created", "message", "result", "spec", "intact"):
        table.add_column(col)
    problems: list[str] = []
    for v in versions:
        info = v.info
        problems += v.problems
        table.add_row(
            info.version,
            info.created.replace("T", " ").removesuffix("+00:00"),
            info.message,
            info.summary or "-",
            info.spec_hash[:10],
            "yes" if v.intact else f"[bold red]NO ({len(v.problems)})[/]",
        )
    common.console.print(table)
    if problems:
        for p in problems:
            common.err_console.print(f"[red]tampered:[/] {p}", highlight=False)
        raise typer.Exit(1)


def diff_command(
    project: ProjectArg,
    a: Annotated[str, typer.Argument(help="older version (v1, 1, latest)")],
    b: Annotated[str, typer.Argument(help="newer version")],
) -> None:
    """Show what changed from version A to B: spec rules, code, and results side by side."""
    try:
        diff = service.diff_versions(project, a, b)
    except service.WorkspaceError as err:
        raise fail(str(err), 2) from None
    print_diff(diff)


def print_diff(diff: service.VersionDiff) -> None:
    console = common.console
    console.rule(f"{diff.a} -> {diff.b}: spec")
    spec = diff.spec
    if not spec.changed:
        console.print("spec unchanged", highlight=False)
    for c in spec.constraints:
        colour = {"added": "green", "removed": "red", "changed": "yellow"}[c.change]
        console.print(f"[{colour}]{c.describe()}[/]", highlight=False)
    for f in spec.fields:
        console.print(f"[yellow]{f.describe()}[/]", highlight=False)

    console.rule(f"{diff.a} -> {diff.b}: code")
    if not diff.code:
        console.print("code unchanged")
    for path in diff.added_files:
        console.print(f"[green]added {path}[/]", highlight=False)
    for path in diff.removed_files:
        console.print(f"[red]removed {path}[/]", highlight=False)
    for path, text in diff.code.items():
        if path in diff.added_files or path in diff.removed_files:
            continue  # a whole new or deleted file says little as a diff
        console.print(Syntax(text, "diff", theme="ansi_dark", word_wrap=True))

    console.rule(f"{diff.a} -> {diff.b}: results")
    table = Table(title_justify="left")
    table.add_column("result")
    table.add_column(diff.a, justify="right")
    table.add_column(diff.b, justify="right")
    table.add_column("change", justify="right")
    for k in diff.kpis:
        delta = k.delta
        change = "" if not k.changed else ("changed" if delta is None else f"{delta:+.6g}")
        style = None if k.changed else "dim"
        table.add_row(k.name, _value(k.a), _value(k.b), change, style=style)
    console.print(table)
    if diff.roster is not None:
        r = diff.roster
        console.print(
            f"roster: {r['added']} assignment(s) added, {r['removed']} removed, {r['kept']} kept",
            highlight=False,
        )


def _value(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.6g}"
    return str(x)


def replay_command(project: ProjectArg, version: VersionArg) -> None:
    """Re-run VERSION's stored code on its stored spec and options; compare bit for bit."""
    try:
        with ExitStack() as spinner:  # shown once the version is resolved, until replay ends
            report = service.replay_version(
                project, version, progress=lambda text: spinner.enter_context(progress_steps(text))
            )
    except service.WorkspaceError as err:
        raise fail(str(err), 2) from None
    print_replay(report)
    if not report.match:
        raise typer.Exit(1)


def print_replay(report: service.ReplayReport) -> None:
    console, err_console = common.console, common.err_console
    if report.checks:
        table = Table(title=f"replay of {report.version}", title_justify="left")
        for col in ("component", "field", "stored", "replayed", "same"):
            table.add_column(col)
        for c in report.checks:
            same = "[green]yes[/]" if c.match else "[bold red]NO[/]"
            table.add_row(c.component, c.field, c.stored, c.replayed, same)
        console.print(table)
    for p in report.tampering:
        err_console.print(f"[bold red]tampered:[/] {p}", highlight=False)
    if report.error:
        err_console.print(f"[bold red]error:[/] {report.error}", highlight=False)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    for pkg, (was, now) in report.packages.items():
        console.print(f"package {pkg}: recorded {was}, now {now}", highlight=False)
    if report.match:
        console.print(f"[bold green]{report.version} reproduced bit for bit[/]")
    else:
        console.print(f"[bold red]{report.version} was not reproduced[/]")
