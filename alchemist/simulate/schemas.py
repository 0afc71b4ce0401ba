"""JSON schemas of the simulator contract, validated on the way out of the sandbox.

`SimulatorOutput` is what the generated `python -m simulator` prints; its replications' KPIs
are checked against the family's KPI model (`CareKpis`, `CallCenterKpis`), which also
checks flow balance (arrivals = served + waiting + abandoned) and that rates are
probabilities. `SimulationResult` is what the runner returns and the CLI writes as JSON:
per-replication KPIs, the aggregate (means and 95% CIs, a function of the seed only) and,
apart from it, the timings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, model_validator

Count = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[FiniteFloat, Field(ge=0)]
Rate = Annotated[FiniteFloat, Field(ge=0, le=1)]
Family = Literal["ward", "icu", "call_center"]


class SimConfig(BaseModel):
    """The config document given to the simulator (`config.json`)."""

    model_config = ConfigDict(extra="forbid")

    replications: int = Field(default=1, ge=1)
    seed: int = Field(default=0, ge=0)
    deterministic: bool = False
    replication_offset: int = Field(default=0, ge=0, description="index of the first replication")
    detail: bool = Field(default=False, description="coverage counts in stochastic mode too")


class CommonKpis(BaseModel):
    """KPIs of one replication, every family. Extra KPIs are allowed (LLM-written models)."""

    model_config = ConfigDict(extra="allow")

    arrivals: Count = Field(description="arrivals (care episodes, calls) in the horizon")
    served: Count = Field(description="care given / calls answered (completed)")
    waiting: Count = Field(description="still queued when the horizon ends")
    abandoned: Count = Field(description="hung up, or care left undone (renege)")
    wait_mean_minutes: NonNegFloat = Field(
        description="mean wait before care starts; abandoned: until they left; still "
        "waiting: until the horizon end"
    )
    wait_p95_minutes: NonNegFloat = Field(description="95th percentile of the same waits")
    sojourn_mean_minutes: NonNegFloat = Field(description="mean arrival-to-completion, served")
    mean_in_system: NonNegFloat = Field(description="time-average number waiting or in care")
    arrival_rate_per_hour: NonNegFloat = Field(description="arrivals / hours of the horizon")
    utilization: NonNegFloat = Field(description="care time / staff time available for care")
    overtime_hours: NonNegFloat = Field(
        description="care continued past shift end + handover (hours)"
    )
    understaffed_staff_hours: NonNegFloat = Field(
        description="staff-hours below the cover target (preferred or min), late covers "
        "counting from their arrival; per shift, the largest shortfall among its rules"
    )
    understaffed_staff_hours_per_shift: NonNegFloat = Field(
        description="understaffed_staff_hours / shifts (day x shift) with a target"
    )
    p_shift_understaffed: Rate = Field(description="share of those shifts short at their start")
    understaffed_shifts: Count = Field(description="number of those shifts short at their start")
    sick_calls: Count = Field(description="rostered shifts not worked (sick)")
    late_covers: Count = Field(description="sick calls covered by a late replacement")
    fatigue_mean: NonNegFloat = Field(
        description="mean over staff of their mean care-time increase from fatigue (0.05 = 5%)"
    )
    fatigue_max: NonNegFloat = Field(description="the most fatigued staff member's mean increase")

    @model_validator(mode="after")
    def _flow_balance(self) -> CommonKpis:
        total = self.served + self.waiting + self.abandoned
        if self.arrivals != total:
            raise ValueError(
                f"flow balance broken: arrivals {self.arrivals} != served {self.served} + "
                f"waiting {self.waiting} + abandoned {self.abandoned} (= {total})"
            )
        if self.late_covers > self.sick_calls:
            raise ValueError(f"late_covers {self.late_covers} exceed sick_calls {self.sick_calls}")
        return self


class CareKpis(CommonKpis):
    """Ward and ICU: missed care (care not started within its acuity's window)."""

    missed_care: Count = Field(
        description="episodes whose care did not start within their acuity's window"
    )
    missed_care_rate: Rate = Field(description="missed_care / arrivals")


class CallCenterKpis(CommonKpis):
    """Call center: service level, abandonment and average speed of answer."""

    service_level: Rate = Field(
        description="answered within service_level_seconds / (answered + abandoned)"
    )
    abandonment_rate: Rate = Field(description="abandoned / (answered + abandoned)")
    asa_seconds: NonNegFloat = Field(description="average speed of answer (answered calls)")


KPI_MODELS: dict[str, type[CommonKpis]] = {
    "ward": CareKpis,
    "icu": CareKpis,
    "call_center": CallCenterKpis,
}


def kpi_names(family: str) -> list[str]:
    """The required KPI names of a family, in schema order."""
    return list(KPI_MODELS[family].model_fields)


class CoverageCount(BaseModel):
    """Staff present at the start of one cover rule's shift on one day (counted like the checker)."""

    model_config = ConfigDict(extra="forbid")

    constraint_id: str
    day: Count
    shift: str
    skill: str | None = None
    staffed: Count


class Replication(BaseModel):
    replication: Count
    kpis: dict[str, int | FiniteFloat]
    fatigue_by_nurse: dict[str, NonNegFloat] = Field(default_factory=dict)
    events: Count = 0
    coverage: list[CoverageCount] | None = None


class KpiStat(BaseModel):
    """Mean over replications with a Student-t 95% confidence interval (null with n < 2)."""

    mean: float
    std: float
    half_width: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int


class SimulatorOutput(BaseModel):
    """What `python -m simulator` prints (a batch of replications)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok"]
    family: Family
    mode: Literal["deterministic", "stochastic"]
    seed: Count
    replication_offset: Count = 0
    replications: list[Replication] = Field(min_length=1)
    aggregate: dict[str, KpiStat]
    fatigue_by_nurse: dict[str, NonNegFloat] = Field(default_factory=dict)
    timing: dict[str, Any] = Field(default_factory=dict)


class Timing(BaseModel):
    wall_seconds: float = 0.0
    simulator_seconds: float = Field(default=0.0, description="time inside the simulators")
    events: int = 0
    events_per_second: float = 0.0
    replications_per_second: float = 0.0
    chunks: int = 0
    executor: str = ""


class SimulationResult(BaseModel):
    """A simulation run: `status` ok or failed (with `error`, one or two lines for people)."""

    status: Literal["ok", "failed"]
    error: str | None = None
    scenario: str = ""
    family: Family | None = None
    mode: Literal["deterministic", "stochastic"] = "stochastic"
    seed: int = 0
    replications: list[Replication] = Field(default_factory=list)
    aggregate: dict[str, KpiStat] = Field(default_factory=dict)
    fatigue_by_nurse: dict[str, float] = Field(default_factory=dict)
    timing: Timing = Field(default_factory=Timing)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def coverage(self) -> list[CoverageCount]:
        """Deterministic mode: staffed counts per cover rule and day (empty otherwise)."""
        return list(self.replications[0].coverage or []) if self.replications else []

    def mean(self, kpi: str) -> float:
        return self.aggregate[kpi].mean


class OutputError(ValueError):
    """The simulator's output breaks the contract; the message names the place."""


def error_lines(err: ValidationError, prefix: str = "", limit: int = 4) -> str:
    """pydantic errors as `path: message` lines, paths like replications[2].kpis.arrivals."""
    lines = []
    for e in err.errors()[:limit]:
        path = prefix
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{path or '(top level)'}: {msg}")
    more = len(err.errors()) - limit
    if more > 0:
        lines.append(f"... and {more} more")
    return "; ".join(lines)


def parse_output(doc: Any, family: str, mode: str, first: int, count: int) -> SimulatorOutput:
    """Validate one batch's output: schema, the family's KPIs, and the replication indices."""
    if not isinstance(doc, dict):
        raise OutputError(f"expected a JSON object, got {type(doc).__name__}")
    if doc.get("status") == "error":
        raise OutputError(f"the simulator reported an error: {doc.get('error') or '(no message)'}")
    try:
        out = SimulatorOutput.model_validate(doc)
    except ValidationError as err:
        raise OutputError(error_lines(err)) from None
    if out.family != family:
        raise OutputError(f"family is {out.family!r}, expected {family!r}")
    if out.mode != mode:
        raise OutputError(f"mode is {out.mode!r}, expected {mode!r}")
    indices = [r.replication for r in out.replications]
    expected = list(range(first, first + count))
    if indices != expected:
        raise OutputError(
            f"replication indices {indices[:6]} do not match the requested {expected[:6]}"
        )
    model = KPI_MODELS[family]
    for i, rep in enumerate(out.replications):
        try:
            model.model_validate(rep.kpis)
        except ValidationError as err:
            raise OutputError(error_lines(err, prefix=f"replications[{i}].kpis")) from None
        if mode == "deterministic" and rep.coverage is None:
            raise OutputError(
                f"replications[{i}].coverage is missing (required in deterministic mode)"
            )
    return out
