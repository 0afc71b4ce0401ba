"""The generic agent loop: one LangGraph subgraph for every agent.

    plan -> write -> test (sandbox) -> reflect -> fix -> write ...
                                             \\-> accept | give_up -> END

The coder proposes whole files; only the sandbox's exit code for
`python -m pytest -q -p no:cacheprovider tests` decides acceptance (a coder saying its tests
pass counts for nothing). The contract tests and trusted helpers are always copied from the
agent's folder over whatever the coder wrote, so a coder cannot weaken them. The loop is
bounded by attempts, wall time and tokens, and always ends with a verdict and a trajectory.

    result = run_agent_loop("optimizer", spec, TemplateProposer("optimizer"))
    result.verdict, result.reason, result.files, result.trajectory
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypedDict

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field

from alchemist.coders import AgentDefinition, NeedsLLM, TemplateCoder
from alchemist.coders.llm import Coder, CodeRequest, Proposal
from alchemist.sandbox.base import Limits, RunResult, Sandbox
from alchemist.spec import ProblemSpec

from .memory import AttemptRow, Lesson, Memory, error_signature

PYTEST = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
# The optimizer's contract tests solve the whole scenario three times: a short time limit
# keeps a test run to seconds (any non-error status satisfies the contract).
TEST_OPTIONS = {"time_limit": 1.0, "mip_gap": 0.05, "threads": 1}
EventFn = Callable[[dict[str, Any]], None]
Verdict = Literal["accepted", "gave_up"]


class Budget(BaseModel):
    attempts: int = Field(default=3, ge=1)
    wall_seconds: float = Field(default=600.0, gt=0)
    tokens: int = Field(default=200_000, ge=0)
    fail_fast: bool = Field(default=False, description="pytest -x: stop at the first failure")
    test_limits: Limits = Field(
        default_factory=lambda: Limits(wall_seconds=180, cpu_seconds=600, memory_mb=4096)
    )


class AttemptRecord(BaseModel):
    """One write -> test -> reflect round."""

    attempt: int
    outcome: Literal["passed", "failed", "malformed"]
    exit_code: int | None = None
    summary: str = ""
    error_signature: str = ""
    notes: str = ""
    claimed_success: bool = False
    files_changed: list[str] = Field(default_factory=list)
    tokens: int = 0
    coding_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    test_seconds: float = 0.0
    reflection: str = ""


class LoopResult(BaseModel):
    agent: str
    task: str
    verdict: Verdict
    reason: str
    attempts: int
    files: dict[str, str] = Field(default_factory=dict)
    trajectory: list[AttemptRecord] = Field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0
    coding_seconds: float = 0.0
    sandbox_seconds: float = 0.0
    test_seconds: float = 0.0
    lessons_used: list[str] = Field(default_factory=list)
    plan: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"


class LoopState(TypedDict, total=False):
    """Checkpointed state: plain JSON-able values only (the spec and coder live in the graph)."""

    task: str
    agent: str
    spec_hash: str
    kinds: list[str]
    plan: str
    lessons: list[str]
    attempt: int
    files: dict[str, str]
    previous_files: dict[str, str]
    notes: str
    proposal_error: str
    feedback: str
    test: dict[str, Any]
    trajectory: list[dict[str, Any]]
    tokens: int
    started: float
    verdict: str
    reason: str
    next: str


# ----------------------------------------------------------------- the offline coder


class TemplateProposer:
    """`TemplateCoder` behind the `Coder` protocol. It is deterministic, so the loop gives up
    after a failure instead of asking it for the same files again."""

    deterministic = True

    def __init__(self, agent: AgentDefinition | str, variant: str | None = None) -> None:
        self.coder = TemplateCoder(agent, variant=variant)
        self.name = "template" + (f":{variant}" if variant else "")

    def propose(self, request: CodeRequest) -> Proposal:
        try:
            files = self.coder.generate(request.spec)
        except NeedsLLM as err:
            return Proposal(error=str(err))
        return Proposal(files=files, notes=f"rendered {len(files)} files from the templates")


# ----------------------------------------------------------------- helpers


def test_inputs(agent: AgentDefinition, spec: ProblemSpec) -> dict[str, str]:
    """Trusted files every test run gets: contract tests, static helpers, the problem JSON."""
    files = {f"tests/{Path(t).name}": (agent.root / t).read_text() for t in agent.tests}
    for out, src in agent.static.items():
        files[out] = (agent.root / src).read_text()
    files["problem.json"] = json.dumps(spec.model_dump(mode="json"))
    if agent.name == "optimizer":
        files["options.json"] = json.dumps(TEST_OPTIONS)
    return files


_SUMMARY = re.compile(r"=*\s*((?:\d+ \w+(?:, )?)+) in ([\d.]+)s")


def pytest_summary(stdout: str) -> tuple[str, float]:
    """('2 failed, 4 passed', seconds pytest measured) from pytest's last line."""
    for line in reversed(stdout.strip().splitlines()):
        m = _SUMMARY.search(line)
        if m:
            return m.group(1), float(m.group(2))
    return "", 0.0


