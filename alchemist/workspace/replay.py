"""`replay`: run a version's stored code on its stored spec and options, compare bit for bit.

Compared: the optimizer's status, objective, bound, penalty terms and assignments (as a
set: a roster has no order), and the simulation's status and aggregate. Timings are not.
HiGHS gives the same answer for the same model with threads=1 and a fixed seed, unless the
time limit stopped it (then the answer depends on the machine's speed): the report says so.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from alchemist.optimize.runner import run_optimizer
from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.spec import Schedule, SpecError, parse_spec_yaml

from .manifest import (
    RESULT_OPTIMIZER,
    RESULT_SIM_SCHEDULE,
    RESULT_SIMULATION,
    SPEC_PATH,
    runtime_versions,
)
from .repo import Workspace, WorkspaceError

if TYPE_CHECKING:
    from alchemist.executor import Executor
    from alchemist.sandbox.base import Sandbox


class FieldCheck(BaseModel):
    component: str  # optimizer | simulation | spec
    field: str
    match: bool
    stored: str = ""  # short, for people
    replayed: str = ""


class ReplayReport(BaseModel):
    version: str
    checks: list[FieldCheck] = Field(default_factory=list)
    tampering: list[str] = Field(default_factory=list)  # from Workspace.verify
    notes: list[str] = Field(default_factory=list)  # why a mismatch may be expected
    packages: dict[str, list[str | None]] = Field(default_factory=dict)  # changed: [stored, now]
    error: str | None = None  # could not replay at all

    @property
    def match(self) -> bool:
        """Intact, replayed, and every compared field equal."""
        return (
            not self.tampering
            and self.error is None
            and bool(self.checks)
            and all(c.match for c in self.checks)
        )

    @property
    def mismatches(self) -> list[FieldCheck]:
        return [c for c in self.checks if not c.match]


def _show(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check(component: str, field: str, stored: Any, replayed: Any) -> FieldCheck:
    # == on floats parsed from JSON is bit equality (no NaN can come through the schemas)
    return FieldCheck(
        component=component,
        field=field,
        match=stored == replayed,
        stored=_show(stored),
        replayed=_show(replayed),
    )


def _roster_check(stored: OptimizerResult, replayed: OptimizerResult) -> FieldCheck:
    a = {(x.staff, x.day, x.shift) for x in stored.assignments}
    b = {(x.staff, x.day, x.shift) for x in replayed.assignments}
    same = a == b and len(stored.assignments) == len(replayed.assignments)
    return FieldCheck(
        component="optimizer",
        field="assignments",
        match=same,
        stored=f"{len(stored.assignments)} assignments",
        replayed=(
            f"{len(replayed.assignments)} assignments"
            + ("" if same else f" ({len(b - a)} new, {len(a - b)} gone)")
        ),
    )


def _code(files: dict[str, bytes], prefix: str) -> dict[str, str]:
    return {p: c.decode() for p, c in files.items() if p.startswith(prefix)}


def replay(
    ws: Workspace,
    version: str,
    sandbox: Sandbox | None = None,
    executor: Executor | None = None,
) -> ReplayReport:
    """Re-run `version` in the sandbox (default: `get_sandbox()`) and compare with its results.

    Raises WorkspaceError for an unknown version; everything else ends up in the report.
    A version whose stored files fail `verify` is not run: its results prove nothing.
    """
    name = ws.resolve(version)
    report = ReplayReport(version=name, tampering=ws.verify(name))
    if any(not p.startswith("working tree:") for p in report.tampering):
        report.error = "the stored version was modified; not replayed"
        return report
    files = ws.files(name)
    manifest = ws.manifest(name)
    try:
        spec = parse_spec_yaml(files[SPEC_PATH].decode(), f"{name}/{SPEC_PATH}")
    except (KeyError, SpecError, UnicodeDecodeError) as err:
        report.error = f"cannot read the stored spec: {err}"
        return report
    if sandbox is None:
        from alchemist.sandbox import get_sandbox

        try:
            sandbox = get_sandbox()
        except Exception as err:  # noqa: BLE001 - SandboxUnavailable and friends, said plainly
            report.error = f"no sandbox: {err}"
            return report

    if RESULT_OPTIMIZER in files:
        _replay_optimizer(report, spec, files, manifest.options.get("optimizer") or {}, sandbox)
    if RESULT_SIMULATION in files:
        _replay_simulation(
            report, spec, files, manifest.options.get("simulation") or {}, sandbox, executor
        )
    if not report.checks and report.error is None:
        report.error = f"{name} stores no results to replay"

    now = runtime_versions(sandbox)
    for pkg, was in sorted(manifest.packages.items()):
        if now.get(pkg) != was:
            report.packages[pkg] = [was, now.get(pkg)]
    if report.packages and report.mismatches:
        report.notes.append("package versions differ from the recorded ones (see packages)")
    return report


def _replay_optimizer(
    report: ReplayReport,
    spec: Any,
    files: dict[str, bytes],
    stored_options: dict[str, Any],
    sandbox: Sandbox,
) -> None:
    try:
        stored = OptimizerResult.model_validate_json(files[RESULT_OPTIMIZER])
        options = OptimizerOptions.model_validate(stored_options)
    except ValidationError as err:
        report.error = f"stored optimizer result or options unreadable: {err.errors()[0]['msg']}"
        return
    if options.threads != 1:
        report.notes.append(
            f"the version was solved with threads={options.threads}; "
            "HiGHS is only deterministic with threads=1"
        )
    if stored.status == "time_limit" or stored.solve_seconds >= 0.9 * options.time_limit:
        report.notes.append(
            "the stored solve stopped at (or near) its time limit: its answer depends on "
            "machine speed, so a mismatch is possible"
        )
    replayed = run_optimizer(spec, _code(files, "optimizer/"), options, sandbox)
    if replayed.status == "error":
        report.notes.append(f"replayed optimizer failed: {replayed.error}")
    report.checks += [
        _check("optimizer", "status", stored.status, replayed.status),
        _check("optimizer", "objective", stored.objective, replayed.objective),
        _check("optimizer", "bound", stored.bound, replayed.bound),
        _check("optimizer", "terms", stored.terms, replayed.terms),
        _roster_check(stored, replayed),
    ]


def _replay_simulation(
    report: ReplayReport,
    spec: Any,
    files: dict[str, bytes],
    config: dict[str, Any],
    sandbox: Sandbox,
    executor: Executor | None,
) -> None:
    from alchemist.simulate.runner import run_simulation
    from alchemist.simulate.schemas import SimulationResult

    try:
        stored = SimulationResult.model_validate_json(files[RESULT_SIMULATION])
        if RESULT_SIM_SCHEDULE in files:
            schedule = Schedule.model_validate_json(files[RESULT_SIM_SCHEDULE])
        else:
            schedule = OptimizerResult.model_validate_json(files[RESULT_OPTIMIZER]).schedule()
    except (KeyError, ValidationError) as err:
        report.error = f"stored simulation result or roster unreadable: {err}"
        return
    deterministic = bool(config.get("deterministic", stored.mode == "deterministic"))
    replayed = run_simulation(
        spec,
        schedule,
        replications=int(config.get("replications") or max(1, len(stored.replications))),
        seed=int(config.get("seed", stored.seed)),
        deterministic=deterministic,
        files=_code(files, "simulator/"),
        sandbox=sandbox,
        executor=executor,
    )
    if replayed.status != "ok":
        report.notes.append(f"replayed simulation failed: {replayed.error}")
    report.checks.append(_check("simulation", "status", stored.status, replayed.status))
    a = {k: v.model_dump(mode="json") for k, v in stored.aggregate.items()}
    b = {k: v.model_dump(mode="json") for k, v in replayed.aggregate.items()}
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    report.checks.append(
        FieldCheck(
            component="simulation",
            field="aggregate",
            match=not differ,
            stored=f"{len(a)} KPIs",
            replayed=f"{len(b)} KPIs" + (f"; differ: {', '.join(differ[:5])}" if differ else ""),
        )
    )


__all__ = ["FieldCheck", "ReplayReport", "WorkspaceError", "replay"]
