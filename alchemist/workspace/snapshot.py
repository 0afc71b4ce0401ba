"""Assemble a version's files and manifest from what a run produced.

    files, manifest = version_files(spec, optimizer_files=code, optimizer_result=result,
                                    optimizer_options=options)
    ws.record(files, manifest, "add nurse fatigue")

The options stored are the ones `replay` runs with, so pass the options actually used
(HiGHS is deterministic with threads=1 and a fixed seed, as long as the time limit is not
what stopped it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from alchemist.optimize.schemas import OptimizerOptions, OptimizerResult
from alchemist.spec import ProblemSpec, Schedule, dump_spec_yaml, schedule_to_csv

from .manifest import (
    RESULT_OPTIMIZER,
    RESULT_ROSTER,
    RESULT_SIM_SCHEDULE,
    RESULT_SIMULATION,
    SPEC_PATH,
    Manifest,
    runtime_versions,
)
from .repo import WorkspaceError

if TYPE_CHECKING:
    from alchemist.sandbox.base import Sandbox
    from alchemist.simulate.schemas import SimulationResult


def canonical_json(doc: Any) -> str:
    """Stable text for stored JSON: sorted keys, so equal results store equal bytes."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def optimizer_summary(result: OptimizerResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "assignments": len(result.assignments),
        "terms": dict(result.terms),
    }


def simulation_summary(result: SimulationResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "mode": result.mode,
        "seed": result.seed,
        "replications": len(result.replications),
        "aggregate": {k: v.model_dump(mode="json") for k, v in result.aggregate.items()},
    }


def simulation_config(result: SimulationResult) -> dict[str, Any]:
    """What `run_simulation` needs to reproduce `result` (its aggregate depends on these only)."""
    return {
        "replications": max(1, len(result.replications)),
        "seed": result.seed,
        "deterministic": result.mode == "deterministic",
    }


def _merge(files: dict[str, str | bytes], more: dict[str, str | bytes], who: str) -> None:
    for path, content in more.items():
        if path in files and files[path] != content:
            raise WorkspaceError(f"{who} writes {path!r}, which another part already wrote")
        files[path] = content


def version_files(
    spec: ProblemSpec,
    *,
    optimizer_files: dict[str, str] | None = None,
    optimizer_result: OptimizerResult | None = None,
    optimizer_options: OptimizerOptions | None = None,
    simulator_files: dict[str, str] | None = None,
    simulation_result: SimulationResult | None = None,
    simulated_schedule: Schedule | None = None,
    coders: dict[str, str] | None = None,
    tests: dict[str, Any] | None = None,
    mbr: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    extra_files: dict[str, str | bytes] | None = None,
    sandbox: Sandbox | None = None,
) -> tuple[dict[str, str | bytes], Manifest]:
    """Files (spec.yaml, each agent's code and tests, results/) and a manifest to record.

    `simulated_schedule` is the roster the simulation played (default: the optimizer's).
    `sandbox`: where the package versions are read (the runtime the code ran in).
    """
    files: dict[str, str | bytes] = {SPEC_PATH: dump_spec_yaml(spec)}
    options: dict[str, Any] = {}
    seeds: dict[str, int] = {}
    results: dict[str, Any] = {}
    used_coders: dict[str, str] = {}
    if optimizer_files:
        _merge(files, dict(optimizer_files), "the optimizer")
        used_coders["optimizer"] = "template"
    if simulator_files:
        _merge(files, dict(simulator_files), "the simulator")
        used_coders["simulator"] = "template"
    if optimizer_result is not None:
        opts = optimizer_options or OptimizerOptions()
        options["optimizer"] = opts.model_dump(mode="json")
        seeds["optimizer"] = opts.seed
        results["optimizer"] = optimizer_summary(optimizer_result)
        files[RESULT_OPTIMIZER] = canonical_json(optimizer_result.model_dump(mode="json"))
        if optimizer_result.has_roster:
            files[RESULT_ROSTER] = schedule_to_csv(spec, optimizer_result.schedule())
    if simulation_result is not None:
        schedule = simulated_schedule
        if schedule is None and optimizer_result is not None:
            schedule = optimizer_result.schedule()
        if schedule is None:
            raise WorkspaceError("a simulation result needs the roster it simulated")
        options["simulation"] = simulation_config(simulation_result)
        seeds["simulation"] = simulation_result.seed
        results["simulation"] = simulation_summary(simulation_result)
        files[RESULT_SIMULATION] = canonical_json(simulation_result.model_dump(mode="json"))
        files[RESULT_SIM_SCHEDULE] = canonical_json(schedule.model_dump(mode="json"))
    if extra_files:
        _merge(files, dict(extra_files), "extra_files")
    manifest = Manifest(
        spec_hash=spec.content_hash(),
        packages=runtime_versions(sandbox),
        coders={**used_coders, **(coders or {})},
        seeds=seeds,
        options=options,
        results=results,
        tests=dict(tests or {}),
        mbr=mbr,
        extra=dict(extra or {}),
    )
    return files, manifest
