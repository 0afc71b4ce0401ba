"""`LLMCoder`: any LangChain chat model writes an agent's files.

The prompt carries the agent's role and contract, the spec as YAML, the current files, the
failing test output (trimmed) and lessons from earlier tasks. The model must answer with one
JSON object `{"files": {path: content}, "notes": "..."}`; anything else is a failed attempt
whose feedback tells the model what was wrong, never an exception for the caller.

    coder = LLMCoder(chat_model_from_env(), "optimizer")
    proposal = coder.propose(CodeRequest(spec=spec, feedback=..., lessons=[...]))
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from alchemist.spec import ProblemSpec, dump_spec_yaml

from .template import AgentDefinition

if TYPE_CHECKING:  # langchain is imported when a model is used, not with `alchemist.coders`
    from langchain_core.language_models import BaseChatModel

DEFAULT_MODEL = "gpt-4o-mini"
MAX_FEEDBACK_CHARS = 6000
MAX_FILE_CHARS = 40_000


class LLMNotConfigured(RuntimeError):
    """No usable LLM settings; the message says which variable to set."""


class CodeRequest(BaseModel):
    """What a coder is asked on one attempt."""

    spec: ProblemSpec
    files: dict[str, str] = Field(default_factory=dict, description="current files (to fix)")
    feedback: str = Field(default="", description="failing test output or a format error")
    lessons: list[str] = Field(default_factory=list, description="lessons from earlier tasks")
    attempt: int = 1
    plan: str = ""


class Proposal(BaseModel):
    """A coder's answer: whole files. `error` set = no usable files (malformed, timeout)."""

    files: dict[str, str] = Field(default_factory=dict)
    notes: str = ""
    tokens: int = 0
    error: str | None = None
    prompt: str = ""
    raw: str = ""


class Coder(Protocol):
    """What the agent loop needs from a coder."""

    name: str

    def propose(self, request: CodeRequest) -> Proposal: ...


class CoderReply(BaseModel):
    """The JSON object the model must return."""

    files: dict[str, str] = Field(min_length=1)
    notes: str = ""

    @field_validator("files")
    @classmethod
    def _relative_paths(cls, files: dict[str, str]) -> dict[str, str]:
        for path in files:
            p = PurePosixPath(path)
            if p.is_absolute() or ".." in p.parts or not path.strip():
                raise ValueError(f"file path {path!r} must be relative and stay in the workspace")
        return files


FORMAT = (
    "Answer with ONE JSON object and nothing else:\n"
    '{"files": {"<relative path>": "<whole file content>", ...}, "notes": "<what you changed and why>"}\n'
    "Give every file you create or change in full (no diffs, no ellipses). Files you omit stay "
    "as they are. The contract tests are fixed: do not try to change them."
)


