"""The agent loop driven by scripted chat models (no real LLM): LangChain fake chat models
and a loopback OpenAI-compatible stub used through the real `ChatOpenAI` client.

The "optimizer" is tiny: the scripted model returns the template coder's own files (with a
planted bug first), so the real contract tests run in the real sandbox.
"""

from __future__ import annotations

import json
import time

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from alchemist.aca import Budget, Memory, run_agent_loop
from alchemist.coders import LLMCoder, LLMNotConfigured, TemplateCoder, chat_model_from_env
from alchemist.coders.llm import parse_reply
from alchemist.sandbox import SandboxUnavailable, get_sandbox
from tests.llm_stub import Sleep, StubLLM
from tests.optimizer_helpers import make_spec

SPEC = make_spec(
    "constraints: [{kind: cover, shift: D, preferred: 1}, {kind: max_consecutive_days, days: 2}]"
)
GOOD = TemplateCoder("optimizer").generate(SPEC)
# planted bug: the result lacks the contract's "solve_seconds" key
BUGGY = {
    **GOOD,
    "optimizer/model.py": GOOD["optimizer/model.py"].replace(
        '"solve_seconds": round', '"solve_time": round'
    ),
}
# planted bug that fails fast (at test collection): a wrong import in the model
BROKEN = {
    **GOOD,
    "optimizer/model.py": GOOD["optimizer/model.py"].replace("import Data\n", "import DataFrame\n"),
}
assert GOOD != BUGGY != BROKEN != GOOD


def reply(files: dict[str, str], notes: str) -> str:
    return json.dumps({"files": files, "notes": notes})


def fake(*texts: str) -> FakeMessagesListChatModel:
    return FakeMessagesListChatModel(responses=[AIMessage(t) for t in texts])


@pytest.fixture(scope="module")
def sandbox():
    try:
        return get_sandbox()
    except SandboxUnavailable as err:
        pytest.skip(f"no sandbox here: {err}")


def fast(attempts: int) -> Budget:
    return Budget(attempts=attempts, wall_seconds=120, fail_fast=True)


