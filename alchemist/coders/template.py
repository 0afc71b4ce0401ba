"""`TemplateCoder`: the offline coder. It compiles a spec through an agent's Jinja2 templates.

An agent folder (`agents/<name>/`) declares in `agent.yaml` which templates render to which
files and which constraint kinds its templates implement. A spec using a kind the agent has
no template for is refused with `NeedsLLM` instead of being silently dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel, Field

from alchemist.resources import data_dir
from alchemist.spec import ProblemSpec


class NeedsLLM(RuntimeError):
    """The offline coder has no template for part of the spec; an LLM coder is required."""


class AgentDefinition(BaseModel):
    """An agent as data: its role, prompts, templates and contract tests, from its folder."""

    name: str
    role: str = ""
    contract: str = ""
    supports: list[str] = Field(default_factory=list, description="constraint kinds templated")
    files: dict[str, str] = Field(default_factory=dict, description="output path -> template")
    static: dict[str, str] = Field(default_factory=dict, description="output path -> file copied")
    tests: list[str] = Field(default_factory=list, description="contract test files")
    root: Path = Path(".")

    @classmethod
    def load(cls, path: str | Path) -> AgentDefinition:
        root = Path(path)
        doc = yaml.safe_load((root / "agent.yaml").read_text())
        return cls.model_validate({**doc, "root": root})

    @classmethod
    def named(cls, name: str) -> AgentDefinition:
        return cls.load(data_dir("agents") / name)


class TemplateCoder:
    """Renders every file of an agent for a spec. Deterministic: same spec, same bytes."""

    name = "template"

    def __init__(self, agent: AgentDefinition | str, variant: str | None = None):
        self.agent = AgentDefinition.named(agent) if isinstance(agent, str) else agent
        self.variant = variant  # alternative formulation (used by MBR candidates)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.agent.root / "templates"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def unsupported(self, spec: ProblemSpec) -> list[str]:
        return sorted(spec.kinds() - set(self.agent.supports))

    def generate(self, spec: ProblemSpec, extra: dict[str, Any] | None = None) -> dict[str, str]:
        missing = self.unsupported(spec)
        if missing:
            raise NeedsLLM(
                f"the {self.agent.name} agent's templates do not implement {', '.join(missing)}; "
                "use an LLM coder (--coder llm) or remove those constraints"
            )
        kinds = sorted(spec.kinds())
        context = {"spec": spec, "kinds": kinds, "variant": self.variant, **(extra or {})}
        files = {
            out: self.env.get_template(tpl).render(**context)
            for out, tpl in self.agent.files.items()
        }
        for out, src in self.agent.static.items():
            files[out] = (self.agent.root / src).read_text()
        for test in self.agent.tests:
            files[f"tests/{Path(test).name}"] = (self.agent.root / test).read_text()
        return files
