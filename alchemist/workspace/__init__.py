"""Versioned artifacts: one git repository per project, a manifest per version, replay.

ws = Workspace.open(project_dir)
files, manifest = version_files(spec, optimizer_files=code, optimizer_result=result,
                                optimizer_options=options)
version = ws.record(files, manifest, "first solve")      # "v1"
ws.verify(version)                                         # [] when intact
replay(ws, version).match                                  # True: same results
"""

from .diff import ConstraintChange, FieldChange, KpiChange, SpecDiff, VersionDiff
from .manifest import Manifest, runtime_versions
from .replay import FieldCheck, ReplayReport, replay
from .repo import VersionInfo, Workspace, WorkspaceError
from .snapshot import version_files

__all__ = [
    "ConstraintChange",
    "FieldChange",
    "FieldCheck",
    "KpiChange",
    "Manifest",
    "ReplayReport",
    "SpecDiff",
    "VersionDiff",
    "VersionInfo",
    "Workspace",
    "WorkspaceError",
    "replay",
    "runtime_versions",
    "version_files",
]
