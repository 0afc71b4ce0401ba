"""What every command shares: one console for results (stdout), one for errors and progress
(stderr), `fail` for errors with an exit code, and the progress displays.

Commands use `common.console` / `common.err_console` (attribute access, not a copy), so a
test can swap them for wider consoles in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

console = Console()
err_console = Console(stderr=True)

Scenario = Annotated[Path, typer.Argument(help="scenario YAML, or a Curtois & Qu .txt instance")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr; raise the returned Exit (2: bad input, 1: failure)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def progress_steps(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner with elapsed time; the yielded function updates the step shown.

    While it runs, `err_console.print` writes above the spinner.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)
        yield lambda text: bar.update(task, description=text)


@contextmanager
def progress_count(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A bar `label [####  ] 3/20 unit 0:00:04`; the yielded function takes (done, total)."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
