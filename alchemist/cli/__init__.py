"""`alchemist` command line (Typer + rich). Calls `alchemist.service` only.

Exit codes: 0 success, 1 the problem or roster is bad (infeasible, hard violations), 2 bad
input (unreadable scenario, malformed roster or benchmark file).

One module per group of commands (`solve`, `simulate`, `build`, `versions`, `doctor`); what
they share (consoles, `fail`, progress displays) is in `common`.
"""

from __future__ import annotations

import typer

from . import build, doctor, simulate, solve, versions

app = typer.Typer(
    help="Alchemist: coding agents that write, check and version staffing optimizers and simulators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command()(solve.solve)
app.command("check")(solve.check_cmd)
app.command("import-curtois")(solve.import_curtois)
app.command("export-curtois")(solve.export_curtois)
app.command()(solve.demo)
app.command()(doctor.doctor)
app.command("simulate")(simulate.simulate_command)
app.command("versions")(versions.versions_command)
app.command("diff")(versions.diff_command)
app.command("replay")(versions.replay_command)
app.command("build")(build.build_command)
app.command("memory")(build.memory_command)


def main() -> None:  # pragma: no cover - console entry point
    app()


__all__ = ["app", "main"]
