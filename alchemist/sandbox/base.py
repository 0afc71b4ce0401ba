"""The `Sandbox` protocol: run an untrusted command over a set of files, JSON in and out.

Every piece of generated code runs through this interface, so the optimizer runner, the
agent loop and the tests never care which isolation is underneath.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

LimitName = Literal["wall", "cpu", "memory", "processes", "output", "file_size", "disk"]


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be provided here; the message says what to do."""


class Limits(BaseModel):
    """Resource limits for one run. Defaults suit a Pyomo+HiGHS solve of a ward roster."""

    wall_seconds: float = 120.0
    cpu_seconds: int = 600
    memory_mb: int = 4096
    processes: int = 64
    output_bytes: int = 8 * 1024 * 1024
    file_size_mb: int = 256
    # RLIMIT_FSIZE caps one file only; the work dir as a whole is watched by the runner.
    disk_mb: int = 1024
    max_files: int = 10_000
    tmp_mb: int = 128
    collect_mb: int = 64


class RunResult(BaseModel):
    """What happened: exit code, capped output, resource use and files the command wrote."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    limit_hit: LimitName | None = None
    files: dict[str, bytes] = Field(default_factory=dict)
    sandbox: str = ""
    warnings: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.limit_hit is None

    def explain(self) -> str:
        """One line for people: why the run failed (or 'ok')."""
        if self.limit_hit:
            return f"stopped: {self.limit_hit} limit hit (exit {self.exit_code})"
        if self.exit_code != 0:
            tail = (self.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            return f"exit code {self.exit_code}: {tail}"
        return "ok"


FileMap = dict[str, bytes | str]


@runtime_checkable
class Sandbox(Protocol):
    """Run `command` (argv, first element resolved inside the sandbox) in a fresh work dir.

    `files` maps relative paths to contents written into the work dir before the run;
    `collect` lists relative paths (files or directories) to read back into `RunResult.files`.
    """

    name: str

    def run(
        self,
        command: list[str],
        files: FileMap,
        limits: Limits | None = None,
        collect: list[str] | None = None,
    ) -> RunResult: ...


def write_files(root: Path, files: FileMap) -> None:
    """Write `files` under `root`, refusing paths that climb out of it."""
    root = root.resolve()
    for rel, content in files.items():
        target = (root / rel).resolve()
        if root != target and root not in target.parents:
            raise ValueError(f"file path {rel!r} escapes the work directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)
