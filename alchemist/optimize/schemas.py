"""Pydantic schemas of the optimizer contract: validated on the way out of the sandbox."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alchemist.spec import Assignment, Schedule

Status = Literal["optimal", "feasible", "infeasible", "time_limit", "error"]


class ConflictRow(BaseModel):
    component: str
    index: list[str] = Field(default_factory=list)
    amount: float = 0.0


class Conflict(BaseModel):
    """A hard rule that had to be relaxed for any roster to exist."""

    constraint_id: str
    kind: str = ""
    rows: list[ConflictRow] = Field(default_factory=list)
    violations: int = 0
    message: str = ""


class OptimizerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float = Field(default=60.0, gt=0)
    mip_gap: float = Field(default=1e-4, ge=0)
    threads: int = Field(default=1, ge=1)
    seed: int = 0
    explain: bool = True
    verbose: bool = False


class OptimizerResult(BaseModel):
    """What `python -m optimizer problem.json options.json` must print."""

    model_config = ConfigDict(extra="allow")
    status: Status
    objective: float | None = None
    bound: float | None = None
    assignments: list[Assignment] = Field(default_factory=list)
    solve_seconds: float = 0.0
    build_seconds: float = 0.0
    conflicts: list[Conflict] = Field(default_factory=list)
    conflicts_minimal: bool = False  # proved to be the fewest rules whose relaxation helps
    terms: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)  # the run went wrong, the roster stands

    @property
    def has_roster(self) -> bool:
        return self.status in ("optimal", "feasible")

    def schedule(self) -> Schedule:
        return Schedule(assignments=self.assignments)
