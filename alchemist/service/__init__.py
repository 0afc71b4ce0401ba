"""The one façade used by the CLI, the HTTP API and the UI.

Everything a caller can do (load a scenario, have the Optimizer agent write and run its
model, check a roster, import a benchmark, simulate a roster, build agents into a versioned
project, list / diff / replay versions, read the agents' memory) goes through here, so the
front ends behave the same and show the same errors. Front ends import nothing below this
package: the types and errors they need are re-exported here.
"""

from __future__ import annotations

from alchemist.aca import AttemptRow, Lesson, LoopResult
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.simulate import SimulationResult
from alchemist.spec import ProblemSpec, Schedule, SpecError
from alchemist.workspace import ReplayReport, VersionDiff, VersionInfo, WorkspaceError

from .agents import MemoryListing, doctor_report, list_memory
from .build import (
    AGENTS,
    BuildError,
    BuildEvent,
    BuildEventFn,
    BuildPlan,
    BuildReport,
    build_agent,
    build_project,
    make_coders,
    plan_build,
    record_version,
    resolve_agents,
    run_build,
)
from .simulate import ReplicationProgress, simulate_roster, simulate_schedule
from .solve import (
    DEFAULT_SCENARIO,
    SCENARIOS_DIR,
    Progress,
    SolveReport,
    check_roster,
    export_curtois,
    import_curtois,
    load_roster,
    load_scenario,
    scenario_yaml,
    solve,
    solve_spec,
)
from .versions import VersionStatus, diff_versions, list_versions, open_project, replay_version

__all__ = [
    "AGENTS",
    "DEFAULT_SCENARIO",
    "SCENARIOS_DIR",
    "AttemptRow",
    "BuildError",
    "BuildEvent",
    "BuildEventFn",
    "BuildPlan",
    "BuildReport",
    "Lesson",
    "LoopResult",
    "MemoryListing",
    "OptimizerOptions",
    "OptimizerResult",
    "ProblemSpec",
    "Progress",
    "ReplayReport",
    "ReplicationProgress",
    "Schedule",
    "SimulationResult",
    "SolveReport",
    "SpecError",
    "VersionDiff",
    "VersionInfo",
    "VersionStatus",
    "WorkspaceError",
    "build_agent",
    "build_project",
    "check_roster",
    "diff_versions",
    "doctor_report",
    "export_curtois",
    "import_curtois",
    "list_memory",
    "list_versions",
    "load_roster",
    "load_scenario",
    "make_coders",
    "open_project",
    "plan_build",
    "record_version",
    "replay_version",
    "resolve_agents",
    "run_build",
    "scenario_yaml",
    "simulate_roster",
    "simulate_schedule",
    "solve",
    "solve_spec",
]
