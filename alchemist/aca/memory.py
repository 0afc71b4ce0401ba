"""The agents' memory: every attempt and every lesson, in one SQLite file.

    mem = Memory("memory.sqlite")
    mem.record_attempt(AttemptRow(...))
    mem.add_lesson(Lesson(...))
    mem.lessons_for("optimizer", kinds={"cover", "fatigue"}, signature="AssertionError: ...")

Lessons are retrieved by overlap of constraint kinds and by error signature, so a failure
seen on one scenario is shown to the coder on a later, similar task.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

MEMORY_ENV = "ALCHEMIST_MEMORY_DB"

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    task TEXT NOT NULL,
    agent TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    kinds TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    coder TEXT NOT NULL,
    error_signature TEXT NOT NULL,
    diff TEXT NOT NULL,
    outcome TEXT NOT NULL,
    notes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lessons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    task TEXT NOT NULL,
    agent TEXT NOT NULL,
    kinds TEXT NOT NULL,
    error_signature TEXT NOT NULL,
    what_failed TEXT NOT NULL,
    why TEXT NOT NULL,
    next_step TEXT NOT NULL
);
"""


def default_memory_path() -> Path:
    """$ALCHEMIST_MEMORY_DB, else ~/.alchemist/memory.sqlite (lessons outlive projects)."""
    env = os.environ.get(MEMORY_ENV, "").strip()
    return Path(env) if env else Path.home() / ".alchemist" / "memory.sqlite"


# ----------------------------------------------------------------- error signatures

_EXC = re.compile(
    r"^(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning))\b:?\s*(.*)$"
)
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.\-]+)+/?|[\w.\-]+\.py\b")
_NUM = re.compile(r"(?<![A-Za-z_\d.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_QUOTED = re.compile(r"'[^']{40,}'|\"[^\"]{40,}\"")
_FAILED = re.compile(r"^FAILED (\S+?)(?: - (.*))?$")


def normalize(message: str) -> str:
    """A message without what varies between runs: numbers, paths, addresses, long literals."""
    text = _HEX.sub("<hex>", message)
    text = _PATH.sub("<path>", text)
    text = _NUM.sub("<n>", text)
    text = _QUOTED.sub("<str>", text)
    return re.sub(r"\s+", " ", text).strip()[:200]


def error_signature(output: str) -> str:
    """'ExceptionType: normalized message' for the first failure in pytest/traceback output.

    Pytest's short summary ('FAILED tests/x.py::test_y - AssertionError: ...') is preferred;
    otherwise the last exception line of a traceback; otherwise the last non-empty line.
    """
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    # pytest's "E   SomeError: message" detail line carries the full message (-q trims it)
    detail = next((e for ln in lines if ln.startswith("E ") and (e := _exception(ln))), "")
    for ln in lines:
        m = _FAILED.match(ln)
        if m:
            test = m.group(1).split("::")[-1]
            exc = detail or _exception(m.group(2) or "")
            return f"{exc} in {test}" if exc else f"failed {test}"
    if detail:
        return detail
    for ln in reversed(lines):
        exc = _exception(ln)
        if exc:
            return exc
    return normalize(lines[-1]) if lines else ""


def _exception(line: str) -> str:
    m = _EXC.match(line.strip())
    if not m:
        return ""
    name = m.group(1).split(".")[-1]
    return f"{name}: {normalize(m.group(2))}".rstrip(": ").strip()


# ----------------------------------------------------------------- records


class AttemptRow(BaseModel):
    task: str
    agent: str
    spec_hash: str
    kinds: list[str] = Field(default_factory=list)
    attempt: int
    coder: str = ""
    error_signature: str = ""
    diff: str = ""
    outcome: str  # passed | failed | malformed
    notes: str = ""
    id: int | None = None
    ts: float = 0.0


class Lesson(BaseModel):
    """A structured reflection: what failed, why, and what to do next time."""

    task: str
    agent: str
    kinds: list[str] = Field(default_factory=list)
    error_signature: str = ""
    what_failed: str
    why: str
    next_step: str
    id: int | None = None
    ts: float = 0.0

    def text(self) -> str:
        return f"- {self.what_failed}. Why: {self.why}. Next time: {self.next_step}"


class Memory:
    """SQLite store of attempts and lessons; safe to share between threads of one process."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_memory_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_attempt(self, row: AttemptRow) -> int:
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO attempts (ts, task, agent, spec_hash, kinds, attempt, coder,"
                " error_signature, diff, outcome, notes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    row.task,
                    row.agent,
                    row.spec_hash,
                    json.dumps(sorted(row.kinds)),
                    row.attempt,
                    row.coder,
                    row.error_signature,
                    row.diff[:20_000],
                    row.outcome,
                    row.notes[:4000],
                ),
            )
            return int(cur.lastrowid or 0)

    def add_lesson(self, lesson: Lesson) -> int:
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO lessons (ts, task, agent, kinds, error_signature, what_failed, why,"
                " next_step) VALUES (?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    lesson.task,
                    lesson.agent,
                    json.dumps(sorted(lesson.kinds)),
                    lesson.error_signature,
                    lesson.what_failed[:1000],
                    lesson.why[:1000],
                    lesson.next_step[:2000],
                ),
            )
            return int(cur.lastrowid or 0)

    def attempts(self, task: str | None = None) -> list[AttemptRow]:
        sql = "SELECT id, ts, task, agent, spec_hash, kinds, attempt, coder, error_signature, diff, outcome, notes FROM attempts"
        args: tuple = ()
        if task is not None:
            sql += " WHERE task = ?"
            args = (task,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        keys = ("id", "ts", "task", "agent", "spec_hash", "kinds", "attempt", "coder")
        keys += ("error_signature", "diff", "outcome", "notes")
        return [
            AttemptRow(**{**dict(zip(keys, r, strict=True)), "kinds": json.loads(r[5])})
            for r in rows
        ]

    def lessons(self, agent: str | None = None) -> list[Lesson]:
        sql = "SELECT id, ts, task, agent, kinds, error_signature, what_failed, why, next_step FROM lessons"
        args: tuple = ()
        if agent is not None:
            sql += " WHERE agent = ?"
            args = (agent,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        keys = ("id", "ts", "task", "agent", "kinds", "error_signature", "what_failed", "why")
        keys += ("next_step",)
        return [
            Lesson(**{**dict(zip(keys, r, strict=True)), "kinds": json.loads(r[4])}) for r in rows
        ]

    def lessons_for(
        self,
        agent: str,
        kinds: Iterable[str],
        signature: str = "",
        limit: int = 5,
        exclude_task: str | None = None,
    ) -> list[Lesson]:
        """The most relevant lessons: same error signature first, then shared constraint kinds.

        `cover` is in nearly every spec, so sharing only it is too weak a link on its own.
        """
        wanted = set(kinds)
        scored = []
        for lesson in self.lessons(agent):
            if exclude_task is not None and lesson.task == exclude_task:
                continue
            shared = wanted & set(lesson.kinds)
            score = 10.0 * bool(signature and lesson.error_signature == signature)
            score += len(shared - {"cover"}) + 0.1 * ("cover" in shared)
            if score >= 1.0:
                scored.append((score, lesson.id or 0, lesson))
        scored.sort(key=lambda t: (-t[0], -t[1]))
        return [lesson for _, _, lesson in scored[:limit]]