def claims_success(notes: str) -> bool:
    return bool(re.search(r"\b(all )?tests? (now )?pass|\bpasses\b|\bfixed\b", notes, re.I))


def diff_files(old: dict[str, str], new: dict[str, str], limit: int = 20_000) -> str:
    out: list[str] = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, ""), new.get(path, "")
        if a != b:
            out.extend(
                difflib.unified_diff(
                    a.splitlines(), b.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=1
                )
            )
    return "\n".join(out)[:limit]


def failure_excerpt(run: RunResult, limit: int = 4000) -> str:
    """The part of pytest's output a coder needs: failures and the short summary."""
    text = run.stdout
    if run.limit_hit:
        text = f"[sandbox: {run.explain()}]\n" + text
    if run.stderr.strip():
        text += "\n[stderr]\n" + run.stderr[-1500:]
    return text[-limit:] if len(text) > limit else text


# ----------------------------------------------------------------- the graph


class AgentLoop:
    """Builds and runs the subgraph for one agent, spec and coder."""

    def __init__(
        self,
        agent: AgentDefinition | str,
        spec: ProblemSpec,
        coder: Coder,
        *,
        sandbox: Sandbox | None = None,
        memory: Memory | None = None,
        budget: Budget | None = None,
        task: str | None = None,
        on_event: EventFn | None = None,
    ) -> None:
        self.agent = AgentDefinition.named(agent) if isinstance(agent, str) else agent
        self.spec = spec
        self.coder = coder
        self._sandbox = sandbox
        self.memory = memory
        self.budget = budget or Budget()
        self.spec_hash = spec.content_hash()
        self.task = task or f"{self.agent.name}:{spec.name}:{self.spec_hash[:12]}"
        self.on_event = on_event
        self.inputs = test_inputs(self.agent, spec)

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            from alchemist.sandbox import get_sandbox  # lower package, resolved on first use

            self._sandbox = get_sandbox()
        return self._sandbox

    def emit(self, step: str, attempt: int, message: str, **extra: Any) -> None:
        if self.on_event:
            self.on_event({"step": step, "attempt": attempt, "message": message, **extra})

    # -- nodes -------------------------------------------------------------------
    def plan(self, state: LoopState) -> LoopState:
        kinds = sorted(self.spec.kinds())
        lessons = []
        if self.memory is not None:
            found = self.memory.lessons_for(self.agent.name, kinds, exclude_task=self.task)
            lessons = [lesson.text() for lesson in found]
        outside = sorted(set(kinds) - set(self.agent.supports))
        plan = f"write the {self.agent.name} for {len(kinds)} constraint kinds: {', '.join(kinds)}"
        if outside:
            plan += f"; outside the template vocabulary: {', '.join(outside)}"
        self.emit("plan", 1, plan, lessons=len(lessons))
        return {
            "task": self.task,
            "agent": self.agent.name,
            "spec_hash": self.spec_hash,
            "kinds": kinds,
            "plan": plan,
            "lessons": lessons,
            "attempt": 1,
            "files": {},
            "previous_files": {},
            "feedback": "",
            "trajectory": [],
            "tokens": 0,
            "started": time.time(),
        }

    def write(self, state: LoopState) -> LoopState:
        attempt = state["attempt"]
        self.emit("write", attempt, f"{self.coder.name} writes attempt {attempt}")
        request = CodeRequest(
            spec=self.spec,
            files=state.get("files", {}),
            feedback=state.get("feedback", ""),
            lessons=state.get("lessons", []),
            attempt=attempt,
            plan=state.get("plan", ""),
        )
        started = time.perf_counter()
        proposal = self.coder.propose(request)
        seconds = time.perf_counter() - started
        base: LoopState = {
            "tokens": state.get("tokens", 0) + proposal.tokens,
            "notes": proposal.notes,
            "proposal_error": proposal.error or "",
            "test": {"coding_seconds": seconds, "tokens": proposal.tokens},
            "previous_files": state.get("files", {}),
        }
        if proposal.error:
            return base
        # whole files replace old ones; files the coder omits stay as they were
        return {**base, "files": {**state.get("files", {}), **proposal.files}}

    def test(self, state: LoopState) -> LoopState:
        attempt = state["attempt"]
        self.emit("test", attempt, "running the tests in the sandbox")
        files = {**state["files"], **self.inputs}  # trusted files win over the coder's
        started = time.perf_counter()
        try:
            command = [*PYTEST[:-1], "-x", PYTEST[-1]] if self.budget.fail_fast else list(PYTEST)
            # the test run may not outlive the loop's wall-time budget
            left = self.budget.wall_seconds - (time.time() - state.get("started", time.time()))
            allowed = max(5.0, min(self.budget.test_limits.wall_seconds, left))
            limits = self.budget.test_limits.model_copy(update={"wall_seconds": allowed})
            run = self.sandbox.run(command, files, limits)
        except Exception as err:  # a broken sandbox is a failed attempt, said plainly
            run = RunResult(exit_code=-1, stderr=f"sandbox error: {type(err).__name__}: {err}")
        wall = time.perf_counter() - started
        summary, pytest_seconds = pytest_summary(run.stdout)
        test = {
            **state.get("test", {}),
            "exit_code": run.exit_code,
            "passed": run.ok,
            "summary": summary or run.explain(),
            "output": failure_excerpt(run),
            "sandbox_seconds": max(0.0, wall - pytest_seconds),
            "test_seconds": pytest_seconds,
        }
        return {"test": test}

    def reflect(self, state: LoopState) -> LoopState:
        attempt = state["attempt"]
        test = dict(state.get("test", {}))
        error = state.get("proposal_error", "")
        notes = state.get("notes", "")
        if error:
            outcome, signature, summary = "malformed", error_signature(error) or error[:120], error
            feedback = (
                f"Your previous answer could not be used: {error}\n"
                "Answer again with one JSON object in the required format."
            )
        elif test.get("passed"):
            outcome, signature, summary, feedback = "passed", "", test.get("summary", ""), ""
        else:
            output = test.get("output", "")
            outcome, signature = "failed", error_signature(output)
            summary, feedback = test.get("summary", ""), output
        changed = sorted(
            p
            for p in set(state.get("files", {})) | set(state.get("previous_files", {}))
            if state.get("files", {}).get(p) != state.get("previous_files", {}).get(p)
        )
        record = AttemptRecord(
            attempt=attempt,
            outcome=outcome,
            exit_code=test.get("exit_code"),
            summary=summary[:500],
            error_signature=signature,
            notes=notes[:2000],
            claimed_success=claims_success(notes),
            files_changed=changed,
            tokens=int(test.get("tokens", 0)),
            coding_seconds=float(test.get("coding_seconds", 0.0)),
            sandbox_seconds=float(test.get("sandbox_seconds", 0.0)),
            test_seconds=float(test.get("test_seconds", 0.0)),
        )
        trajectory = [*state.get("trajectory", [])]
        verdict, reason, nxt = self._decide(state, record, trajectory)
        record.reflection = self._learn(state, record, trajectory, verdict)
        trajectory.append(record.model_dump())
        self.emit(
            "reflect",
            attempt,
            f"{outcome}: {summary[:120] or signature}" + (f" -> {verdict}" if verdict else ""),
            outcome=outcome,
        )
        if self.memory is not None:
            self.memory.record_attempt(
                AttemptRow(
                    task=self.task,
                    agent=self.agent.name,
                    spec_hash=self.spec_hash,
                    kinds=state.get("kinds", []),
                    attempt=attempt,
                    coder=self.coder.name,
                    error_signature=signature,
                    diff=diff_files(state.get("previous_files", {}), state.get("files", {})),
                    outcome=outcome,
                    notes=notes,
                )
            )
        out: LoopState = {"trajectory": trajectory, "feedback": feedback, "next": nxt}
        if verdict:
            out.update({"verdict": verdict, "reason": reason})
        return out

    def _decide(
        self, state: LoopState, record: AttemptRecord, trajectory: list[dict[str, Any]]
    ) -> tuple[str, str, str]:
        """(verdict or '', reason, next node). Only the sandbox's exit code accepts."""
        attempt = record.attempt
        if record.outcome == "passed":
            return "accepted", f"the tests pass in the sandbox on attempt {attempt}", "accept"
        what = "unusable answer" if record.outcome == "malformed" else "tests fail"
        if record.claimed_success and record.outcome == "failed":
            what += " (the coder claimed success; the sandbox disagrees)"
        if attempt >= self.budget.attempts:
            reason = f"attempt budget spent ({attempt}/{self.budget.attempts}); last: {what}"
            return "gave_up", reason + self._last(record), "give_up"
        elapsed = time.time() - state.get("started", time.time())
        if elapsed >= self.budget.wall_seconds:
            reason = f"wall-time budget spent ({elapsed:.0f}s of {self.budget.wall_seconds:.0f}s)"
            return "gave_up", reason + self._last(record), "give_up"
        if self.budget.tokens and state.get("tokens", 0) >= self.budget.tokens:
            reason = f"token budget spent ({state.get('tokens', 0)} of {self.budget.tokens})"
            return "gave_up", reason + self._last(record), "give_up"
        if getattr(self.coder, "deterministic", False):
            # a deterministic coder would write the same files again: no point retrying
            return (
                "gave_up",
                f"{self.coder.name} cannot fix its own output" + self._last(record),
                "give_up",
            )
        return "", "", "fix"

    @staticmethod
    def _last(record: AttemptRecord) -> str:
        detail = record.error_signature or record.summary
        return f"; last error: {detail[:200]}" if detail else ""

    def _learn(
        self,
        state: LoopState,
        record: AttemptRecord,
        trajectory: list[dict[str, Any]],
        verdict: str,
    ) -> str:
        """Write a lesson: a reflection on a failure, or, after a success that followed
        failures, the fix that worked for the error seen before (the most reusable kind)."""
        kinds = state.get("kinds", [])
        lesson: Lesson | None = None
        if record.outcome == "passed":
            failed = [t for t in trajectory if t["outcome"] != "passed"]
            if failed:
                last = failed[-1]
                lesson = Lesson(
                    task=self.task,
                    agent=self.agent.name,
                    kinds=kinds,
                    error_signature=last["error_signature"],
                    what_failed=f"{last['summary'] or 'tests failed'} ({last['error_signature']})",
                    why="the first version was wrong as the sandbox tests showed",
                    next_step=f"what fixed it on attempt {record.attempt}: {record.notes or ', '.join(record.files_changed)}",
                )
        else:
            what = record.summary or record.outcome
            why = record.error_signature or "no error line in the output"
            if record.outcome == "malformed":
                nxt = "answer with exactly one JSON object {files, notes}"
            else:
                nxt = "read the failing assertion, change the least code that explains it"
            lesson = Lesson(
                task=self.task,
                agent=self.agent.name,
                kinds=kinds,
                error_signature=record.error_signature,
                what_failed=f"attempt {record.attempt}: {what}",
                why=why,
                next_step=nxt,
            )
        if lesson is None:
            return ""
        if self.memory is not None:
            self.memory.add_lesson(lesson)
        return lesson.text()

    def fix(self, state: LoopState) -> LoopState:
        return {"attempt": state["attempt"] + 1}

    def accept(self, state: LoopState) -> LoopState:
        self.emit("accept", state["attempt"], state.get("reason", "accepted"))
        return {}

    def give_up(self, state: LoopState) -> LoopState:
        self.emit("give_up", state["attempt"], state.get("reason", "gave up"))
        return {}

    # -- wiring ------------------------------------------------------------------
    def graph(self) -> StateGraph:
        g = StateGraph(LoopState)
        for name in ("plan", "write", "test", "reflect", "fix", "accept", "give_up"):
            g.add_node(name, getattr(self, name))
        g.add_edge(START, "plan")
        g.add_edge("plan", "write")
        # an unusable proposal skips the sandbox: it goes straight to reflection
        g.add_conditional_edges(
            "write",
            lambda s: "reflect" if s.get("proposal_error") else "test",
            {"reflect": "reflect", "test": "test"},
        )
        g.add_edge("test", "reflect")
        g.add_conditional_edges(
            "reflect",
            lambda s: s["next"],
            {"fix": "fix", "accept": "accept", "give_up": "give_up"},
        )
        g.add_edge("fix", "write")
        g.add_edge("accept", END)
        g.add_edge("give_up", END)
        return g

    def run(
        self, checkpoint_db: str | Path | None = None, thread_id: str | None = None
    ) -> LoopResult:
        """Run to a verdict. With `checkpoint_db`, every step is checkpointed (SQLite); a
        given `thread_id` resumes that thread where it stopped (a finished one is returned
        as recorded), otherwise each run is a fresh thread."""
        started = time.perf_counter()
        config: dict[str, Any] = {
            "recursion_limit": 8 + 5 * self.budget.attempts,
            "configurable": {"thread_id": thread_id or self.task},
        }
        if checkpoint_db is not None:
            from langgraph.checkpoint.sqlite import SqliteSaver

            if thread_id is None:
                config["configurable"]["thread_id"] = f"{self.task}:{time.time_ns()}"
            conn = sqlite3.connect(str(checkpoint_db), check_same_thread=False)
            try:
                app = self.graph().compile(checkpointer=SqliteSaver(conn))
                snapshot = app.get_state(config)
                if snapshot.next:  # interrupted: carry on from the last checkpoint
                    state = app.invoke(None, config)
                elif snapshot.values.get("verdict"):  # finished before: the recorded outcome
                    state = dict(snapshot.values)
                else:
                    state = app.invoke({}, config)
            finally:
                conn.close()
        else:
            state = self.graph().compile().invoke({}, config)
        trajectory = [AttemptRecord.model_validate(t) for t in state.get("trajectory", [])]
        return LoopResult(
            agent=self.agent.name,
            task=self.task,
            verdict=state.get("verdict", "gave_up"),  # type: ignore[arg-type]
            reason=state.get("reason", "the loop stopped without a verdict"),
            attempts=len(trajectory),
            files=state.get("files", {}),
            trajectory=trajectory,
            tokens=state.get("tokens", 0),
            seconds=time.perf_counter() - started,
            coding_seconds=sum(t.coding_seconds for t in trajectory),
            sandbox_seconds=sum(t.sandbox_seconds for t in trajectory),
            test_seconds=sum(t.test_seconds for t in trajectory),
            lessons_used=state.get("lessons", []),
            plan=state.get("plan", ""),
        )


def run_agent_loop(
    agent: AgentDefinition | str,
    spec: ProblemSpec,
    coder: Coder | None = None,
    *,
    sandbox: Sandbox | None = None,
    memory: Memory | None = None,
    budget: Budget | None = None,
    task: str | None = None,
    on_event: EventFn | None = None,
    checkpoint_db: str | Path | None = None,
    thread_id: str | None = None,
) -> LoopResult:
    """Run the loop to a verdict (default coder: the offline `TemplateProposer`)."""
    definition = AgentDefinition.named(agent) if isinstance(agent, str) else agent
    loop = AgentLoop(
        definition,
        spec,
        coder or TemplateProposer(definition),
        sandbox=sandbox,
        memory=memory,
        budget=budget,
        task=task,
        on_event=on_event,
    )
    return loop.run(checkpoint_db, thread_id)