def chat_model_from_env(
    timeout: float = 120.0, max_retries: int = 2, **kwargs: Any
) -> BaseChatModel:
    """ChatOpenAI from OPENAI_API_KEY, OPENAI_BASE_URL (any OpenAI-compatible server) and
    ALCHEMIST_MODEL; raises `LLMNotConfigured` with one clear line when the key is missing."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not key:
        raise LLMNotConfigured(
            "no LLM configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a local "
            "OpenAI-compatible server, ALCHEMIST_MODEL for the model name), or use --coder template"
        )
    from langchain_openai import ChatOpenAI  # heavy import, only when an LLM is wanted

    base_url = os.environ.get("OPENAI_BASE_URL", "").strip() or None
    model = os.environ.get("ALCHEMIST_MODEL", "").strip() or DEFAULT_MODEL
    return ChatOpenAI(
        model=model,
        api_key=key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        **kwargs,
    )


def _trim(text: str, limit: int) -> str:
    """The head and the tail of long output: pytest puts the summary last."""
    if len(text) <= limit:
        return text
    head = limit // 4
    return (
        text[:head] + f"\n... [{len(text) - limit} characters cut] ...\n" + text[-(limit - head) :]
    )


def extract_json(text: str) -> Any:
    """The JSON object in a reply, tolerating a ``` fence or prose around it."""
    fence = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    candidate = fence.group(1) if fence else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the reply contains no JSON object")
    return json.loads(candidate[start : end + 1])


def parse_reply(text: str) -> CoderReply:
    """Validate a model reply; raises ValueError with a message meant for the model."""
    try:
        doc = extract_json(text)
    except (ValueError, json.JSONDecodeError) as err:
        raise ValueError(f"your reply is not a JSON object ({err})") from None
    try:
        return CoderReply.model_validate(doc)
    except ValidationError as err:
        first = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'reply'}: {e['msg']}" for e in err.errors()[:3]
        )
        raise ValueError(f"your JSON does not match the format ({first})") from None


class LLMCoder:
    """Writes an agent's files with a LangChain chat model."""

    name = "llm"

    def __init__(
        self, model: BaseChatModel, agent: AgentDefinition | str, timeout: float | None = None
    ) -> None:
        self.model = model
        self.agent = AgentDefinition.named(agent) if isinstance(agent, str) else agent
        # a bound on one model call for models without their own (ChatOpenAI has one)
        self.timeout = timeout

    def _invoke(self, messages: list) -> Any:
        if self.timeout is None:
            return self.model.invoke(messages)
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(self.model.invoke, messages).result(timeout=self.timeout)
        except FutureTimeout:
            raise TimeoutError(f"no answer within {self.timeout:g}s") from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a hung call is abandoned

    def _read(self, rel: str) -> str:
        path = self.agent.root / rel if rel else None
        return path.read_text() if path and path.is_file() else ""

    def system_prompt(self) -> str:
        task = self._read("prompts/task.md")
        parts = [self._read(self.agent.role), "## Contract\n" + self._read(self.agent.contract)]
        if task:
            parts.append("## Task\n" + task)
        parts.append("## Answer format\n" + FORMAT)
        return "\n\n".join(p.strip() for p in parts if p.strip())

    def user_prompt(self, request: CodeRequest) -> str:
        out = [f"## Scenario (attempt {request.attempt})\n```yaml\n{spec_yaml(request.spec)}```"]
        if request.plan:
            out.append("## Plan\n" + request.plan)
        if request.lessons:
            out.append("## Lessons from earlier tasks\n" + "\n".join(request.lessons))
        contract = {f"tests/{Path(t).name}" for t in self.agent.tests}
        shown = {p: c for p, c in request.files.items() if p not in contract}
        if shown:
            listing = "\n\n".join(
                f"### {p}\n```\n{_trim(c, MAX_FILE_CHARS)}\n```" for p, c in sorted(shown.items())
            )
            out.append("## Current files\n" + listing)
        if request.feedback:
            out.append(
                "## Test output of the last attempt (fix what fails)\n```\n"
                + _trim(request.feedback, MAX_FEEDBACK_CHARS)
                + "\n```"
            )
        out.append(FORMAT)
        return "\n\n".join(out)

    def propose(self, request: CodeRequest) -> Proposal:
        from langchain_core.messages import HumanMessage, SystemMessage

        system, user = self.system_prompt(), self.user_prompt(request)
        prompt = system + "\n\n" + user
        started = time.perf_counter()
        try:
            reply = self._invoke([SystemMessage(system), HumanMessage(user)])
        except Exception as err:  # timeouts, HTTP errors, rate limits: a failed attempt
            waited = time.perf_counter() - started
            return Proposal(
                error=f"the model call failed after {waited:.1f}s: {type(err).__name__}: {err}",
                tokens=len(prompt) // 4,
                prompt=prompt,
            )
        text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        usage = getattr(reply, "usage_metadata", None) or {}
        tokens = int(usage.get("total_tokens") or (len(prompt) + len(text)) // 4)
        try:
            parsed = parse_reply(text)
        except ValueError as err:
            return Proposal(error=f"malformed reply: {err}", tokens=tokens, prompt=prompt, raw=text)
        return Proposal(
            files=parsed.files, notes=parsed.notes, tokens=tokens, prompt=prompt, raw=text
        )


def spec_yaml(spec: ProblemSpec) -> str:
    """The spec as YAML (what the model sees); a plain dump if the pretty one fails."""
    try:
        return dump_spec_yaml(spec)
    except Exception:  # pragma: no cover - defensive: the prompt must still be built
        return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
