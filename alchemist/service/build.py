"""Build agents into a project: each agent's loop (plan -> write -> test in the sandbox ->
reflect -> fix) writes and tests its code, MBR picks among candidates when there are several,
and the accepted code is recorded as a new version of the project's git workspace.

    report = build_project("all", "scenarios/nurse_ward.yaml", "ward", on_event=print)
    report.version, report.chosen["optimizer"].attempts

or in two steps, bad input first: `run_build(plan_build(...), on_event=...)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from alchemist.aca import LoopResult, Memory, TemplateProposer, run_agent_loop
from alchemist.coders import LLMNotConfigured
from alchemist.coders.llm import Coder
from alchemist.spec import ProblemSpec

from .solve import load_scenario

AGENTS = ("optimizer", "simulator")


class BuildError(ValueError):
    """Bad build input for people: unknown agent or coder, no candidates, no LLM configured."""


@dataclass
class BuildEvent:
    """What a build reports while it runs.

    kind "agent_started": an agent's candidates are about to be built;
    kind "loop": a node of the agent loop ran (`step` is plan, write, test, reflect, accept or
    give_up; `data` is the loop's own event);
    kind "agent_finished": every candidate of `agent` has a verdict (`results`), and
    `decision` is the MBR decision when several were accepted.
    """

    kind: Literal["agent_started", "loop", "agent_finished"]
    agent: str
    step: str = ""
    attempt: int = 0
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    results: list[LoopResult] = field(default_factory=list)
    decision: dict[str, Any] | None = None


BuildEventFn = Callable[[BuildEvent], None]


@dataclass
class BuildReport:
    """The outcome of `build_project`: per agent the chosen result (accepted agents only),
    every candidate's result and the MBR decisions; the recorded version, if any."""

    spec: ProblemSpec
    project: Path
    coder: str
    agents: list[str]
    chosen: dict[str, LoopResult] = field(default_factory=dict)
    results: dict[str, list[LoopResult]] = field(default_factory=dict)
    mbr: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # the agents' loops (and MBR), without recording the version
    version: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every requested agent was accepted (and so a version was recorded)."""
        return len(self.chosen) == len(self.agents)


def resolve_agents(agent: str) -> list[str]:
    """'optimizer', 'simulator', or 'all' / 'both' for both; BuildError for anything else."""
    names = list(AGENTS) if agent in ("all", "both") else [agent]
    for name in names:
        if name not in AGENTS:
            raise BuildError(f"unknown agent {name!r}: choose optimizer, simulator or all")
    return names


def make_coders(agent: str, coder: str, candidates: int) -> list[Coder]:
    """One coder per candidate: template variants in turn, or LLM samples of one model.

    Raises BuildError for an unknown coder or when the LLM is not configured.
    """
    if coder == "template":
        from alchemist.validation.mbr import TEMPLATE_VARIANTS

        variants = TEMPLATE_VARIANTS.get(agent, [None])
        return [TemplateProposer(agent, variants[i % len(variants)]) for i in range(candidates)]
    if coder == "llm":
        from alchemist.coders import LLMCoder, chat_model_from_env

        try:
            model = chat_model_from_env()
        except LLMNotConfigured as err:
            raise BuildError(str(err)) from err
        return [LLMCoder(model, agent) for _ in range(candidates)]
    raise BuildError(f"unknown coder {coder!r}: choose template or llm")


def build_agent(
    agent: str,
    spec: ProblemSpec,
    coders: list[Coder],
    *,
    memory: Memory | None,
    checkpoint_db: Path | None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
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


@dataclass
class BuildPlan:
    """A validated build, ready to run: the agents, the spec, the coders per agent."""

    agents: list[str]
    spec: ProblemSpec
    project: Path
    coder: str
    candidates: int
    coders: dict[str, list[Coder]]


def plan_build(
    agent: str,
    scenario: ProblemSpec | str | Path,
    project: str | Path,
    *,
    coder: str = "template",
    candidates: int = 1,
) -> BuildPlan:
    """Check a build's input without doing any work or touching `project`.

    Raises BuildError (agent, coder, candidates, LLM settings) or SpecError (the scenario).
    """
    names = resolve_agents(agent)
    if candidates < 1:
        raise BuildError("--candidates must be at least 1")
    spec = scenario if isinstance(scenario, ProblemSpec) else load_scenario(scenario)
    coders = {name: make_coders(name, coder, candidates) for name in names}
    return BuildPlan(names, spec, Path(project), coder, candidates, coders)


def run_build(
    plan: BuildPlan,
    *,
    on_event: BuildEventFn | None = None,
    memory_path: str | Path | None = None,
) -> BuildReport:
    """Run a planned build: each agent's loop per candidate, MBR, then record a version of
    `plan.project` (created when absent) with the accepted code.

    No version is recorded when no agent was accepted. Lessons go to the agents' memory
    (`memory_path`, default `$ALCHEMIST_MEMORY_DB` or ~/.alchemist/memory.sqlite).
    """
    spec, project = plan.spec, plan.project
    project.mkdir(parents=True, exist_ok=True)
    state_dir = project / ".alchemist"
    state_dir.mkdir(exist_ok=True)
    report = BuildReport(spec=spec, project=project, coder=plan.coder, agents=list(plan.agents))
    say = on_event or (lambda _event: None)
    started = time.perf_counter()
    memory = Memory(memory_path)  # None: the default path
    try:
        for name in plan.agents:
            say(BuildEvent("agent_started", name))

            def on_loop_event(event: dict[str, Any], name: str = name) -> None:
                say(
                    BuildEvent(
                        "loop",
                        name,
                        step=event["step"],
                        attempt=event["attempt"],
                        message=event["message"],
                        data=event,
                    )
                )

            best, results, decision = build_agent(
                name,
                spec,
                plan.coders[name],
                memory=memory,
                checkpoint_db=state_dir / "checkpoints.sqlite",
                on_event=on_loop_event,
            )
            report.results[name] = results
            if best is not None:
                report.chosen[name] = best
            if decision is not None:
                report.mbr[name] = decision
            say(BuildEvent("agent_finished", name, results=results, decision=decision))
    finally:
        memory.close()
    report.seconds = time.perf_counter() - started
    if report.chosen:
        report.version = record_version(
            project, spec, report.chosen, plan.coder, report.mbr, report
        )
    return report


def build_project(
    agent: str,
    scenario: ProblemSpec | str | Path,
    project: str | Path,
    *,
    coder: str = "template",
    candidates: int = 1,
    on_event: BuildEventFn | None = None,
    memory_path: str | Path | None = None,
) -> BuildReport:
    """Have AGENT (optimizer, simulator or all) write and test its code for `scenario`, then
    record the accepted code as a new version of `project`: `plan_build` then `run_build`.

    Bad input raises before any work: BuildError or SpecError.
    """
    plan = plan_build(agent, scenario, project, coder=coder, candidates=candidates)
    return run_build(plan, on_event=on_event, memory_path=memory_path)


def record_version(
    project: Path,
    spec: ProblemSpec,
    chosen: dict[str, LoopResult],
    coder: str,
    mbr: dict[str, Any],
    report: BuildReport | None = None,
) -> str | None:
    """A workspace version with the accepted code; files only when the workspace is absent
    (then a note goes into `report`)."""
    try:
        from alchemist.workspace import Workspace, version_files
    except ImportError:  # the workspace package is optional at this layer
        for result in chosen.values():
            for path, content in result.files.items():
                target = project / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)
        if report is not None:
            report.notes.append("workspace unavailable: files written, no version recorded")
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
    with Workspace.open(project) as ws:
        return ws.record(files, manifest, f"build {', '.join(chosen)} ({coder})")
