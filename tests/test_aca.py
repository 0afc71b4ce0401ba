"""The generic agent loop: offline builds, the sandbox as the only judge, budgets, CLI."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from alchemist.aca import AgentLoop, Budget, TemplateProposer, run_agent_loop
from alchemist.cli.build import build_command, memory_command
from alchemist.coders import AgentDefinition, LLMCoder
from alchemist.sandbox import RunResult
from alchemist.spec import save_spec
from tests.optimizer_helpers import make_spec

SPEC = make_spec(
    "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_consecutive_days, days: 2}]"
)


class FixedSandbox:
    """Answers every run with a fixed result and keeps the files it was given."""

    name = "fixed"

    def __init__(self, exit_code: int, stdout: str) -> None:
        self.exit_code, self.stdout = exit_code, stdout
        self.runs: list[tuple[list[str], dict]] = []

    def run(self, command, files, limits=None, collect=None) -> RunResult:
        self.runs.append((command, dict(files)))
        return RunResult(exit_code=self.exit_code, stdout=self.stdout)


def test_only_the_exit_code_decides():
    # pytest's text says "passed" but the exit code says otherwise: rejected
    liar = FixedSandbox(1, "6 passed in 0.1s")
    result = run_agent_loop("optimizer", SPEC, sandbox=liar)
    assert result.verdict == "gave_up" and result.attempts == 1
    assert "cannot fix its own output" in result.reason  # a deterministic coder stops early
    command, files = liar.runs[0]
    assert command == ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    # contract tests and the inputs they need are the trusted copies, not the coder's
    assert {"tests/test_contract.py", "problem.json", "options.json"} <= set(files)
    assert json.loads(files["problem.json"])["name"] == SPEC.name
    ok = run_agent_loop("optimizer", SPEC, sandbox=FixedSandbox(0, ""))
    assert ok.verdict == "accepted" and ok.files and "problem.json" not in ok.files


def test_a_coder_cannot_replace_the_contract_tests():
    agent = AgentDefinition.named("optimizer")
    sandbox = FixedSandbox(0, "")
    coder = TemplateProposer(agent)
    loop = AgentLoop(agent, SPEC, coder, sandbox=sandbox)
    state = {"attempt": 1, "files": {"tests/test_contract.py": "def test_x():\n    pass\n"}}
    loop.test(state)
    assert "run_cli" in sandbox.runs[0][1]["tests/test_contract.py"]


def test_kinds_outside_the_templates_need_the_llm_path():
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    narrow = AgentDefinition.named("optimizer").model_copy(update={"supports": ["cover"]})
    offline = run_agent_loop(narrow, SPEC, sandbox=FixedSandbox(0, ""))
    assert offline.verdict == "gave_up" and offline.trajectory[0].outcome == "malformed"
    assert "LLM" in offline.reason or "llm" in offline.reason
    files = {"optimizer/model.py": "# written by the model\n"}
    model = FakeMessagesListChatModel(
        responses=[AIMessage(json.dumps({"files": files, "notes": "windows of 3 days"}))]
    )
    sandbox = FixedSandbox(0, "1 passed in 0.1s")
    result = run_agent_loop(narrow, SPEC, LLMCoder(model, narrow), sandbox=sandbox)
    assert result.verdict == "accepted" and result.files == files
    assert "outside the template vocabulary: max_consecutive_days" in result.plan


def test_wall_time_budget_gives_a_verdict():
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    model = FakeMessagesListChatModel(responses=[AIMessage("nope")], sleep=0.05)
    result = run_agent_loop(
        "optimizer",
        SPEC,
        LLMCoder(model, "optimizer"),
        budget=Budget(attempts=50, wall_seconds=0.01),
    )
    assert result.verdict == "gave_up" and "wall-time budget" in result.reason


def test_build_command_offline_records_a_version(tmp_path, monkeypatch):
    from alchemist.sandbox import SandboxUnavailable, get_sandbox

    try:
        get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")
    try:
        import alchemist.workspace  # noqa: F401
    except ImportError:
        pytest.skip("alchemist.workspace is not available yet")
    monkeypatch.setenv("ALCHEMIST_MEMORY_DB", str(tmp_path / "memory.sqlite"))
    scenario = tmp_path / "tiny.yaml"
    save_spec(SPEC, scenario)
    app = typer.Typer()
    app.command("build")(build_command)
    app.command("memory")(memory_command)
    out = CliRunner().invoke(
        app, ["build", "optimizer", str(scenario), "--project", str(tmp_path / "proj")]
    )
    assert out.exit_code == 0, out.output
    assert "accepted" in out.output and "Recorded v1" in out.output
    from alchemist.workspace import Workspace

    ws = Workspace.open(tmp_path / "proj")
    assert ws.verify("v1") == []
    listing = CliRunner().invoke(app, ["memory", "--db", str(tmp_path / "memory.sqlite")])
    assert listing.exit_code == 0 and "lesson" in listing.output


def test_a_checkpointed_thread_is_not_run_twice(tmp_path):
    db = tmp_path / "ckpt.sqlite"
    first = run_agent_loop(
        "optimizer",
        SPEC,
        sandbox=FixedSandbox(0, "6 passed in 1.0s"),
        checkpoint_db=db,
        thread_id="t1",
    )

    class Exploding:
        name = "exploding"

        def propose(self, request):
            raise AssertionError("a finished thread must not call the coder again")

    again = run_agent_loop(
        "optimizer",
        SPEC,
        Exploding(),
        sandbox=FixedSandbox(1, ""),
        checkpoint_db=db,
        thread_id="t1",
    )
    assert again.verdict == first.verdict == "accepted" and again.files == first.files
