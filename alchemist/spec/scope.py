"""Resolving a rule's `scope` to concrete staff, days and shifts (trusted side).

The generated optimizer and simulator carry their own copy of this logic on purpose: the
checker must not share code with what it checks.
"""

from __future__ import annotations

from .model import WEEKDAYS, ProblemSpec, Scope, Staff

EVENING_START_MINUTE = 12 * 60


def staff_in_scope(spec: ProblemSpec, scope: Scope) -> list[Staff]:
    contracts = set(scope.contracts)
    return [
        s
        for s in spec.staff
        if (not scope.staff or s.id in scope.staff)
        and (not scope.skills or set(s.skills) & set(scope.skills))
        and (not contracts or s.contract in contracts)
    ]


def days_in_scope(spec: ProblemSpec, scope: Scope) -> list[int]:
    days = sorted(set(scope.days)) if scope.days else list(range(spec.horizon.days))
    if scope.weekdays:
        start = spec.horizon.start.weekday()
        wanted = {WEEKDAYS.index(w) for w in scope.weekdays}
        days = [d for d in days if (start + d) % 7 in wanted]
    return days


def shifts_in_scope(spec: ProblemSpec, scope: Scope) -> list[str]:
    return [s.id for s in spec.shifts if not scope.shifts or s.id in scope.shifts]


def weekends(spec: ProblemSpec) -> list[list[int]]:
    """Saturday/Sunday day pairs met in the horizon, in order (a lone edge day counts)."""
    start = spec.horizon.start.weekday()
    out: list[list[int]] = []
    for d in range(spec.horizon.days):
        wd = (start + d) % 7
        if wd == 5 or (wd == 6 and (d == 0 or not out or out[-1][-1] != d - 1)):
            out.append([d])
        elif wd == 6:
            out[-1].append(d)
    return out


def periods(n_days: int, period_days: int | None) -> list[range]:
    """Consecutive blocks of `period_days` from day 0; the last may be shorter."""
    if not period_days:
        return [range(n_days)]
    return [range(s, min(s + period_days, n_days)) for s in range(0, n_days, period_days)]


def default_load(spec: ProblemSpec, shift_id: str) -> float:
    s = spec.shift(shift_id)
    if s.is_night:
        return 3.0
    return 2.0 if s.start_minute >= EVENING_START_MINUTE else 1.0


def rest_successions(spec: ProblemSpec, hours: float) -> list[tuple[str, str, int]]:
    """(from, to, day offset) pairs whose rest gap is below `hours` (offsets 1..2)."""
    out = []
    for t in spec.shifts:
        end = t.start_minute + t.minutes
        for u in spec.shifts:
            for k in (1, 2):
                gap = k * 24 * 60 + u.start_minute - end
                if gap < hours * 60:
                    out.append((t.id, u.id, k))
    return out
