"""Simple rosters for probing the simulator (tests, benchmarks, metamorphic variants).

`cover_roster` is not an optimizer: it fills each cover rule's preferred count round-robin
(least-loaded staff first, skill-specific rules before "anyone"), one shift per person and
day, ignoring every other rule. Good enough to have realistic staffing to play forward.
"""

from __future__ import annotations

from alchemist.spec import Assignment, ProblemSpec, Schedule
from alchemist.spec.model import Cover, MinSkillPerShift
from alchemist.spec.scope import days_in_scope


def cover_needs(spec: ProblemSpec, extra: int = 0) -> dict[tuple[int, str, str | None], int]:
    """(day, shift, skill) -> the largest preferred count (+ extra) among cover rules, and
    min_skill_per_shift counts."""
    need: dict[tuple[int, str, str | None], int] = {}

    def want(day: int, shift: str, skill: str | None, count: int) -> None:
        if day < spec.horizon.days:
            need[(day, shift, skill)] = max(need.get((day, shift, skill), 0), count)

    for c in spec.constraints:
        if isinstance(c, Cover):
            for d in days_in_scope(spec, c.scope):
                want(d, c.shift, c.skill, c.preferred + extra)
        elif isinstance(c, MinSkillPerShift):
            for d in days_in_scope(spec, c.scope):
                for shift in c.scope.shifts or [s.id for s in spec.shifts]:
                    want(d, shift, c.skill, c.count)
    return need


def cover_roster(spec: ProblemSpec, extra: int = 0) -> Schedule:
    """Round-robin roster meeting each cover rule's preferred count (+ extra) where staff allow."""
    order = {s.id: i for i, s in enumerate(spec.shifts)}
    need = cover_needs(spec, extra)
    if not need:  # no cover rule: everyone works five days a week on a fixed shift
        shifts = [s.id for s in spec.shifts]
        return Schedule(
            assignments=[
                Assignment(staff=s.id, day=d, shift=shifts[i % len(shifts)])
                for i, s in enumerate(spec.staff)
                for d in range(spec.horizon.days)
                if (d + i) % 7 < 5
            ]
        )
    load = {s.id: 0 for s in spec.staff}
    taken: dict[int, dict[str, str]] = {}
    out: list[Assignment] = []
    for day, shift, skill in sorted(
        need, key=lambda k: (k[0], k[2] is None, order[k[1]], k[2] or "")
    ):
        on_day = taken.setdefault(day, {})
        have = sum(
            1
            for s in spec.staff
            if on_day.get(s.id) == shift and (skill is None or skill in s.skills)
        )
        free = [
            s for s in spec.staff if s.id not in on_day and (skill is None or skill in s.skills)
        ]
        free.sort(key=lambda s: load[s.id])
        for s in free[: max(0, need[(day, shift, skill)] - have)]:
            on_day[s.id] = shift
            load[s.id] += 1
            out.append(Assignment(staff=s.id, day=day, shift=shift))
    return Schedule(assignments=sorted(out, key=lambda a: (a.day, order[a.shift], a.staff)))


def without(schedule: Schedule, staff: str, day: int) -> Schedule:
    """The roster with `staff`'s shift on `day` removed (a metamorphic probe)."""
    return Schedule(
        assignments=[a for a in schedule.assignments if (a.staff, a.day) != (staff, day)]
    )


def busiest_shift(schedule: Schedule) -> tuple[int, str]:
    """(day, shift) with the most staff rostered (first in (day, shift) order on ties)."""
    count: dict[tuple[int, str], int] = {}
    for a in schedule.assignments:
        count[(a.day, a.shift)] = count.get((a.day, a.shift), 0) + 1
    return max(sorted(count), key=lambda k: count[k])
