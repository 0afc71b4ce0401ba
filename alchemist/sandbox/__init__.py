"""Sandboxes for generated code: pick one with `get_sandbox()` (env `ALCHEMIST_SANDBOX`)."""

from __future__ import annotations

import os
from typing import Any

from alchemist.sandbox.base import (
    FileMap,
    LimitName,
    Limits,
    RunResult,
    Sandbox,
    SandboxUnavailable,
    write_files,
)
from alchemist.sandbox.docker import DockerSandbox
from alchemist.sandbox.local import LocalSandbox, SubprocessSandbox, leftover_processes

SANDBOX_KINDS = ("local", "docker", "unsafe")

__all__ = [
    "SANDBOX_KINDS",
    "DockerSandbox",
    "FileMap",
    "LimitName",
    "Limits",
    "LocalSandbox",
    "RunResult",
    "Sandbox",
    "SandboxUnavailable",
    "SubprocessSandbox",
    "get_sandbox",
    "leftover_processes",
    "write_files",
]


def get_sandbox(kind: str | None = None, **kwargs: Any) -> Sandbox:
    """The configured sandbox: `kind`, else $ALCHEMIST_SANDBOX, else "local".

    local  = bubblewrap (or unshare) isolation; refuses to run when neither works.
    docker = a container per run from sandbox_images/; needs a reachable Docker engine.
    unsafe = no isolation, rlimits only: the explicit opt-in for machines without either.
    Raises `SandboxUnavailable` with a one-line reason when the choice cannot work here.
    """
    chosen = (kind or os.environ.get("ALCHEMIST_SANDBOX") or "local").strip().lower()
    if chosen == "local":
        return LocalSandbox(**kwargs)
    if chosen == "docker":
        return DockerSandbox(**kwargs)
    if chosen == "unsafe":
        return SubprocessSandbox(**kwargs)
    raise SandboxUnavailable(
        f"unknown sandbox {chosen!r} (ALCHEMIST_SANDBOX): choose one of {', '.join(SANDBOX_KINDS)}"
    )
