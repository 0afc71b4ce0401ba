"""The generic autonomous coding agent: a LangGraph loop plan -> write -> test -> reflect,
bounded by budgets, with a SQLite memory of attempts and lessons.

    from alchemist.aca import run_agent_loop, Budget, Memory
    result = run_agent_loop("optimizer", spec, memory=Memory(path))
"""

from .loop import (
    PYTEST,
    AgentLoop,
    AttemptRecord,
    Budget,
    LoopResult,
    LoopState,
    TemplateProposer,
    run_agent_loop,
    test_inputs,
)
from .memory import AttemptRow, Lesson, Memory, default_memory_path, error_signature, normalize

__all__ = [
    "PYTEST",
    "AgentLoop",
    "AttemptRecord",
    "AttemptRow",
    "Budget",
    "Lesson",
    "LoopResult",
    "LoopState",
    "Memory",
    "TemplateProposer",
    "default_memory_path",
    "error_signature",
    "normalize",
    "run_agent_loop",
    "test_inputs",
]
