"""What the agents remember (lessons from failed attempts) and what this machine gives them
(`doctor_report`: sandbox isolation, solver versions, LLM settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alchemist.aca import AttemptRow, Lesson, Memory, default_memory_path
from alchemist.doctor import doctor_report

__all__ = ["MemoryListing", "doctor_report", "list_memory"]


@dataclass
class MemoryListing:
    """The agents' memory at `path`: lessons and attempts, oldest first (empty when the
    database does not exist yet, `exists` False)."""

    path: Path
    exists: bool
    lessons: list[Lesson] = field(default_factory=list)
    attempts: list[AttemptRow] = field(default_factory=list)


def list_memory(db: str | Path | None = None) -> MemoryListing:
    """Lessons and attempts stored in the agents' memory (default: `$ALCHEMIST_MEMORY_DB`,
    else ~/.alchemist/memory.sqlite); a missing database is not created."""
    path = Path(db) if db is not None else default_memory_path()
    if not path.exists():
        return MemoryListing(path=path, exists=False)
    with Memory(path) as mem:
        return MemoryListing(path=path, exists=True, lessons=mem.lessons(), attempts=mem.attempts())
