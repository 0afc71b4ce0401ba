"""`alchemist doctor`: the sandbox in use and its measured isolation, solver and package
versions, LLM settings (`service.doctor_report`), shown as tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from alchemist import service

from . import common


def doctor() -> None:
    """Show the sandbox in use and its isolation, solver and package versions, LLM settings."""
    render_doctor(common.console)


def render_doctor(console: Console, report: dict[str, Any] | None = None) -> None:
    """Print the report for people: one table per concern, a tick or a cross per property."""
    report = report if report is not None else service.doctor_report()
    box = report["sandbox"]

    table = Table(title="Sandbox", show_header=False, title_justify="left")
    table.add_column("property", style="bold")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    table.add_row("configured", box["configured"], "ALCHEMIST_SANDBOX = local | docker | unsafe")
    if not box["available"]:
        table.add_row("available", "[red]no[/red]", box.get("error", ""))
    else:
        table.add_row("in use", box.get("backend", ""), "; ".join(box.get("warnings", [])))
        for name, prop in box.get("properties", {}).items():
            if isinstance(prop, dict):
                mark = "[green]yes[/green]" if prop["ok"] else "[red]NO[/red]"
                table.add_row(name.replace("_", " "), mark, prop["detail"])
            else:
                table.add_row(name.replace("_", " "), f"{prop:.2f} s", "one sandboxed probe run")
    console.print(table)

    solvers = Table(title="Solvers and packages", show_header=False, title_justify="left")
    solvers.add_column("package", style="bold")
    solvers.add_column("version", overflow="fold")
    for key, value in report["solvers"].items():
        solvers.add_row(key, str(value))
    console.print(solvers)

    llm = report["llm"]
    models = Table(title="LLM", show_header=False, title_justify="left")
    models.add_column("setting", style="bold")
    models.add_column("value", overflow="fold")
    models.add_row(
        "OPENAI_API_KEY",
        "set"
        if llm["openai_api_key_set"]
        else "[yellow]not set[/yellow] (offline TemplateCoder only)",
    )
    models.add_row("OPENAI_BASE_URL", llm["openai_base_url"] or "(default: api.openai.com)")
    models.add_row("ALCHEMIST_MODEL", llm["alchemist_model"] or "(not set)")
    console.print(models)
