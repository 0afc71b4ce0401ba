"""`SimulationParams`: the `simulation:` section of a scenario, read by the Simulator agent.

Every field has a documented default, so a scenario without the section still simulates.
Defaults depend on `family` (ward, icu, call_center): give only what differs, e.g.

    simulation:
      family: ward
      arrivals: {per_hour: [3, 2, 2, ...24 values], weekday_factor: {sat: 0.8, sun: 0.8}}
      absence: {sick_call_probability: 0.05}

What the parameters mean (units are minutes unless the name says otherwise):

- Demand is a non-homogeneous Poisson process: the rate in hour h of day d is
  `profile[h] x weekday_factor[weekday(d)] x scale`, where `profile` is
  `by_weekday[weekday]` when given, else `per_hour`. When `per_hour` is null the rate is
  derived from the cover rules: the preferred staff on duty at that hour, times
  `target_utilization`, times 60 / the mean care time (one staff member per shift when the
  spec has no cover rule). Arrivals happen between the first shift start of day 0 and the
  last shift end of the horizon.
- Each arrival (patient care episode, or call) belongs to a class drawn with probability
  `share`; its care (handle) time has mean `mean_minutes`, coefficient of variation `cv`
  and `distribution`. Care that has not started `max_wait_minutes` after the arrival is
  *missed care*; with `renege: true` it is also left undone (removed from the queue).
- Call centers: callers abandon after an exponential patience (`patience_mean_seconds`,
  null = infinitely patient); service level = share of answered-or-abandoned calls answered
  within `service_level_seconds`.
- Staff: everyone on the roster holding one of `server_skills` (empty = everyone) serves the
  queue. Each rostered shift is a sick call with `sick_call_probability`; a sick call is
  covered by a replacement `late_cover_delay_minutes` after the shift start with
  `late_cover_probability`. Handover: during the first `handover_minutes` of a shift the
  incoming staff receive report and take no new work, while the outgoing staff give it and
  still answer care; so each person takes work from start + handover to end + handover.
  Care in hand at that point is finished: overtime.
- Fatigue lengthens care times: the care time of a staff member is multiplied by
  `1 + per_extra_day x max(0, consecutive days - free_consecutive_days) + night (night shift)
  + per_extra_night x (consecutive nights - 1) + short_rest (rest since the previous shift
  < short_rest_hours)`. Replacements are rested (factor 1).
- Understaffing compares staff present on each cover rule's day, shift and skill with the
  rule's `preferred` (or `min`, see `staffing_target`).

This module imports nothing from `alchemist.spec.model` (which imports it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Family = Literal["ward", "icu", "call_center"]
FAMILIES: tuple[str, ...] = ("ward", "icu", "call_center")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", min_length=1, max_length=64)]
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
HourProfile = Annotated[list[NonNeg], Field(min_length=24, max_length=24)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Arrivals(_Strict):
    """Arrival rate (per hour) by hour of day and weekday."""

    per_hour: HourProfile | None = Field(
        default=None, description="24 mean arrivals per hour (hour 0..23); null = derive from cover"
    )
    by_weekday: dict[Weekday, HourProfile] = Field(
        default_factory=dict, description="a weekday's own 24-hour profile (replaces per_hour)"
    )
    weekday_factor: dict[Weekday, NonNeg] = Field(
        default_factory=dict, description="multiplier per weekday (missing = 1)"
    )
    scale: NonNeg = Field(default=1.0, description="multiplies every rate (what-if demand)")
    target_utilization: Annotated[float, Field(gt=0, le=2)] = Field(
        default=0.75, description="used only when per_hour is null"
    )
    layer_rate: Positive = Field(
        default=10.0,
        description="height (arrivals/hour) of each layer of the 2D Poisson process that "
        "arrivals are thinned from; keep it fixed when comparing demands (common random numbers)",
    )


class CareClass(_Strict):
    """An acuity class (ward / ICU) or a call type (call center)."""

    name: Id
    share: Positive = Field(description="relative frequency among arrivals")
    mean_minutes: Positive = Field(description="mean care / handle time")
    cv: NonNeg = Field(default=0.5, description="coefficient of variation (lognormal)")
    distribution: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    max_wait_minutes: NonNeg | None = Field(
        default=None, description="care not started within this is missed care (null = never)"
    )


class Absence(_Strict):
    sick_call_probability: Probability = Field(default=0.04, description="per rostered shift")
    late_cover_probability: Probability = Field(default=0.5, description="a sick call is covered")
    late_cover_delay_minutes: NonNeg = Field(default=120.0, description="after the shift start")


class FatigueEffect(_Strict):
    """How much longer care takes for a tired staff member (fractions of the care time)."""

    free_consecutive_days: Annotated[int, Field(ge=0)] = 3
    per_extra_day: NonNeg = 0.03
    night: NonNeg = 0.05
    per_extra_night: NonNeg = 0.03
    short_rest_hours: NonNeg = 11.0
    short_rest: NonNeg = 0.10


class CallCenter(_Strict):
    patience_mean_seconds: Positive | None = Field(
        default=180.0, description="exponential patience; null = callers never abandon"
    )
    service_level_seconds: NonNeg = 20.0
    service_level_target: Probability = 0.8


def _ward_classes() -> list[dict[str, Any]]:
    return [
        {"name": "low", "share": 0.5, "mean_minutes": 20, "cv": 0.5, "max_wait_minutes": 120},
        {"name": "medium", "share": 0.35, "mean_minutes": 35, "cv": 0.5, "max_wait_minutes": 60},
        {"name": "high", "share": 0.15, "mean_minutes": 50, "cv": 0.6, "max_wait_minutes": 30},
    ]


# Per-family defaults, merged under what the scenario gives (one level deep for sections).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "ward": {
        "handover_minutes": 15.0,
        "classes": _ward_classes(),
        "arrivals": {"target_utilization": 0.75},
        "absence": {
            "sick_call_probability": 0.04,
            "late_cover_probability": 0.5,
            "late_cover_delay_minutes": 120.0,
        },
        "fatigue": {},
    },
    "icu": {
        "handover_minutes": 20.0,
        "classes": [
            {
                "name": "standard",
                "share": 0.7,
                "mean_minutes": 40,
                "cv": 0.5,
                "max_wait_minutes": 20,
            },
            {
                "name": "critical",
                "share": 0.3,
                "mean_minutes": 60,
                "cv": 0.6,
                "max_wait_minutes": 10,
            },
        ],
        "arrivals": {"target_utilization": 0.7},
        "absence": {
            "sick_call_probability": 0.04,
            "late_cover_probability": 0.6,
            "late_cover_delay_minutes": 90.0,
        },
        "fatigue": {"per_extra_day": 0.04, "night": 0.06},
    },
    "call_center": {
        "handover_minutes": 0.0,
        "classes": [
            {
                "name": "call",
                "share": 1.0,
                "mean_minutes": 5,
                "cv": 1.0,
                "distribution": "exponential",
            },
        ],
        "arrivals": {"target_utilization": 0.85},
        "absence": {
            "sick_call_probability": 0.05,
            "late_cover_probability": 0.3,
            "late_cover_delay_minutes": 60.0,
        },
        "fatigue": {
            "per_extra_day": 0.01,
            "night": 0.02,
            "per_extra_night": 0.01,
            "short_rest": 0.03,
        },
    },
}


class SimulationParams(_Strict):
    """Parameters of the discrete-event simulation of a roster (see the module docstring)."""

    family: Family = Field(default="ward", description="which model: ward, icu or call_center")
    server_skills: list[Id] = Field(
        default_factory=list, description="skills of staff who serve the queue (empty = all)"
    )
    staffing_target: Literal["preferred", "min"] = Field(
        default="preferred", description="cover level below which a shift is understaffed"
    )
    handover_minutes: NonNeg = 15.0
    renege: bool = Field(default=False, description="missed care is left undone (dropped)")
    arrivals: Arrivals = Field(default_factory=Arrivals)
    classes: list[CareClass] = Field(
        default_factory=lambda: [CareClass(**c) for c in _ward_classes()], min_length=1
    )
    absence: Absence = Field(default_factory=Absence)
    fatigue: FatigueEffect = Field(default_factory=FatigueEffect)
    call_center: CallCenter = Field(default_factory=CallCenter)
    replications: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=30, description="default number of stochastic replications"
    )
    seed: Annotated[int, Field(ge=0)] = Field(default=0, description="default random seed")

    @model_validator(mode="before")
    @classmethod
    def _family_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        family = data.get("family", "ward")
        defaults = FAMILY_DEFAULTS.get(family) if isinstance(family, str) else None
        if defaults is None:
            return data  # pydantic reports the bad family
        merged = dict(data)
        for key, value in defaults.items():
            given = merged.get(key)
            if given is None and key not in merged:
                merged[key] = value
            elif isinstance(value, dict) and isinstance(given, dict):
                merged[key] = {**value, **given}
        return merged

    @field_validator("classes")
    @classmethod
    def _unique_classes(cls, classes: list[CareClass]) -> list[CareClass]:
        names = [c.name for c in classes]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"class names must be unique; repeated: {', '.join(dup)}")
        return classes

    def mean_care_minutes(self) -> float:
        total = sum(c.share for c in self.classes)
        return sum(c.share * c.mean_minutes for c in self.classes) / total


def simulation_errors(spec: Any) -> list[str]:
    """Dangling references from `spec.simulation` into the spec (unknown server skills)."""
    known = set(spec.skills)
    return [
        f"simulation.server_skills: unknown skill {s!r} (skills: {sorted(known)})"
        for s in spec.simulation.server_skills
        if s not in known
    ]