def test_fake_model_fixes_its_bug_and_the_lesson_helps_a_later_task(sandbox, tmp_path):
    """(a) buggy first, sees the failing test, fixes it: accepted on attempt 2. The lesson
    written then is retrieved on a later similar task, whose model only succeeds when the
    lesson is in its prompt."""
    memory = Memory(tmp_path / "m.sqlite")
    model = fake(
        reply(BUGGY, "first version"),
        reply(GOOD, "the result must use the key 'solve_seconds' (the contract test said so)"),
    )
    events = []
    result = run_agent_loop(
        "optimizer",
        SPEC,
        LLMCoder(model, "optimizer"),
        sandbox=sandbox,
        memory=memory,
        budget=fast(3),
        on_event=events.append,
        checkpoint_db=tmp_path / "ckpt.sqlite",
    )
    assert result.verdict == "accepted" and result.attempts == 2, result.reason
    first, second = result.trajectory
    assert first.outcome == "failed" and "solve_seconds" in first.error_signature
    assert second.outcome == "passed" and second.files_changed == ["optimizer/model.py"]
    assert [e["step"] for e in events][:4] == ["plan", "write", "test", "reflect"]
    assert (tmp_path / "ckpt.sqlite").stat().st_size > 0  # the graph was checkpointed
    assert [a.outcome for a in memory.attempts(result.task)] == ["failed", "passed"]

    # a later, similar task (another window length): one attempt only
    spec2 = make_spec(
        "constraints: [{kind: cover, shift: D, preferred: 2}, {kind: max_consecutive_days, days: 3}]"
    )
    good2 = TemplateCoder("optimizer").generate(spec2)
    buggy2 = {**good2, "optimizer/model.py": BUGGY["optimizer/model.py"]}
    seen: list[str] = []

    class LessonDependent(FakeMessagesListChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[override]
            prompt = "\n".join(str(m.content) for m in messages)
            seen.append(prompt)
            ok = "use the key 'solve_seconds'" in prompt
            self.responses = [AIMessage(reply(good2 if ok else buggy2, "v1"))]
            self.i = 0
            return super()._generate(messages, stop, run_manager, **kwargs)

    later = run_agent_loop(
        "optimizer",
        spec2,
        LLMCoder(LessonDependent(responses=[AIMessage("")]), "optimizer"),
        sandbox=sandbox,
        memory=memory,
        budget=fast(1),
    )
    assert "Lessons from earlier tasks" in seen[0] and "solve_seconds" in seen[0]
    assert later.lessons_used and later.verdict == "accepted", later.reason


def test_claimed_success_is_rejected_by_the_sandbox(sandbox):
    model = fake(reply(BROKEN, "Done: all tests pass."))
    result = run_agent_loop(
        "optimizer", SPEC, LLMCoder(model, "optimizer"), sandbox=sandbox, budget=fast(1)
    )
    assert result.verdict == "gave_up"
    assert result.trajectory[0].claimed_success and result.trajectory[0].outcome == "failed"
    assert "claimed success" in result.reason and "attempt budget spent (1/1)" in result.reason


def test_malformed_output_is_recorded_retried_and_bounded():
    # no sandbox needed: nothing usable is ever proposed
    model = fake("Sure! Here is the code:", '{"files": {"../escape.py": "x"}}', '{"notes": 1}')
    result = run_agent_loop("optimizer", SPEC, LLMCoder(model, "optimizer"), budget=fast(3))
    assert result.verdict == "gave_up" and result.attempts == 3
    assert [t.outcome for t in result.trajectory] == ["malformed"] * 3
    assert "not a JSON object" in result.trajectory[0].summary
    assert "escape" in result.trajectory[1].summary
    assert "attempt budget spent (3/3)" in result.reason


def test_a_hanging_model_times_out_and_the_loop_stays_bounded():
    calls: list[int] = []

    class SlowFirst(FakeMessagesListChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[override]
            calls.append(1)
            if len(calls) == 1:  # the first call hangs past the coder's timeout
                time.sleep(1.0)
                return super()._generate(messages, stop, run_manager, **kwargs)
            self.responses, self.i = [AIMessage("still not json")], 0
            return super()._generate(messages, stop, run_manager, **kwargs)

    model = SlowFirst(responses=[AIMessage("late")])
    started = time.perf_counter()
    result = run_agent_loop(
        "optimizer", SPEC, LLMCoder(model, "optimizer", timeout=0.2), budget=fast(2)
    )
    assert time.perf_counter() - started < 1.0
    assert [t.outcome for t in result.trajectory] == ["malformed", "malformed"]
    assert "TimeoutError" in result.trajectory[0].summary
    assert "not a JSON object" in result.trajectory[1].summary
    assert result.verdict == "gave_up" and "attempt budget spent (2/2)" in result.reason


def test_token_budget_stops_the_loop():
    model = fake("no json here")
    result = run_agent_loop(
        "optimizer", SPEC, LLMCoder(model, "optimizer"), budget=Budget(attempts=5, tokens=10)
    )
    assert result.verdict == "gave_up" and result.attempts == 1
    assert "token budget" in result.reason


def test_parse_reply_accepts_fenced_json():
    text = 'Here:\n```json\n{"files": {"a.py": "x = 1\\n"}, "notes": "ok"}\n```'
    assert parse_reply(text).files == {"a.py": "x = 1\n"}


def test_missing_key_is_one_clear_line(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMNotConfigured) as err:
        chat_model_from_env()
    assert "OPENAI_API_KEY" in str(err.value) and "\n" not in str(err.value)


def stub_env(monkeypatch, stub: StubLLM) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    monkeypatch.setenv("ALCHEMIST_MODEL", "stub-coder")


def test_stub_server_through_chat_openai_fixes_its_bug(sandbox, monkeypatch):
    def fixed(prompt: str) -> str:
        # only a model that saw the failing test output writes the fix
        assert "DataFrame" in prompt and "Test output of the last attempt" in prompt
        return reply(GOOD, "import Data, not DataFrame")

    with StubLLM([reply(BROKEN, "v1"), fixed]) as stub:
        stub_env(monkeypatch, stub)
        coder = LLMCoder(chat_model_from_env(timeout=30, max_retries=0), "optimizer")
        result = run_agent_loop("optimizer", SPEC, coder, sandbox=sandbox, budget=fast(3))
    assert result.verdict == "accepted" and result.attempts == 2, result.reason
    assert stub.calls == 2 and result.tokens > 0
    assert "ward" not in stub.prompts[0] and "max_consecutive_days" in stub.prompts[0]


def test_stub_server_that_never_succeeds_stops_at_the_budget(sandbox, monkeypatch):
    with StubLLM([Sleep(3.0), "not json", reply(BROKEN, "tests pass now")]) as stub:
        stub_env(monkeypatch, stub)
        coder = LLMCoder(chat_model_from_env(timeout=0.5, max_retries=0), "optimizer")
        result = run_agent_loop("optimizer", SPEC, coder, sandbox=sandbox, budget=fast(3))
    outcomes = [t.outcome for t in result.trajectory]
    assert outcomes == ["malformed", "malformed", "failed"]
    assert "Timeout" in result.trajectory[0].summary  # the model call timed out
    assert result.verdict == "gave_up" and "attempt budget spent (3/3)" in result.reason
