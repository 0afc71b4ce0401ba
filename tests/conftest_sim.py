"""Helpers for the simulation tests: small specs per family, a plain subprocess sandbox, and
the generated simulator imported in-process (fast metamorphic and theory tests).

Not a conftest: import what you need (`from tests.conftest_sim import ...`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from alchemist.coders import TemplateCoder
from alchemist.sandbox.base import FileMap, Limits, RunResult, write_files
from alchemist.spec import ProblemSpec, Schedule


class PlainSandbox:
    """The Sandbox protocol over a plain subprocess in a temporary directory (no isolation).

    Picklable, so executor workers can use it. For tests only: generated code is trusted
    here because the templates are ours.
    """

    name = "plain"

    def run(
        self,
        command: list[str],
        files: FileMap,
        limits: Limits | None = None,
        collect: list[str] | None = None,
    ) -> RunResult:
        limits = limits or Limits()
        argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
        with tempfile.TemporaryDirectory(prefix="alchemist-sim-") as tmp:
            write_files(Path(tmp), files)
            started = time.perf_counter()
            try:
                proc = subprocess.run(
                    argv,
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                    timeout=limits.wall_seconds,
                    check=False,
                )
            except subprocess.TimeoutExpired as err:
                out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
                return RunResult(exit_code=-9, stdout=out, limit_hit="wall", sandbox=self.name)
            wall = time.perf_counter() - started
            got = {}
            for rel in collect or []:
                p = Path(tmp) / rel
                if p.is_file():
                    got[rel] = p.read_bytes()
        return RunResult(
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            wall_seconds=wall,
            files=got,
            sandbox=self.name,
        )


class ScriptedSandbox:
    """Ignores the command and answers with fixed stdout (malformed-output tests)."""

    name = "scripted"

    def __init__(self, stdout: str, exit_code: int = 0, limit_hit: str | None = None) -> None:
        self.stdout, self.exit_code, self.limit_hit = stdout, exit_code, limit_hit

    def run(self, command, files, limits=None, collect=None) -> RunResult:  # noqa: ANN001
        return RunResult(
            exit_code=self.exit_code,
            stdout=self.stdout,
            limit_hit=self.limit_hit,
            sandbox=self.name,
        )


# --------------------------------------------------------------------------- specs

SHIFTS = [
    {"id": "E", "start": "07:00", "minutes": 480},
    {"id": "L", "start": "15:00", "minutes": 480},
    {"id": "N", "start": "23:00", "minutes": 480, "is_night": True},
]


def ward_spec(
    days: int = 28, nurses: int = 24, simulation: dict | None = None, family: str = "ward"
) -> ProblemSpec:
    """Three 8-hour shifts; cover nurse 5/4/3 (min 4/3/2) and one senior per shift."""
    staff = [
        {"id": f"n{i:02d}", "skills": ["nurse", *(["senior"] if i % 4 == 0 else [])]}
        for i in range(nurses)
    ]
    rules: list[dict[str, Any]] = []
    for shift, low, pref in (("E", 4, 5), ("L", 3, 4), ("N", 2, 3)):
        rules.append(
            {"kind": "cover", "shift": shift, "skill": "nurse", "min": low, "preferred": pref}
        )
        rules.append({"kind": "cover", "shift": shift, "skill": "senior", "min": 1, "preferred": 1})
    return ProblemSpec.model_validate(
        {
            "name": f"test {family}",
            "horizon": {"start": "2025-01-06", "days": days},
            "shifts": SHIFTS,
            "skills": ["nurse", "senior"],
            "staff": staff,
            "constraints": rules,
            "simulation": {"family": family, **(simulation or {})},
        }
    )


def call_center_spec(
    days: int = 7, agents: int = 6, per_shift: int = 5, simulation: dict | None = None
) -> ProblemSpec:
    """One 24-hour shift; `agents` people of whom `per_shift` are rostered every day."""
    return ProblemSpec.model_validate(
        {
            "name": "test call center",
            "horizon": {"start": "2025-01-06", "days": days},
            "shifts": [{"id": "D", "start": "00:00", "minutes": 1440}],
            "skills": ["agent"],
            "staff": [{"id": f"a{i}", "skills": ["agent"]} for i in range(agents)],
            "constraints": [
                {"kind": "cover", "shift": "D", "skill": "agent", "preferred": per_shift}
            ],
            "simulation": {"family": "call_center", **(simulation or {})},
        }
    )


def every_day(spec: ProblemSpec, staff: list[str], shift: str) -> Schedule:
    return Schedule.model_validate(
        {
            "assignments": [
                {"staff": s, "day": d, "shift": shift}
                for d in range(spec.horizon.days)
                for s in staff
            ]
        }
    )


# --------------------------------------------------------------------------- generated code

_LOADED: dict[str, ModuleType] = {}
_DIRS: list[tempfile.TemporaryDirectory] = []


def render(spec: ProblemSpec) -> dict[str, str]:
    return TemplateCoder("simulator").generate(spec)


def write_workspace(files: dict[str, str], root: Path) -> Path:
    write_files(root, files)
    return root


def load_sim(spec: ProblemSpec) -> ModuleType:
    """The generated simulator/sim.py for `spec`, imported in-process under a unique name."""
    files = render(spec)
    code = files["simulator/sim.py"]
    key = hashlib.sha256(code.encode()).hexdigest()[:16]
    if key not in _LOADED:
        tmp = tempfile.TemporaryDirectory(prefix="alchemist-simmod-")
        _DIRS.append(tmp)
        path = Path(tmp.name) / "sim.py"
        path.write_text(code)
        mod_spec = importlib.util.spec_from_file_location(f"generated_sim_{key}", path)
        assert mod_spec and mod_spec.loader
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
        _LOADED[key] = module
    return _LOADED[key]


def simulate_in_process(spec: ProblemSpec, schedule: Schedule, **config: Any) -> dict:
    sim = load_sim(spec)
    cfg = {"replications": 1, "seed": 0, "deterministic": False, **config}
    return sim.simulate(spec.model_dump(mode="json"), schedule.model_dump(mode="json"), cfg)
