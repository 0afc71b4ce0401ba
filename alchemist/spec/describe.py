"""Plain-words descriptions of rules, for reports, infeasibility explanations and the UI."""

from __future__ import annotations

from .model import ProblemSpec, Scope

PERIOD_WORDS = {7: "per week", 14: "per fortnight", 28: "per 4 weeks", 1: "per day"}


def _period(days: int | None) -> str:
    if not days:
        return "over the horizon"
    return PERIOD_WORDS.get(days, f"per {days} days")


def _scope(scope: Scope) -> str:
    parts = []
    if scope.staff:
        shown = ", ".join(scope.staff[:4]) + (
            f" +{len(scope.staff) - 4}" if len(scope.staff) > 4 else ""
        )
        parts.append(f"staff {shown}")
    if scope.skills:
        parts.append("skill " + "/".join(scope.skills))
    if scope.contracts:
        parts.append("contract " + "/".join(scope.contracts))
    if scope.shifts:
        parts.append("shift " + "/".join(scope.shifts))
    if scope.weekdays:
        parts.append(",".join(w.capitalize() for w in scope.weekdays))
    if scope.days:
        ds = scope.days
        parts.append(f"day {ds[0]}" if len(ds) == 1 else f"{len(ds)} days from day {min(ds)}")
    return f" [{'; '.join(parts)}]" if parts else ""


def describe(rule, spec: ProblemSpec | None = None) -> str:  # noqa: C901 (one branch per kind)
    """One line such as 'at most 5 consecutive working days [contract full_time] (hard)'."""
    k = rule.kind
    if k == "cover":
        who = f"{rule.skill} staff" if rule.skill else "staff"
        bits = [f"{rule.preferred} {who} preferred on shift {rule.shift}"]
        if rule.min:
            bits.append(f"at least {rule.min}")
        if rule.max is not None:
            bits.append(f"at most {rule.max}")
        text = ", ".join(bits)
    elif k == "overstaffing_tolerance":
        text = f"overstaffing tolerated up to {rule.percent:g}% above preferred cover"
    elif k == "max_hours":
        text = f"at most {rule.hours:g} hours {_period(rule.period_days)}"
    elif k == "min_hours":
        text = f"at least {rule.hours:g} hours {_period(rule.period_days)}"
    elif k == "max_shifts":
        what = f"{rule.shift} shifts" if rule.shift else "shifts"
        text = f"at most {rule.count} {what} {_period(rule.period_days)}"
    elif k == "max_consecutive_days":
        text = f"at most {rule.days} consecutive working days"
    elif k == "min_consecutive_days":
        text = f"work blocks of at least {rule.days} days"
    elif k == "min_consecutive_days_off":
        text = f"at least {rule.days} consecutive days off"
    elif k == "min_rest_hours":
        text = f"at least {rule.hours:g} hours rest between shifts"
    elif k == "forbidden_succession":
        text = f"no {rule.to_shift} shift the day after a {rule.from_shift} shift"
    elif k == "max_consecutive_nights":
        text = f"at most {rule.nights} consecutive nights"
    elif k == "max_weekends":
        per = f"per {rule.period_weeks} weeks" if rule.period_weeks else "over the horizon"
        text = f"at most {rule.count} working weekends {per}"
    elif k == "complete_weekends":
        text = "work both weekend days or neither"
    elif k == "unavailability":
        day_words = ", ".join(_day(spec, d) for d in rule.days[:4]) + (
            " ..." if len(rule.days) > 4 else ""
        )
        text = f"{rule.staff} unavailable on {day_words}" + (
            f" for {rule.shift}" if rule.shift else ""
        )
    elif k == "shift_request":
        what = f"shift {rule.shift}" if rule.shift else "any shift"
        verb = "asks to work" if rule.on else "asks not to work"
        text = f"{rule.staff} {verb} {what} on {_day(spec, rule.day)}"
    elif k == "min_skill_per_shift":
        text = f"at least {rule.count} {rule.skill} on every shift"
    elif k == "fatigue":
        text = f"fatigue score over {rule.window_days} days at most {rule.max_score:g}"
    elif k == "fairness":
        text = f"spread of {rule.metric} between staff at most {rule.max_spread:g}"
    elif k == "budget":
        text = f"staff cost at most {rule.max_cost:,.0f}"
    elif k == "objective_weight":
        text = f"weight {rule.weight:g} on {rule.term}"
    else:  # pragma: no cover - every kind has a branch
        text = k
    if k in ("cover", "objective_weight"):
        mode = ""
    else:
        mode = " (hard)" if rule.hard else f" (soft, weight {rule.weight:g})"
    return f"{text}{_scope(rule.scope)}{mode}"


def _day(spec: ProblemSpec | None, day: int) -> str:
    if spec is None:
        return f"day {day}"
    return f"{spec.weekday(day).capitalize()} {spec.date(day).isoformat()}"
