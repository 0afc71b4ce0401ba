"""`ProblemSpec`: the single source of truth both agents compile from.

Semantics of every constraint kind are defined here, in the docstrings, because three
independent parties implement them: the trusted checker (`alchemist.check`), the
optimizer templates and the simulator templates. When they disagree, this file decides.

Conventions shared by all kinds:
- Days are 0-based indexes into the horizon; `weekday(d)` comes from `horizon.start`.
- A staff member "works day d" when assigned any shift on d (at most one shift per day).
- `scope` filters which staff / days / shifts a rule applies to; empty lists mean "all".
  Staff are selected by id, skill or contract (a staff member is in scope when they match
  every non-empty filter).
- `hard: true` rules must hold. A soft rule (`hard: false`) adds `weight x amount` to the
  objective, where "amount" is stated per kind (always an integer or hours).
- `objective_weight` rules multiply the soft penalties of one term (kind) by a factor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .simulation import SimulationParams

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64)]
NonNeg = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# --------------------------------------------------------------------------- domain


class Horizon(_Strict):
    start: dt.date = Field(description="first day of the horizon (day 0)")
    days: int = Field(ge=1, le=3660, description="number of days planned")


class ShiftType(_Strict):
    id: Id
    name: str = ""
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    minutes: int = Field(gt=0, le=24 * 60)
    is_night: bool = False

    @property
    def start_minute(self) -> int:
        h, m = self.start.split(":")
        return int(h) * 60 + int(m)

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def end(self) -> str:
        e = (self.start_minute + self.minutes) % (24 * 60)
        return f"{e // 60:02d}:{e % 60:02d}"


class Contract(_Strict):
    id: Id
    description: str = ""
    hourly_cost: NonNeg = 0.0


class Staff(_Strict):
    id: Id
    name: str = ""
    skills: list[Id] = Field(default_factory=list)
    contract: Id | None = None


class Scope(_Strict):
    """Which staff / days / shifts a rule applies to. Empty = all."""

    staff: list[Id] = Field(default_factory=list)
    skills: list[Id] = Field(default_factory=list)
    contracts: list[Id] = Field(default_factory=list)
    shifts: list[Id] = Field(default_factory=list)
    days: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    weekdays: list[Weekday] = Field(default_factory=list)

    def is_all(self) -> bool:
        return not any(getattr(self, f) for f in type(self).model_fields)


# --------------------------------------------------------------------------- constraints


class _Rule(_Strict):
    id: str = Field(default="", description="stable name; filled as '<kind>-<n>' when empty")
    note: str = Field(default="", description="the analyst's words, kept for reports")
    scope: Scope = Field(default_factory=Scope)
    hard: bool = True
    weight: NonNeg = 1.0


class Cover(_Rule):
    """Staff on `shift` holding `skill` (any staff when null) on each in-scope day.

    `min` is a hard floor (violation: each missing person), `max` a hard cap (each extra
    person). `preferred` is soft: `under_weight` per person below it and `over_weight` per
    person above it (see `overstaffing_tolerance`). `hard`/`weight` are unused: cover
    carries its own weights. Days come from scope.days / scope.weekdays.
    """

    kind: Literal["cover"] = "cover"
    shift: Id
    skill: Id | None = None
    min: int = Field(default=0, ge=0)
    preferred: int = Field(ge=0)
    max: int | None = Field(default=None, ge=0)
    under_weight: NonNeg = 100.0
    over_weight: NonNeg = 1.0
    hard: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Cover:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"cover max ({self.max}) is below min ({self.min})")
        return self


class OverstaffingTolerance(_Rule):
    """Staff above `preferred` are tolerated up to floor(preferred * percent / 100) extra.

    For every cover requirement whose shift/day/skill is in scope: the cover's over-cover
    penalty counts only staff beyond the tolerance (within it they cost nothing); beyond it,
    hard: each person is a violation; soft: each person also costs `weight`.
    """

    kind: Literal["overstaffing_tolerance"] = "overstaffing_tolerance"
    percent: float = Field(ge=0, le=1000)


class _Period(_Rule):
    period_days: int | None = Field(
        default=None, ge=1, description="consecutive blocks from day 0; null = whole horizon"
    )


class MaxHours(_Period):
    """Hours worked by each in-scope staff member per period <= `hours`.

    Periods are consecutive blocks of `period_days` from day 0 (the last may be shorter).
    Soft amount: hours above the limit, per staff and period.
    """

    kind: Literal["max_hours"] = "max_hours"
    hours: NonNeg


class MinHours(_Period):
    """Hours worked per period >= `hours`; only complete periods are checked.

    Soft amount: hours below the limit, per staff and period.
    """

    kind: Literal["min_hours"] = "min_hours"
    hours: NonNeg


class MaxShifts(_Period):
    """Shifts worked per period <= `count` (only shifts of type `shift` when given).

    `scope.shifts` also restricts which shifts count. Soft amount: shifts above the limit.
    """

    kind: Literal["max_shifts"] = "max_shifts"
    count: int = Field(ge=0)
    shift: Id | None = None


class MaxConsecutiveDays(_Rule):
    """No run of more than `days` consecutive working days.

    Amount: every window of `days + 1` consecutive days all worked counts 1.
    """

    kind: Literal["max_consecutive_days"] = "max_consecutive_days"
    days: int = Field(ge=1)


class MinConsecutiveDays(_Rule):
    """Every block of working days has at least `days` days.

    Blocks touching the first or last day of the horizon are exempt (Curtois rule).
    Amount: for each too-short interior block of length s, `days - s`.
    """

    kind: Literal["min_consecutive_days"] = "min_consecutive_days"
    days: int = Field(ge=1)


class MinConsecutiveDaysOff(_Rule):
    """Every block of days off has at least `days` days; boundary blocks exempt.

    Amount: for each too-short interior off block of length s, `days - s`.
    """

    kind: Literal["min_consecutive_days_off"] = "min_consecutive_days_off"
    days: int = Field(ge=1)


class MinRestHours(_Rule):
    """At least `hours` between the end of one shift and the start of the next.

    Becomes forbidden successions: shift t on day d followed by u on day d+k (k >= 1) when
    the gap is shorter than `hours`. Amount: each such pair worked counts 1.
    """

    kind: Literal["min_rest_hours"] = "min_rest_hours"
    hours: NonNeg


class ForbiddenSuccession(_Rule):
    """Shift `to_shift` may not be worked the day after `from_shift`. Amount: each pair."""

    kind: Literal["forbidden_succession"] = "forbidden_succession"
    from_shift: Id
    to_shift: Id


class MaxConsecutiveNights(_Rule):
    """No run of more than `nights` consecutive days on night shifts (`is_night`).

    Amount: each window of `nights + 1` consecutive days all on nights counts 1.
    """

    kind: Literal["max_consecutive_nights"] = "max_consecutive_nights"
    nights: int = Field(ge=0)


class MaxWeekends(_Rule):
    """Weekends worked (Saturday or Sunday or both) per period of `period_weeks` <= `count`.

    Weekends are the Saturday/Sunday pairs met in the horizon (a lone edge day is a weekend
    too), numbered from the first; periods group `period_weeks` weekends (null = all).
    Amount: weekends above the limit, per staff and period.
    """

    kind: Literal["max_weekends"] = "max_weekends"
    count: int = Field(ge=0)
    period_weeks: int | None = Field(default=None, ge=1)


class CompleteWeekends(_Rule):
    """Work both days of a weekend or neither (only weekends with both days in the horizon).

    Amount: each weekend with exactly one day worked counts 1.
    """

    kind: Literal["complete_weekends"] = "complete_weekends"


class Unavailability(_Rule):
    """`staff` cannot work on `days` (any shift, or only `shift` when given).

    Amount: each assignment on such a day counts 1.
    """

    kind: Literal["unavailability"] = "unavailability"
    staff: Id
    days: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    shift: Id | None = None


class ShiftRequest(_Rule):
    """`staff` asks to work (`on`) or not to work (`on: false`) `shift` (any when null) on `day`.

    On: amount 1 when the staff member does not work exactly that shift (or is off, when
    shift is null). Off: amount 1 when they work that shift (any shift when null).
    Soft by default.
    """

    kind: Literal["shift_request"] = "shift_request"
    staff: Id
    day: int = Field(ge=0)
    shift: Id | None = None
    on: bool = True
    hard: bool = False


class MinSkillPerShift(_Rule):
    """At least `count` staff holding `skill` on every in-scope shift (scope.shifts) and day.

    Amount: each missing person per shift and day.
    """

    kind: Literal["min_skill_per_shift"] = "min_skill_per_shift"
    skill: Id
    count: int = Field(ge=1)


class Fatigue(_Rule):
    """Fatigue score over every window of `window_days` consecutive days <= `max_score`.

    score = sum of `loads[shift]` over worked shifts - `recovery` x days off in the window.
    Shifts missing from `loads` use 3 for night shifts, 2 for shifts starting at or after
    12:00 (evening) and 1 otherwise. Amount: score above max_score (per staff and window).
    """

    kind: Literal["fatigue"] = "fatigue"
    window_days: int = Field(ge=1)
    max_score: NonNeg
    loads: dict[Id, NonNeg] = Field(default_factory=dict)
    recovery: NonNeg = 0.0


class Fairness(_Rule):
    """Across in-scope staff, max - min of `metric` over the horizon <= `max_spread`.

    Metrics: nights (night shifts), weekends (weekends worked), hours. Amount: spread above
    max_spread (nights/weekends are counts, hours are hours).
    """

    kind: Literal["fairness"] = "fairness"
    metric: Literal["nights", "weekends", "hours"]
    max_spread: NonNeg


class Budget(_Rule):
    """Total staff cost (hours x contract hourly_cost) of in-scope staff <= `max_cost`.

    Amount: cost above the budget.
    """

    kind: Literal["budget"] = "budget"
    max_cost: NonNeg


class ObjectiveWeight(_Rule):
    """Multiplies the soft penalties of `term` by `weight`.

    `term` is a constraint kind (e.g. `shift_request`), `cover_under`, `cover_over`, or
    `cost`: the total staff cost, which is otherwise not in the objective.
    """

    kind: Literal["objective_weight"] = "objective_weight"
    term: str
    hard: bool = False


Constraint = Annotated[
    Cover
    | OverstaffingTolerance
    | MaxHours
    | MinHours
    | MaxShifts
    | MaxConsecutiveDays
    | MinConsecutiveDays
    | MinConsecutiveDaysOff
    | MinRestHours
    | ForbiddenSuccession
    | MaxConsecutiveNights
    | MaxWeekends
    | CompleteWeekends
    | Unavailability
    | ShiftRequest
    | MinSkillPerShift
    | Fatigue
    | Fairness
    | Budget
    | ObjectiveWeight,
    Field(discriminator="kind"),
]

CONSTRAINT_TYPES: dict[str, type[_Rule]] = {
    t.model_fields["kind"].default: t
    for t in (
        Cover,
        OverstaffingTolerance,
        MaxHours,
        MinHours,
        MaxShifts,
        MaxConsecutiveDays,
        MinConsecutiveDays,
        MinConsecutiveDaysOff,
        MinRestHours,
        ForbiddenSuccession,
        MaxConsecutiveNights,
        MaxWeekends,
        CompleteWeekends,
        Unavailability,
        ShiftRequest,
        MinSkillPerShift,
        Fatigue,
        Fairness,
        Budget,
        ObjectiveWeight,
    )
}
CONSTRAINT_KINDS: tuple[str, ...] = tuple(CONSTRAINT_TYPES)
OBJECTIVE_TERMS = (*CONSTRAINT_KINDS, "cover_under", "cover_over", "cost")


# --------------------------------------------------------------------------- the spec


class ProblemSpec(_Strict):
    """A staffing problem: horizon, shifts, skills, staff, contracts and rules."""

    name: str = "unnamed"
    description: str = ""
    horizon: Horizon
    shifts: list[ShiftType] = Field(min_length=1)
    skills: list[Id] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    staff: list[Staff] = Field(min_length=1)
    constraints: list[Constraint] = Field(default_factory=list)
    simulation: SimulationParams = Field(
        default_factory=SimulationParams, description="parameters for the Simulator agent"
    )

    @field_validator("constraints")
    @classmethod
    def _name_constraints(cls, rules: list[_Rule]) -> list[_Rule]:
        counts: Counter[str] = Counter()
        for rule in rules:
            counts[rule.kind] += 1  # type: ignore[attr-defined]
            if not rule.id:
                rule.id = f"{rule.kind}-{counts[rule.kind]}"  # type: ignore[attr-defined]
        dup = [k for k, n in Counter(r.id for r in rules).items() if n > 1]
        if dup:
            raise ValueError(f"constraint ids must be unique; repeated: {', '.join(dup[:5])}")
        return rules

    @model_validator(mode="after")
    def _references(self) -> ProblemSpec:
        errors = list(reference_errors(self))
        if errors:
            raise ValueError("; ".join(errors[:8]) + (" ..." if len(errors) > 8 else ""))
        return self

    # -- lookups used by every consumer ------------------------------------------
    def shift(self, shift_id: str) -> ShiftType:
        return next(s for s in self.shifts if s.id == shift_id)

    def date(self, day: int) -> dt.date:
        return self.horizon.start + dt.timedelta(days=day)

    def weekday(self, day: int) -> str:
        return WEEKDAYS[self.date(day).weekday()]

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: equal specs hash equal, whatever the YAML looked like."""
        doc = self.model_dump(mode="json")
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()

    def kinds(self) -> set[str]:
        return {c.kind for c in self.constraints}


