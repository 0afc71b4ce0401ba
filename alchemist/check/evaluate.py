"""The trusted schedule evaluator: `check(spec, schedule) -> CheckReport`.

Hand-written, plain Python, independent of any generated code. The semantics of every
constraint kind are the docstrings of `alchemist.spec.model`; where they leave a choice
open, this module decides, and the choice is written down here:

Roster structure (always hard):
- an assignment naming an unknown staff member or shift, or a day outside the horizon, is
  an `invalid_assignment` violation and is otherwise ignored;
- a second (third...) shift for the same person on the same day is a `one_shift_per_day`
  violation (amount: the extra shifts); the first one listed is the one evaluated.

Scopes. Staff filters (staff / skills / contracts) select the staff a rule applies to,
through `scope.staff_in_scope`. Shift filters select the shifts that count: a day
"worked" for a rule is a day with an in-scope shift. Day filters (days / weekdays):
- totals (hours, shifts, fairness metrics, budget, weekends worked) count only in-scope days;
- sequences (consecutive days / days off / nights, fatigue windows, successions, complete
  weekends) are counted when their *first* day is in scope;
- rules that name their own staff, days or shifts (`unavailability`, `shift_request`,
  `forbidden_succession`, `cover`'s shift, `min_skill_per_shift`'s skill) use those and
  ignore the matching scope filters; `unavailability` still honours `scope.shifts`.
`cover` counts in-scope staff holding `skill`; `overstaffing_tolerance` applies to a cover
when the cover's shift, day and skill pass its shift / day / skill filters.

Choices on open points:
- Several `overstaffing_tolerance` rules on one cover: the cover's over-cover penalty
  counts staff beyond the largest tolerance; each tolerance rule checks its own limit.
- `min_rest_hours` counts every pair from `scope.rest_successions` (offsets 1 and 2) whose
  *first* shift is in scope, whether or not the day in between is worked.
- `min_hours` with `period_days` checks only full-length periods; `period_days` null is one
  complete period (the whole horizon).
- `max_weekends` periods group `period_weeks` consecutive weekends of the horizon, from the
  first; a weekend is worked when an in-scope shift is worked on one of its in-scope days.
- `fatigue`: windows start on days 0..H-window_days (none when the horizon is shorter);
  shifts outside scope.shifts add no load and are not days off.
- `fairness` with fewer than two staff in scope has spread 0.
- `objective_weight` rules ignore `scope` and `hard`; their `weight` multiplies the term.
  The `cost` term (all staff, all days) appears only when such a rule names it.
- Penalty terms appear in `penalties` (possibly 0) for every soft rule in the spec.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby

from alchemist.spec.model import (
    WEEKDAYS,
    Budget,
    CompleteWeekends,
    Constraint,
    Cover,
    Fairness,
    Fatigue,
    ForbiddenSuccession,
    MaxConsecutiveDays,
    MaxConsecutiveNights,
    MaxHours,
    MaxShifts,
    MaxWeekends,
    MinConsecutiveDays,
    MinConsecutiveDaysOff,
    MinHours,
    MinRestHours,
    MinSkillPerShift,
    ObjectiveWeight,
    OverstaffingTolerance,
    ProblemSpec,
    Schedule,
    Scope,
    ShiftRequest,
    Unavailability,
)
from alchemist.spec.scope import (
    days_in_scope,
    default_load,
    periods,
    rest_successions,
    shifts_in_scope,
    staff_in_scope,
    weekends,
)

from .report import CheckReport, CoverCount, Penalty, Violation

EPS = 1e-9  # float amounts at or below this are treated as zero
OFF = -1  # grid value of a day off


def check(spec: ProblemSpec, schedule: Schedule) -> CheckReport:
    """Evaluate `schedule` against every rule of `spec`: hard violations and soft penalties."""
    with _gc_paused():
        return _Evaluator(spec, schedule).run()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building tens of thousands of small records.

    Nothing built here forms reference cycles; without the pause, full collections over a
    large spec's objects can double the run time on the biggest instances.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _fmt(x: float) -> str:
    r = round(x, 6)
    return str(int(r)) if r == int(r) else f"{r:.6f}".rstrip("0").rstrip(".")


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


class _Evaluator:
    """Holds the dense roster (staff x day -> shift index, -1 = off) and the results."""

    def __init__(self, spec: ProblemSpec, schedule: Schedule):
        self.spec = spec
        self.H = spec.horizon.days
        self.shift_ids = [s.id for s in spec.shifts]
        self.shift_index = {sid: i for i, sid in enumerate(self.shift_ids)}
        self.minutes = [s.minutes for s in spec.shifts]
        self.night = [s.is_night for s in spec.shifts]
        self.staff_ids = [s.id for s in spec.staff]
        self.staff_index = {sid: i for i, sid in enumerate(self.staff_ids)}
        self.labels = [f"{s.name} ({s.id})" if s.name else s.id for s in spec.staff]
        self.skills = [set(s.skills) for s in spec.staff]
        rates = {c.id: c.hourly_cost for c in spec.contracts}
        self.rate = [rates.get(s.contract, 0.0) if s.contract else 0.0 for s in spec.staff]
        start = spec.horizon.start
        self.dates = [_date_label(start + dt.timedelta(days=d)) for d in range(self.H)]

        self.violations: list[Violation] = []
        self.details: list[Penalty] = []
        self.penalties: dict[str, float] = {}
        self.coverage: list[CoverCount] = []
        self.multiplier: dict[str, float] = defaultdict(lambda: 1.0)
        self._count_cache: dict[tuple[str | None, tuple[int, ...] | None], list[list[int]]] = {}
        self._pairs: dict[int, dict[tuple[int, int], list[tuple[int, int]]]] = {}

        self.grid: list[list[int]] = [[OFF] * self.H for _ in self.staff_ids]
        self._fill_grid(schedule)

    # ------------------------------------------------------------------ roster structure
    def _fill_grid(self, schedule: Schedule) -> None:
        extra: dict[tuple[int, int], list[str]] = {}
        for a in schedule.assignments:
            s = self.staff_index.get(a.staff)
            t = self.shift_index.get(a.shift)
            problems = []
            if s is None:
                problems.append(f"unknown staff {a.staff!r}")
            if t is None:
                problems.append(f"unknown shift {a.shift!r}")
            if not 0 <= a.day < self.H:
                problems.append(f"day {a.day} outside the horizon (0..{self.H - 1})")
            if problems or s is None or t is None:
                self.violations.append(
                    Violation(
                        constraint_id="invalid_assignment",
                        kind="invalid_assignment",
                        staff=a.staff,
                        day=a.day,
                        shift=a.shift,
                        amount=1.0,
                        message=f"Assignment {a.staff} / day {a.day} / {a.shift}: "
                        + "; ".join(problems),
                    )
                )
                continue
            if self.grid[s][a.day] == OFF:
                self.grid[s][a.day] = t
            else:
                extra.setdefault((s, a.day), [self.shift_ids[self.grid[s][a.day]]]).append(a.shift)
        for (s, d), shifts in extra.items():
            self.violations.append(
                Violation(
                    constraint_id="one_shift_per_day",
                    kind="one_shift_per_day",
                    staff=self.staff_ids[s],
                    day=d,
                    shift=shifts[1],
                    amount=float(len(shifts) - 1),
                    message=f"{self.labels[s]} has {len(shifts)} shifts on {self.dates[d]} "
                    f"({', '.join(shifts)}); one shift per day (kept {shifts[0]})",
                )
            )

    # ------------------------------------------------------------------ emitting results
    def _hard(
        self,
        rule_id: str,
        kind: str,
        amount: float,
        message: str,
        staff: int | None = None,
        day: int | None = None,
        shift: str | None = None,
    ) -> None:
        self.violations.append(
            Violation(
                constraint_id=rule_id,
                kind=kind,
                staff=None if staff is None else self.staff_ids[staff],
                day=day,
                shift=shift,
                amount=float(amount),
                message=message,
            )
        )

    def _soft(
        self,
        rule_id: str,
        kind: str,
        term: str,
        amount: float,
        weight: float,
        message: str,
        staff: int | None = None,
        day: int | None = None,
        shift: str | None = None,
    ) -> None:
        w = weight * self.multiplier[term]
        penalty = w * amount
        self.penalties[term] = self.penalties.get(term, 0.0) + penalty
        self.details.append(
            Penalty(
                constraint_id=rule_id,
                kind=kind,
                term=term,
                staff=None if staff is None else self.staff_ids[staff],
                day=day,
                shift=shift,
                amount=float(amount),
                weight=float(w),
                penalty=float(penalty),
                message=message,
            )
        )

    def _emit(
        self,
        rule: Constraint,
        amount: float,
        message: str,
        staff: int | None = None,
        day: int | None = None,
        shift: str | None = None,
    ) -> None:
        """A hard rule records a violation; a soft one adds weight x amount to its kind's term."""
        if rule.hard:
            self._hard(rule.id, rule.kind, amount, message, staff, day, shift)
        else:
            self._soft(
                rule.id, rule.kind, rule.kind, amount, rule.weight, message, staff, day, shift
            )

    # ------------------------------------------------------------------ scope helpers
    def _staff(self, scope: Scope) -> list[int]:
        if not (scope.staff or scope.skills or scope.contracts):
            return list(range(len(self.staff_ids)))
        return [self.staff_index[s.id] for s in staff_in_scope(self.spec, scope)]

    def _day_mask(self, scope: Scope) -> list[bool] | None:
        """None when every day is in scope (the common, fast case)."""
        if not (scope.days or scope.weekdays):
            return None
        mask = [False] * self.H
        for d in days_in_scope(self.spec, scope):
            if d < self.H:
                mask[d] = True
        return mask

    def _shift_mask(self, scope: Scope) -> list[bool]:
        inside = set(shifts_in_scope(self.spec, scope))
        return [sid in inside for sid in self.shift_ids]

    def _row(self, s: int, dmask: list[bool] | None, smask: list[bool]) -> list[int]:
        """Staff s's roster with out-of-scope days and shifts turned into days off."""
        row = self.grid[s]
        if dmask is None and all(smask):
            return row
        return [
            g if g != OFF and smask[g] and (dmask is None or dmask[d]) else OFF
            for d, g in enumerate(row)
        ]

    def _worked(self, s: int, smask: list[bool]) -> list[bool]:
        return [g != OFF and smask[g] for g in self.grid[s]]

    def _counts(self, skill: str | None, staff: list[int] | None) -> list[list[int]]:
        """counts[day][shift] of staff (all, or the given ones) holding `skill` (any when None)."""
        key = (skill, None if staff is None else tuple(staff))
        cached = self._count_cache.get(key)
        if cached is not None:
            return cached
        counts = [[0] * len(self.shift_ids) for _ in range(self.H)]
        for s in range(len(self.staff_ids)) if staff is None else staff:
            if skill is not None and skill not in self.skills[s]:
                continue
            for d, g in enumerate(self.grid[s]):
                if g != OFF:
                    counts[d][g] += 1
        self._count_cache[key] = counts
        return counts

    def _successions(self, k: int) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """(shift on d, shift on d+k) -> [(staff, d)], built once per offset."""
        if k not in self._pairs:
            index: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
            for s, row in enumerate(self.grid):
                for d in range(self.H - k):
                    a, b = row[d], row[d + k]
                    if a != OFF and b != OFF:
                        index[(a, b)].append((s, d))
            self._pairs[k] = index
        return self._pairs[k]

    def _minutes_of(self, row: Sequence[int]) -> int:
        m = self.minutes
        return sum(m[g] for g in row if g != OFF)

    # ------------------------------------------------------------------ the run
    def run(self) -> CheckReport:
        rules = self.spec.constraints
        for r in rules:
            if isinstance(r, ObjectiveWeight):
                self.multiplier[r.term] *= r.weight
        for r in rules:  # every soft term present, in order of first appearance
            if isinstance(r, Cover):
                self.penalties.setdefault("cover_under", 0.0)
                self.penalties.setdefault("cover_over", 0.0)
            elif isinstance(r, ObjectiveWeight):
                if r.term == "cost":
                    self.penalties.setdefault("cost", 0.0)
            elif not r.hard:
                self.penalties.setdefault(r.kind, 0.0)

        tolerances = [r for r in rules if isinstance(r, OverstaffingTolerance)]
        handlers = {
            MaxHours: self._max_hours,
            MinHours: self._min_hours,
            MaxShifts: self._max_shifts,
            MaxConsecutiveDays: self._max_consecutive_days,
            MinConsecutiveDays: self._min_consecutive_days,
            MinConsecutiveDaysOff: self._min_consecutive_days_off,
            MinRestHours: self._min_rest_hours,
            ForbiddenSuccession: self._forbidden_succession,
            MaxConsecutiveNights: self._max_consecutive_nights,
            MaxWeekends: self._max_weekends,
            CompleteWeekends: self._complete_weekends,
            Unavailability: self._unavailability,
            ShiftRequest: self._shift_request,
            MinSkillPerShift: self._min_skill_per_shift,
            Fatigue: self._fatigue,
            Fairness: self._fairness,
            Budget: self._budget,
        }
        for r in rules:
            if isinstance(r, Cover):
                self._cover(r, tolerances)
            elif isinstance(r, OverstaffingTolerance | ObjectiveWeight):
                continue  # applied through cover / the multipliers
            else:
                handlers[type(r)](r)  # type: ignore[operator]

        cost_rule = next(
            (r for r in rules if isinstance(r, ObjectiveWeight) and r.term == "cost"), None
        )
        if cost_rule is not None:
            total = sum(
                self._minutes_of(self.grid[s]) / 60 * self.rate[s]
                for s in range(len(self.staff_ids))
            )
            if total > EPS:
                self._soft(
                    cost_rule.id,
                    cost_rule.kind,
                    "cost",
                    total,
                    1.0,
                    f"Total staff cost {total:,.2f}",
                )

        return CheckReport(
            hard_violations=self.violations,
            penalties=self.penalties,
            details=self.details,
            objective=sum(self.penalties.values()),
            coverage=self.coverage,
        )

    # ------------------------------------------------------------------ cover
    def _cover(self, c: Cover, tolerances: list[OverstaffingTolerance]) -> None:
        t = self.shift_index[c.shift]
        scope = c.scope
        staff = self._staff(scope) if (scope.staff or scope.skills or scope.contracts) else None
        counts = self._counts(c.skill, staff)
        who = c.shift + (f" ({c.skill})" if c.skill else "")
        # tolerance rules that can apply to this cover, with their extra-staff allowance
        tols = [
            (r, self._day_mask(r.scope), math.floor(c.preferred * r.percent / 100 + EPS))
            for r in tolerances
            if (not r.scope.shifts or c.shift in r.scope.shifts)
            and (not r.scope.skills or c.skill in r.scope.skills)
        ]
        for d in days_in_scope(self.spec, scope):
            if d >= self.H:
                continue
            n = counts[d][t]
            self.coverage.append(
                CoverCount(
                    constraint_id=c.id,
                    day=d,
                    shift=c.shift,
                    skill=c.skill,
                    assigned=n,
                    min=c.min,
                    preferred=c.preferred,
                    max=c.max,
                )
            )
            when = self.dates[d]
            if n < c.min:
                self._hard(
                    c.id,
                    c.kind,
                    c.min - n,
                    f"Only {_people(n)} on {who} on {when} (min {c.min})",
                    day=d,
                    shift=c.shift,
                )
            if c.max is not None and n > c.max:
                self._hard(
                    c.id,
                    c.kind,
                    n - c.max,
                    f"{_people(n)} on {who} on {when} (max {c.max})",
                    day=d,
                    shift=c.shift,
                )
            if n < c.preferred:
                self._soft(
                    c.id,
                    c.kind,
                    "cover_under",
                    c.preferred - n,
                    c.under_weight,
                    f"{who} on {when} is {c.preferred - n} short: {n} of preferred {c.preferred}",
                    day=d,
                    shift=c.shift,
                )
            elif n > c.preferred:
                over = n - c.preferred
                applying = [(r, tol) for r, mask, tol in tols if mask is None or mask[d]]
                allowed = max((tol for _, tol in applying), default=0)
                if over > allowed:
                    extra = "" if not applying else f" beyond a tolerance of {allowed}"
                    self._soft(
                        c.id,
                        c.kind,
                        "cover_over",
                        over - allowed,
                        c.over_weight,
                        f"{who} on {when} has {over - allowed} extra{extra}: "
                        f"{n} for preferred {c.preferred}",
                        day=d,
                        shift=c.shift,
                    )
                for r, tol in applying:
                    if over > tol:
                        self._emit(
                            r,
                            over - tol,
                            f"{who} on {when} is overstaffed by {over - tol} beyond the "
                            f"{_fmt(r.percent)}% tolerance: {n} for preferred {c.preferred} "
                            f"(at most {c.preferred + tol})",
                            day=d,
                            shift=c.shift,
                        )

    def _min_skill_per_shift(self, r: MinSkillPerShift) -> None:
        scope = r.scope
        staff = self._staff(scope) if (scope.staff or scope.skills or scope.contracts) else None
        counts = self._counts(r.skill, staff)
        shifts = [self.shift_index[t] for t in shifts_in_scope(self.spec, scope)]
        for d in days_in_scope(self.spec, scope):
            if d >= self.H:
                continue
            for t in shifts:
                n = counts[d][t]
                if n < r.count:
                    self._emit(
                        r,
                        r.count - n,
                        f"{self.shift_ids[t]} on {self.dates[d]} has {_people(n)} "
                        f"with skill {r.skill} (min {r.count})",
                        day=d,
                        shift=self.shift_ids[t],
                    )

    # ------------------------------------------------------------------ totals per period
    def _period_label(self, p: range, whole: bool) -> str:
        if whole:
            return "over the horizon"
        return f"from {self.dates[p.start]} to {self.dates[p.stop - 1]}"

    def _hours_rule(self, r: MaxHours | MinHours, upper: bool) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        blocks = periods(self.H, r.period_days)
        whole = r.period_days is None
        if not upper:  # minimums: only complete periods
            blocks = [p for p in blocks if whole or len(p) == r.period_days]
        for s in self._staff(r.scope):
            row = self._row(s, dmask, smask)
            for p in blocks:
                worked = self._minutes_of(row[p.start : p.stop]) / 60
                gap = worked - r.hours if upper else r.hours - worked
                if gap > EPS:
                    verb = "more than the max" if upper else "less than the min"
                    self._emit(
                        r,
                        gap,
                        f"{self.labels[s]} works {_fmt(worked)} h {self._period_label(p, whole)}, "
                        f"{_fmt(gap)} h {verb} of {_fmt(r.hours)} h",
                        staff=s,
                        day=p.start,
                    )

    def _max_hours(self, r: MaxHours) -> None:
        self._hours_rule(r, upper=True)

    def _min_hours(self, r: MinHours) -> None:
        self._hours_rule(r, upper=False)

    def _max_shifts(self, r: MaxShifts) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        t = None if r.shift is None else self.shift_index[r.shift]
        if t is not None and not smask[t]:
            return  # the only counted shift is excluded by scope.shifts
        whole = r.period_days is None
        what = f"{r.shift} shifts" if r.shift else "shifts"
        for s in self._staff(r.scope):
            row = self._row(s, dmask, smask)
            for p in periods(self.H, r.period_days):
                part = row[p.start : p.stop]
                n = part.count(t) if t is not None else len(part) - part.count(OFF)
                if n > r.count:
                    self._emit(
                        r,
                        n - r.count,
                        f"{self.labels[s]} works {n} {what} {self._period_label(p, whole)} "
                        f"(max {r.count})",
                        staff=s,
                        day=p.start,
                        shift=r.shift,
                    )

    # ------------------------------------------------------------------ sequences
    def _max_run(
        self,
        r: MaxConsecutiveDays | MaxConsecutiveNights,
        limit: int,
        series_of: Callable[[int], list[bool]],
        noun: str,
    ) -> None:
        """Runs of True longer than `limit`: each window of limit+1 days counts 1."""
        dmask = self._day_mask(r.scope)
        for s in self._staff(r.scope):
            for start, length in _runs(series_of(s), True):
                if length <= limit:
                    continue
                starts = range(start, start + length - limit)
                n = len(starts) if dmask is None else sum(dmask[d] for d in starts)
                if n:
                    self._emit(
                        r,
                        n,
                        f"{self.labels[s]} works {length} consecutive {noun} from "
                        f"{self.dates[start]} (max {limit})",
                        staff=s,
                        day=start,
                    )

    def _max_consecutive_days(self, r: MaxConsecutiveDays) -> None:
        smask = self._shift_mask(r.scope)
        self._max_run(r, r.days, lambda s: self._worked(s, smask), "days")

    def _max_consecutive_nights(self, r: MaxConsecutiveNights) -> None:
        smask = self._shift_mask(r.scope)
        nights = [m and n for m, n in zip(smask, self.night, strict=True)]
        self._max_run(r, r.nights, lambda s: self._worked(s, nights), "nights")

    def _min_blocks(self, r: MinConsecutiveDays | MinConsecutiveDaysOff, on: bool) -> None:
        """Interior blocks (not touching day 0 or day H-1) shorter than `r.days`."""
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        for s in self._staff(r.scope):
            for start, length in _runs(self._worked(s, smask), on):
                if start == 0 or start + length >= self.H or length >= r.days:
                    continue
                if dmask is not None and not dmask[start]:
                    continue
                what = "day" if length == 1 else "days"
                text = (
                    f"works only {length} {what} in a row"
                    if on
                    else f"has only {length} {what} off in a row"
                )
                self._emit(
                    r,
                    r.days - length,
                    f"{self.labels[s]} {text} from {self.dates[start]} (min {r.days})",
                    staff=s,
                    day=start,
                )

    def _min_consecutive_days(self, r: MinConsecutiveDays) -> None:
        self._min_blocks(r, on=True)

    def _min_consecutive_days_off(self, r: MinConsecutiveDaysOff) -> None:
        self._min_blocks(r, on=False)

    def _forbidden_succession(self, r: ForbiddenSuccession) -> None:
        a, b = self.shift_index[r.from_shift], self.shift_index[r.to_shift]
        hits = self._successions(1).get((a, b), [])
        if not hits:
            return
        staff = set(self._staff(r.scope))
        dmask = self._day_mask(r.scope)
        for s, d in hits:
            if s in staff and (dmask is None or dmask[d]):
                self._emit(
                    r,
                    1,
                    f"{self.labels[s]} works {r.to_shift} on {self.dates[d + 1]} right after "
                    f"{r.from_shift} on {self.dates[d]} (forbidden succession)",
                    staff=s,
                    day=d,
                    shift=r.to_shift,
                )

    def _min_rest_hours(self, r: MinRestHours) -> None:
        smask = self._shift_mask(r.scope)
        staff = set(self._staff(r.scope))
        dmask = self._day_mask(r.scope)
        shifts = self.spec.shifts
        hits: list[tuple[int, int, int, int, int]] = []
        for f, u, k in rest_successions(self.spec, r.hours):
            a, b = self.shift_index[f], self.shift_index[u]
            if not smask[a]:
                continue
            for s, d in self._successions(k).get((a, b), []):
                if s in staff and (dmask is None or dmask[d]):
                    hits.append((s, d, k, a, b))
        for s, d, k, a, b in sorted(hits):
            gap = (
                k * 24 * 60 + shifts[b].start_minute - shifts[a].start_minute - self.minutes[a]
            ) / 60
            self._emit(
                r,
                1,
                f"{self.labels[s]} rests {_fmt(gap)} h between {self.shift_ids[a]} on "
                f"{self.dates[d]} and {self.shift_ids[b]} on {self.dates[d + k]} "
                f"(min {_fmt(r.hours)} h)",
                staff=s,
                day=d,
                shift=self.shift_ids[b],
            )

    # ------------------------------------------------------------------ weekends
    def _weekends_worked(self, s: int, dmask: list[bool] | None, smask: list[bool]) -> list[bool]:
        row = self.grid[s]
        return [
            any(row[d] != OFF and smask[row[d]] and (dmask is None or dmask[d]) for d in wk)
            for wk in weekends(self.spec)
        ]

    def _max_weekends(self, r: MaxWeekends) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        wks = weekends(self.spec)
        size = r.period_weeks or max(len(wks), 1)
        for s in self._staff(r.scope):
            worked = self._weekends_worked(s, dmask, smask)
            for first in range(0, len(wks), size):
                n = sum(worked[first : first + size])
                if n <= r.count:
                    continue
                group = wks[first : first + size]
                where = (
                    "over the horizon"
                    if r.period_weeks is None
                    else f"in the {len(group)} weekends from {self.dates[group[0][0]]}"
                )
                self._emit(
                    r,
                    n - r.count,
                    f"{self.labels[s]} works {n} weekends {where} (max {r.count})",
                    staff=s,
                    day=group[0][0],
                )

    def _complete_weekends(self, r: CompleteWeekends) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        pairs = [wk for wk in weekends(self.spec) if len(wk) == 2]
        for s in self._staff(r.scope):
            row = self.grid[s]
            for sat, sun in pairs:
                if dmask is not None and not dmask[sat]:
                    continue
                a = row[sat] != OFF and smask[row[sat]]
                b = row[sun] != OFF and smask[row[sun]]
                if a != b:
                    self._emit(
                        r,
                        1,
                        f"{self.labels[s]} works only {'Saturday' if a else 'Sunday'} of the "
                        f"weekend of {self.dates[sat]} (complete weekends)",
                        staff=s,
                        day=sat if a else sun,
                    )

    # ------------------------------------------------------------------ per person and day
    def _unavailability(self, r: Unavailability) -> None:
        s = self.staff_index[r.staff]
        smask = self._shift_mask(r.scope)
        only = None if r.shift is None else self.shift_index[r.shift]
        row = self.grid[s]
        for d in sorted(set(r.days)):
            g = row[d] if d < self.H else OFF
            if g != OFF and smask[g] and (only is None or g == only):
                self._emit(
                    r,
                    1,
                    f"{self.labels[s]} works {self.shift_ids[g]} on {self.dates[d]} but is "
                    f"unavailable" + ("" if only is None else f" for {r.shift}"),
                    staff=s,
                    day=d,
                    shift=self.shift_ids[g],
                )

    def _shift_request(self, r: ShiftRequest) -> None:
        s = self.staff_index[r.staff]
        g = self.grid[s][r.day] if r.day < self.H else OFF
        worked = None if g == OFF else self.shift_ids[g]
        who, when = self.labels[s], self.dates[r.day]
        doing = "is off" if worked is None else f"works {worked}"
        if r.on:
            if r.shift is None and worked is None:
                self._emit(r, 1, f"{who} asked to work on {when} but is off", s, r.day)
            elif r.shift is not None and worked != r.shift:
                self._emit(
                    r, 1, f"{who} asked to work {r.shift} on {when} but {doing}", s, r.day, r.shift
                )
        elif r.shift is None and worked is not None:
            self._emit(r, 1, f"{who} asked for {when} off but works {worked}", s, r.day, worked)
        elif r.shift is not None and worked == r.shift:
            self._emit(
                r, 1, f"{who} asked not to work {r.shift} on {when} but does", s, r.day, r.shift
            )

    # ------------------------------------------------------------------ windows and spreads
    def _fatigue(self, r: Fatigue) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        load = [
            (r.loads[t] if t in r.loads else default_load(self.spec, t)) if smask[i] else 0.0
            for i, t in enumerate(self.shift_ids)
        ]
        W = r.window_days
        for s in self._staff(r.scope):
            acc = [0.0]  # prefix sums of (load - recovery if off)
            for g in self.grid[s]:
                acc.append(acc[-1] + (-r.recovery if g == OFF else load[g]))
            for start in range(0, self.H - W + 1):
                if dmask is not None and not dmask[start]:
                    continue
                score = acc[start + W] - acc[start]
                if score - r.max_score > EPS:
                    self._emit(
                        r,
                        score - r.max_score,
                        f"{self.labels[s]}'s fatigue score is {_fmt(score)} over the {W} days "
                        f"from {self.dates[start]} (max {_fmt(r.max_score)})",
                        staff=s,
                        day=start,
                    )

    def _fairness(self, r: Fairness) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        staff = self._staff(r.scope)
        if len(staff) < 2:
            return
        values: list[float] = []
        for s in staff:
            if r.metric == "weekends":
                values.append(sum(self._weekends_worked(s, dmask, smask)))
                continue
            row = self._row(s, dmask, smask)
            if r.metric == "nights":
                values.append(sum(1 for g in row if g != OFF and self.night[g]))
            else:
                values.append(self._minutes_of(row) / 60)
        hi = max(range(len(staff)), key=values.__getitem__)
        lo = min(range(len(staff)), key=values.__getitem__)
        spread = values[hi] - values[lo]
        if spread - r.max_spread > EPS:
            unit = " h" if r.metric == "hours" else ""
            self._emit(
                r,
                spread - r.max_spread,
                f"{r.metric.capitalize()} differ by {_fmt(spread)}{unit} across "
                f"{len(staff)} staff: {self.labels[staff[hi]]} {_fmt(values[hi])}{unit}, "
                f"{self.labels[staff[lo]]} {_fmt(values[lo])}{unit} "
                f"(max spread {_fmt(r.max_spread)}{unit})",
            )

    def _budget(self, r: Budget) -> None:
        dmask, smask = self._day_mask(r.scope), self._shift_mask(r.scope)
        total = sum(
            self._minutes_of(self._row(s, dmask, smask)) / 60 * self.rate[s]
            for s in self._staff(r.scope)
        )
        if total - r.max_cost > EPS:
            self._emit(
                r,
                total - r.max_cost,
                f"Staff cost {total:,.2f} exceeds the budget of {r.max_cost:,.2f} "
                f"by {total - r.max_cost:,.2f}",
            )


def _runs(series: list[bool], value: bool) -> list[tuple[int, int]]:
    """(start, length) of every maximal block of `value` in `series`."""
    out = []
    pos = 0
    for v, group in groupby(series):
        n = sum(1 for _ in group)
        if v == value:
            out.append((pos, n))
        pos += n
    return out


def _date_label(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.isoformat()}"
