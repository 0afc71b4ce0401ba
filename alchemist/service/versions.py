"""A project's versions: list and verify them, diff two, replay one bit for bit.

Bad input (not a project, unknown version) raises WorkspaceError with a message for people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.workspace import (
    ReplayReport,
    VersionDiff,
    VersionInfo,
    Workspace,
    replay,
)


@dataclass
class VersionStatus:
    """One recorded version and what `verify` found wrong with it (empty: intact)."""

    info: VersionInfo
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def open_project(project: str | Path) -> Workspace:
    """An existing project's workspace; WorkspaceError when `project` is not one."""
    return Workspace.open(project, create=False)


def list_versions(project: str | Path) -> list[VersionStatus]:
    """Every version of `project`, oldest first, each verified (stored files, tags, tree)."""
    with open_project(project) as ws:
        return [VersionStatus(info, ws.verify(info.version)) for info in ws.versions()]


def diff_versions(project: str | Path, a: str, b: str) -> VersionDiff:
    """What changed from version `a` to `b` (v1, 1 or latest): spec rules, code, results."""
    with open_project(project) as ws:
        return ws.diff(a, b)


def replay_version(
    project: str | Path, version: str, progress: Callable[[str], None] | None = None
) -> ReplayReport:
    """Re-run `version`'s stored code on its stored spec and options in the sandbox and
    compare with its stored results; `report.match` is True when they agree bit for bit.

    `progress` is told what runs once the version is resolved.
    """
    with open_project(project) as ws:
        name = ws.resolve(version)
        if progress is not None:
            progress(f"replaying {name} in the sandbox")
        return replay(ws, name)