def reference_errors(spec: ProblemSpec):
    """Yield one message per dangling reference (unknown shift, skill, staff, contract, day)."""
    shifts = {s.id for s in spec.shifts}
    skills = set(spec.skills)
    contracts = {c.id for c in spec.contracts}
    staff = {s.id for s in spec.staff}
    days = spec.horizon.days
    for label, ids in (
        ("shift", [s.id for s in spec.shifts]),
        ("staff", [s.id for s in spec.staff]),
        ("contract", [c.id for c in spec.contracts]),
        ("skill", spec.skills),
    ):
        for dup, n in Counter(ids).items():
            if n > 1:
                yield f"{label} id {dup!r} is defined {n} times"
    for s in spec.staff:
        for sk in s.skills:
            if sk not in skills:
                yield f"staff {s.id!r} has unknown skill {sk!r} (skills: {sorted(skills)})"
        if s.contract is not None and s.contract not in contracts:
            yield f"staff {s.id!r} has unknown contract {s.contract!r}"

    def check(where: str, kind: str, values, known, total=None):
        for v in values if isinstance(values, list | tuple) else [values]:
            if v is None:
                continue
            if total is not None:
                if not 0 <= v < total:
                    yield f"{where}: day {v} is outside the horizon (0..{total - 1})"
            elif v not in known:
                yield f"{where}: unknown {kind} {v!r}"

    for c in spec.constraints:
        where = f"constraint {c.id!r} ({c.kind})"
        sc = c.scope
        yield from check(where, "staff", sc.staff, staff)
        yield from check(where, "skill", sc.skills, skills)
        yield from check(where, "contract", sc.contracts, contracts)
        yield from check(where, "shift", sc.shifts, shifts)
        yield from check(where, "day", sc.days, None, days)
        for attr, kind, known in (
            ("shift", "shift", shifts),
            ("from_shift", "shift", shifts),
            ("to_shift", "shift", shifts),
            ("skill", "skill", skills),
            ("staff", "staff", staff),
        ):
            if hasattr(c, attr):
                yield from check(where, kind, getattr(c, attr), known)
        if isinstance(c, Unavailability):
            yield from check(where, "day", c.days, None, days)
        if isinstance(c, ShiftRequest):
            yield from check(where, "day", c.day, None, days)
        if isinstance(c, Fatigue):
            yield from check(where, "shift", list(c.loads), shifts)
        if isinstance(c, ObjectiveWeight) and c.term not in OBJECTIVE_TERMS:
            yield f"{where}: unknown term {c.term!r} (one of: {', '.join(OBJECTIVE_TERMS)})"


# --------------------------------------------------------------------------- schedules


class Assignment(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True)
    staff: str
    day: int = Field(ge=0)
    shift: str


class Schedule(_Strict):
    """A roster: who works which shift on which day (at most one shift per staff and day)."""

    assignments: list[Assignment] = Field(default_factory=list)

    def by_staff_day(self) -> dict[tuple[str, int], str]:
        return {(a.staff, a.day): a.shift for a in self.assignments}

    def sorted(self) -> Schedule:
        return Schedule(
            assignments=sorted(self.assignments, key=lambda a: (a.day, a.shift, a.staff))
        )


def staff_label(spec: ProblemSpec, staff_id: str) -> str:
    s = next((s for s in spec.staff if s.id == staff_id), None)
    return f"{s.name} ({s.id})" if s and s.name else staff_id


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower() or "x"
