"""CLI commands of the agent loop, registered in `alchemist.cli`:

    alchemist build optimizer scenarios/nurse_ward.yaml ./ward --coder template --candidates 2
    alchemist memory [--db PATH]

`build_command` shows the loop live (plan / write / test / reflect with attempt numbers),
selects among candidates by MBR when there are several, and records a workspace version.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from alchemist.coders import LLMNotConfigured
from alchemist.coders.llm import Coder
from alchemist.spec import ProblemSpec

from .loop import LoopResult, TemplateProposer, run_agent_loop
from .memory import Memory, default_memory_path

console = Console()
err_console = Console(stderr=True)
AGENTS = ("optimizer", "simulator")
STEP_STYLE = {"plan": "cyan", "write": "blue", "test": "magenta", "reflect": "yellow"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def make_coders(agent: str, coder: str, candidates: int) -> list[Coder]:
    """One coder per candidate: template variants in turn, or LLM samples of one model."""
    if coder == "template":
        from alchemist.validation.mbr import TEMPLATE_VARIANTS

        variants = TEMPLATE_VARIANTS.get(agent, [None])
        return [TemplateProposer(agent, variants[i % len(variants)]) for i in range(candidates)]
    if coder == "llm":
        from alchemist.coders import LLMCoder, chat_model_from_env

        model = chat_model_from_env()
        return [LLMCoder(model, agent) for _ in range(candidates)]
    raise _fail(f"unknown coder {coder!r}: choose template or llm")


def build_agent(
    agent: str,
    spec: ProblemSpec,
    coders: list[Coder],
    *,
    memory: Memory | None,
    checkpoint_db: Path | None,
    on_event: Any = None,
) -> tuple[LoopResult | None, list[LoopResult], dict[str, Any] | None]:
    """Run the loop once per candidate; MBR among the accepted ones when there are several.

    Returns (chosen result or None, every result, MBR decision for the manifest or None).
    """
    results = []
    for i, coder in enumerate(coders):
        task = f"{agent}:{spec.name}:{spec.content_hash()[:12]}" + (
            f":c{i + 1}" if len(coders) > 1 else ""
        )
        results.append(
            run_agent_loop(
                agent,
                spec,
                coder,
                memory=memory,
                task=task,
                on_event=on_event,
                checkpoint_db=checkpoint_db,
            )
        )
    accepted = [(coders[i].name + f"#{i + 1}", r) for i, r in enumerate(results) if r.accepted]
    if not accepted:
        return None, results, None
    if len(accepted) == 1:
        return accepted[0][1], results, None
    from alchemist.validation.mbr import Candidate, select

    decision = select(agent, spec, [Candidate(name, r.files) for name, r in accepted])
    return accepted[decision.winner_index][1], results, decision.to_manifest()


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
    from alchemist import service
    from alchemist.spec import SpecError

    names = list(AGENTS) if agent in ("all", "both") else [agent]
    for name in names:
        if name not in AGENTS:
            raise _fail(f"unknown agent {name!r}: choose optimizer, simulator or all")
    if candidates < 1:
        raise _fail("--candidates must be at least 1")
    try:
        spec = service.load_scenario(scenario)
    except SpecError as err:
        raise _fail(str(err)) from None
    try:
        coders = {name: make_coders(name, coder, candidates) for name in names}
    except LLMNotConfigured as err:
        raise _fail(str(err)) from None

    project.mkdir(parents=True, exist_ok=True)
    state_dir = project / ".alchemist"
    state_dir.mkdir(exist_ok=True)
    memory = Memory(default_memory_path())
    chosen: dict[str, LoopResult] = {}
    mbr: dict[str, Any] = {}
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        shown = bar.add_task("starting", total=None)

        def on_event(event: dict[str, Any]) -> None:
            step, attempt, msg = event["step"], event["attempt"], event["message"]
            style = STEP_STYLE.get(step, "bold")
            bar.update(shown, description=f"[{style}]{step}[/] attempt {attempt}: {msg}")
            if step in ("reflect", "accept", "give_up"):
                bar.console.print(f"  [{style}]{step:8}[/] #{attempt} {msg}", highlight=False)

        for name in names:
            bar.console.print(f"[bold]{name}[/] agent ({coder}, {candidates} candidate(s))")
            best, results, decision = build_agent(
                name,
                spec,
                coders[name],
                memory=memory,
                checkpoint_db=state_dir / "checkpoints.sqlite",
                on_event=on_event,
            )
            for r in results:
                color = "green" if r.accepted else "red"
                bar.console.print(
                    f"  [{color}]{r.verdict}[/] after {r.attempts} attempt(s): {r.reason}",
                    highlight=False,
                )
            if best is not None:
                chosen[name] = best
            if decision is not None:
                mbr[name] = decision
                bar.console.print(f"  MBR picked {decision['winner']}: {decision['reason']}")
    memory.close()
    print_summary(chosen, names, time.perf_counter() - started)
    if not chosen:
        raise typer.Exit(1)
    version = record_version(project, spec, chosen, coder, mbr)
    if version:
        console.print(f"Recorded [bold]{version}[/] in {project}")
    if len(chosen) < len(names):
        raise typer.Exit(1)


def print_summary(chosen: dict[str, LoopResult], names: list[str], seconds: float) -> None:
    table = Table(title=f"build ({seconds:.1f}s)")
    for col in ("agent", "verdict", "attempts", "coding s", "sandbox s", "tests s", "tokens"):
        table.add_column(col, justify="left" if col in ("agent", "verdict") else "right")
    for name in names:
        r = chosen.get(name)
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
    console.print(table)


def record_version(
    project: Path,
    spec: ProblemSpec,
    chosen: dict[str, LoopResult],
    coder: str,
    mbr: dict[str, Any],
) -> str | None:
    """A workspace version with the accepted code; files only when the workspace is absent."""
    try:
        from alchemist.workspace import Workspace, version_files
    except ImportError:  # the workspace package is optional at this layer
        for result in chosen.values():
            for path, content in result.files.items():
                target = project / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)
        err_console.print("workspace unavailable: files written, no version recorded")
        return None
    files, manifest = version_files(
        spec,
        optimizer_files=chosen["optimizer"].files if "optimizer" in chosen else None,
        simulator_files=chosen["simulator"].files if "simulator" in chosen else None,
        coders={name: coder for name in chosen},
        tests={
            name: {
                "verdict": r.verdict,
                "reason": r.reason,
                "attempts": r.attempts,
                "summary": r.trajectory[-1].summary if r.trajectory else "",
            }
            for name, r in chosen.items()
        },
        mbr=mbr or None,
        extra={
            "aca": {
                name: [t.model_dump(exclude={"reflection"}) for t in r.trajectory]
                for name, r in chosen.items()
            }
        },
    )
    ws = Workspace.open(project)
    return ws.record(files, manifest, f"build {', '.join(chosen)} ({coder})")


def memory_command(db: Path | None = None) -> None:
    """List the lessons the agents have learned (newest first)."""
    path = db or default_memory_path()
    if not path.exists():
        console.print(f"No memory yet at {path}")
        return
    with Memory(path) as mem:
        lessons = mem.lessons()
        attempts = mem.attempts()
    table = Table(title=f"{len(lessons)} lesson(s), {len(attempts)} attempt(s) in {path}")
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
    console.print(table)
