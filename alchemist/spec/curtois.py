"""Curtois & Qu shift-scheduling benchmark files (Instance1..24) <-> `ProblemSpec`.

Format: /work/shared/benchmarks/curtois/FORMAT.md (sections SECTION_HORIZON .. SECTION_COVER).
The mapping is lossless: `write_curtois(read_curtois(f))` reproduces the file's lines, and
the checker's soft objective on the imported spec is the benchmark's objective.

Mapping (file -> spec):
- horizon: starts on Monday 2024-01-01 (day 0 is a Monday in every instance);
- shifts keep their order; the format has no start times, so shift i of n starts at
  06:00 + i x (24 h / n), truncated to the minute (one shift: 06:00; two: 06:00, 18:00),
  and no shift is a night shift (`is_night` false);
- staff keep their order (no name, skill or contract);
- CannotFollow -> hard `forbidden_succession` rules (`cannotfollow-<from>-<to>`);
- MaxShifts -> hard `max_shifts` with `shift`, one rule per (shift, max) listing the staff
  sharing that value in `scope.staff` (`maxshifts-<shift>-<max>`);
- Max/MinTotalMinutes -> hard `max_hours` / `min_hours` over the horizon (hours =
  minutes / 60), grouped by value the same way (`maxminutes-<m>`, `minminutes-<m>`);
- MaxConsecutiveShifts / MinConsecutiveShifts / MinConsecutiveDaysOff / MaxWeekends ->
  hard `max_consecutive_days` / `min_consecutive_days` / `min_consecutive_days_off` /
  `max_weekends`, grouped by value (`maxconsecutive-<n>`, `minconsecutive-<n>`,
  `mindaysoff-<n>`, `maxweekends-<n>`);
- DAYS_OFF -> hard `unavailability`, one per line (`daysoff-<staff>`);
- on / off requests -> soft `shift_request` with the file's weight
  (`on-<staff>-<day>-<shift>`, `off-...`);
- COVER -> `cover` with min 0, preferred = requirement and the file's weights, one rule per
  (shift, requirement, weights) listing its days in `scope.days` (`cover-<shift>-<req>`,
  plus `-w<under>-<over>` when the weights are not 100 / 1).

`write_curtois` writes the same sections back, with the published comment lines; for
Instance1..24 the output is the original file byte for byte, except that Instance15's one
requirement written `-0` comes back as `0`. It refuses (SpecError) what the format
cannot express (skills, contracts, soft versions of hard rules, periods, scopes other than
staff, other kinds...), and drops what only presents the problem (names, notes, shift start
times and night flags, rule ids, simulation parameters). Staff fields no rule sets are
written with non-binding values (e.g. MaxShifts = horizon length).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .io import SpecError, validation_message
from .model import (
    ID_PATTERN,
    WEEKDAYS,
    Cover,
    ForbiddenSuccession,
    Horizon,
    MaxConsecutiveDays,
    MaxHours,
    MaxShifts,
    MaxWeekends,
    MinConsecutiveDays,
    MinConsecutiveDaysOff,
    MinHours,
    ProblemSpec,
    Scope,
    ShiftRequest,
    ShiftType,
    Staff,
    Unavailability,
)
from .scope import days_in_scope, staff_in_scope, weekends

R = TypeVar("R")
START_DATE = dt.date(2024, 1, 1)  # a Monday
FIRST_SHIFT_MINUTE = 6 * 60

SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)
# The comment lines of the published files, written back by the exporter.
_COMMENTS = {
    "SECTION_HORIZON": ("# All instances start on a Monday", "# The horizon length in days:"),
    "SECTION_SHIFTS": (
        "# ShiftID, Length in mins, Shifts which cannot follow this shift | separated",
    ),
    "SECTION_STAFF": (
        "# ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, "
        "MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends",
    ),
    "SECTION_DAYS_OFF": ("# EmployeeID, DayIndexes (start at zero)",),
    "SECTION_SHIFT_ON_REQUESTS": ("# EmployeeID, Day, ShiftID, Weight",),
    "SECTION_SHIFT_OFF_REQUESTS": ("# EmployeeID, Day, ShiftID, Weight",),
    "SECTION_COVER": ("# Day, ShiftID, Requirement, Weight for under, Weight for over",),
}
_FIELDS = {
    "SECTION_SHIFTS": ("ShiftID", "LengthInMinutes", "CannotFollow"),
    "SECTION_STAFF": (
        "ID",
        "MaxShifts",
        "MaxTotalMinutes",
        "MinTotalMinutes",
        "MaxConsecutiveShifts",
        "MinConsecutiveShifts",
        "MinConsecutiveDaysOff",
        "MaxWeekends",
    ),
    "SECTION_SHIFT_ON_REQUESTS": ("EmployeeID", "Day", "ShiftID", "Weight"),
    "SECTION_SHIFT_OFF_REQUESTS": ("EmployeeID", "Day", "ShiftID", "Weight"),
    "SECTION_COVER": ("Day", "ShiftID", "Requirement", "WeightUnder", "WeightOver"),
}
# consecutive-day limits are at least 1 day in the model
_LOWEST = {"MaxConsecutiveShifts": 1, "MinConsecutiveShifts": 1, "MinConsecutiveDaysOff": 1}
DEFAULT_COVER_WEIGHTS = (100, 1)


def shift_start(index: int, count: int) -> str:
    """Deterministic start time of shift `index` of `count`: 06:00 + index x 24h/count."""
    m = (FIRST_SHIFT_MINUTE + index * 24 * 60 // count) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


# --------------------------------------------------------------------------- reading


def read_curtois(path: str | Path) -> ProblemSpec:
    """Read a Curtois & Qu instance file (e.g. Instance1.txt)."""
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{p}: cannot read: {err}") from None
    return parse_curtois(text, str(p))


class _Line:
    """One data line of a section, with what is needed to complain about it."""

    def __init__(self, source: str, section: str, number: int, text: str):
        self.source, self.section, self.number, self.text = source, section, number, text

    def error(self, what: str) -> SpecError:
        return SpecError(f"{self.source}: {self.section} line {self.number}: {what}")

    def fields(self, names: tuple[str, ...] | None = None, at_least: int = 0) -> list[str]:
        parts = [f.strip() for f in self.text.split(",")]
        if names is not None and len(parts) != len(names):
            raise self.error(
                f"expected {len(names)} fields ({', '.join(names)}), got {len(parts)}: {self.text!r}"
            )
        if len(parts) < at_least:
            raise self.error(
                f"expected at least {at_least} fields, got {len(parts)}: {self.text!r}"
            )
        return parts

    def int(self, value: str, what: str, low: int = 0, high: int | None = None) -> int:
        try:
            n = int(value)
        except ValueError:
            raise self.error(f"{what} {value!r} is not an integer") from None
        if n < low or (high is not None and n > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise self.error(f"{what} {n} is out of range ({bounds})")
        return n


def _split_sections(text: str, source: str) -> dict[str, list[_Line]]:
    sections: dict[str, list[_Line]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            if line not in SECTIONS:
                raise SpecError(
                    f"{source}: line {number}: unknown section {line!r} "
                    f"(expected one of {', '.join(SECTIONS)})"
                )
            expected = SECTIONS[len(sections)] if len(sections) < len(SECTIONS) else None
            if line in sections:
                raise SpecError(f"{source}: line {number}: {line} appears twice")
            if line != expected:
                raise SpecError(
                    f"{source}: line {number}: found {line} where {expected} was expected "
                    f"(sections come in the order {', '.join(SECTIONS)})"
                )
            current = line
            sections[current] = []
            continue
        if current is None:
            raise SpecError(f"{source}: line {number}: data before SECTION_HORIZON: {line!r}")
        sections[current].append(_Line(source, current, number, line))
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise SpecError(
            f"{source}: missing {', '.join(missing)} "
            f"(a Curtois file has the sections {', '.join(SECTIONS)}, in that order)"
        )
    return sections


def _check_id(ln: _Line, value: str, what: str) -> None:
    if not re.fullmatch(ID_PATTERN, value) or len(value) > 64:
        raise ln.error(f"{what} {value!r} is not a valid id (letters, digits, _ . -)")


class _Ids:
    """Readable, unique rule ids."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, *parts: object) -> str:
        base = "-".join(str(p) for p in parts)
        rid, n = base, 1
        while rid in self.used:
            n += 1
            rid = f"{base}-{n}"
        self.used.add(rid)
        return rid


def _grouped(values: dict[str, int], make: Callable[[int, list[str]], R]) -> Iterator[R]:
    """One rule per distinct value (in order of first appearance) naming its staff."""
    groups: dict[int, list[str]] = defaultdict(list)
    for staff, value in values.items():
        groups[value].append(staff)
    for value, staff in groups.items():
        yield make(value, staff)


def parse_curtois(text: str, source: str = "<curtois>") -> ProblemSpec:
    """Parse the text of a Curtois & Qu instance into a `ProblemSpec` (mapping: module doc)."""
    # Instance24 makes ~15,000 rule objects and no reference cycles: pausing the cyclic GC
    # while building them keeps the import well under a second.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, source)
    finally:
        if was_enabled:
            gc.enable()


def _parse(text: str, source: str) -> ProblemSpec:
    sec = _split_sections(text, source)
    ids = _Ids()

    # -- horizon
    lines = sec["SECTION_HORIZON"]
    if len(lines) != 1:
        where = lines[1] if len(lines) > 1 else None
        if where is None:
            raise SpecError(f"{source}: SECTION_HORIZON: no horizon length (one integer expected)")
        raise where.error(f"one integer expected, found a second line: {where.text!r}")
    horizon = lines[0].int(lines[0].fields(("Days",))[0], "horizon length", 1, 3660)

    # -- shifts
    shift_lines = sec["SECTION_SHIFTS"]
    if not shift_lines:
        raise SpecError(f"{source}: SECTION_SHIFTS is empty (at least one shift expected)")
    shift_ids: list[str] = []
    minutes: dict[str, int] = {}
    cannot_follow: list[tuple[_Line, str, list[str]]] = []
    for ln in shift_lines:
        sid, length, follow = ln.fields(_FIELDS["SECTION_SHIFTS"])
        if not sid:
            raise ln.error("empty ShiftID")
        if sid in minutes:
            raise ln.error(f"shift {sid!r} is defined twice")
        _check_id(ln, sid, "ShiftID")
        minutes[sid] = ln.int(length, "LengthInMinutes", 1, 24 * 60)
        shift_ids.append(sid)
        cannot_follow.append((ln, sid, [t.strip() for t in follow.split("|")] if follow else []))
    known_shifts = set(shift_ids)

    def shift_of(ln: _Line, value: str, what: str = "shift") -> str:
        if value not in known_shifts:
            known = ", ".join(shift_ids[:12]) + (", ..." if len(shift_ids) > 12 else "")
            raise ln.error(f"unknown {what} {value!r} (shifts: {known})")
        return value

    shifts = [
        ShiftType(id=sid, start=shift_start(i, len(shift_ids)), minutes=minutes[sid])
        for i, sid in enumerate(shift_ids)
    ]
    constraints: list[BaseModel] = []
    for ln, sid, follow in cannot_follow:
        for t in follow:
            constraints.append(
                ForbiddenSuccession(
                    id=ids("cannotfollow", sid, t),
                    from_shift=sid,
                    to_shift=shift_of(ln, t, "shift in CannotFollow"),
                )
            )

    # -- staff
    staff_ids: list[str] = []
    max_shifts: dict[str, dict[str, int]] = {}  # shift -> staff -> max
    fields: dict[str, dict[str, int]] = defaultdict(dict)  # field -> staff -> value
    for ln in sec["SECTION_STAFF"]:
        parts = ln.fields(_FIELDS["SECTION_STAFF"])
        sid = parts[0]
        if not sid:
            raise ln.error("empty staff ID")
        if sid in fields["MaxTotalMinutes"]:
            raise ln.error(f"staff {sid!r} is defined twice")
        _check_id(ln, sid, "staff ID")
        staff_ids.append(sid)
        seen: set[str] = set()
        for entry in parts[1].split("|") if parts[1] else []:
            shift, eq, value = (x.strip() for x in entry.partition("="))
            if not eq:
                raise ln.error(f"MaxShifts entry {entry!r} is not ShiftID=max")
            shift_of(ln, shift, "shift in MaxShifts")
            if shift in seen:
                raise ln.error(f"MaxShifts names shift {shift!r} twice")
            seen.add(shift)
            max_shifts.setdefault(shift, {})[sid] = ln.int(value, f"MaxShifts {shift}")
        for name, value in zip(_FIELDS["SECTION_STAFF"][2:], parts[2:], strict=True):
            fields[name][sid] = ln.int(value, name, _LOWEST.get(name, 0))
    if not staff_ids:
        raise SpecError(f"{source}: SECTION_STAFF is empty (at least one staff member expected)")
    known_staff = set(staff_ids)

    def staff_of(ln: _Line, value: str) -> str:
        if value not in known_staff:
            raise ln.error(f"unknown employee {value!r} (not in SECTION_STAFF)")
        return value

    def day_of(ln: _Line, value: str, what: str = "day") -> int:
        return ln.int(value, what, 0, horizon - 1)

    for shift in shift_ids:  # MaxShifts in shift order, grouped by value
        constraints.extend(
            _grouped(
                max_shifts.get(shift, {}),
                lambda v, st, shift=shift: MaxShifts(
                    id=ids("maxshifts", shift, v), scope=Scope(staff=st), count=v, shift=shift
                ),
            )
        )
    makers: dict[str, Callable[[int, list[str]], BaseModel]] = {
        "MaxTotalMinutes": lambda v, st: MaxHours(
            id=ids("maxminutes", v), scope=Scope(staff=st), hours=v / 60
        ),
        "MinTotalMinutes": lambda v, st: MinHours(
            id=ids("minminutes", v), scope=Scope(staff=st), hours=v / 60
        ),
        "MaxConsecutiveShifts": lambda v, st: MaxConsecutiveDays(
            id=ids("maxconsecutive", v), scope=Scope(staff=st), days=v
        ),
        "MinConsecutiveShifts": lambda v, st: MinConsecutiveDays(
            id=ids("minconsecutive", v), scope=Scope(staff=st), days=v
        ),
        "MinConsecutiveDaysOff": lambda v, st: MinConsecutiveDaysOff(
            id=ids("mindaysoff", v), scope=Scope(staff=st), days=v
        ),
        "MaxWeekends": lambda v, st: MaxWeekends(
            id=ids("maxweekends", v), scope=Scope(staff=st), count=v
        ),
    }
    for name, make in makers.items():
        constraints.extend(_grouped(fields[name], make))

    # -- days off
    for ln in sec["SECTION_DAYS_OFF"]:
        parts = ln.fields(at_least=1)
        sid = staff_of(ln, parts[0])
        days = [day_of(ln, d) for d in parts[1:]]
        if days:  # a line naming nobody's days carries no rule
            constraints.append(Unavailability(id=ids("daysoff", sid), staff=sid, days=days))

    # -- requests
    for section, on in (("SECTION_SHIFT_ON_REQUESTS", True), ("SECTION_SHIFT_OFF_REQUESTS", False)):
        for ln in sec[section]:
            who, day, shift, weight = ln.fields(_FIELDS[section])
            sid, d, t = staff_of(ln, who), day_of(ln, day, "Day"), shift_of(ln, shift)
            constraints.append(
                ShiftRequest(
                    id=ids("on" if on else "off", sid, d, t),
                    staff=sid,
                    day=d,
                    shift=t,
                    on=on,
                    weight=ln.int(weight, "Weight"),
                )
            )

    # -- cover, grouped by (shift, requirement, weights)
    cover_days: dict[tuple[str, int, int, int], list[int]] = {}
    seen_cover: dict[tuple[int, str], int] = {}
    for ln in sec["SECTION_COVER"]:
        day, shift, req, under, over = ln.fields(_FIELDS["SECTION_COVER"])
        d, t = day_of(ln, day, "Day"), shift_of(ln, shift)
        if (d, t) in seen_cover:
            raise ln.error(f"day {d} shift {t} is already covered on line {seen_cover[d, t]}")
        seen_cover[d, t] = ln.number
        key = (
            t,
            ln.int(req, "Requirement"),
            ln.int(under, "WeightUnder"),
            ln.int(over, "WeightOver"),
        )
        cover_days.setdefault(key, []).append(d)
    for (t, req, under, over), days in sorted(
        cover_days.items(), key=lambda kv: (shift_ids.index(kv[0][0]), kv[0][1:])
    ):
        weights = "" if (under, over) == DEFAULT_COVER_WEIGHTS else f"-w{under}-{over}"
        constraints.append(
            Cover(
                id=ids("cover", t, f"{req}{weights}"),
                scope=Scope(days=sorted(days)),
                shift=t,
                min=0,
                preferred=req,
                under_weight=under,
                over_weight=over,
            )
        )

    name = Path(source).stem if source and not source.startswith("<") else "curtois"
    try:
        return ProblemSpec(
            name=name,
            description=f"Curtois & Qu shift scheduling benchmark ({Path(source).name})",
            horizon=Horizon(start=START_DATE, days=horizon),
            shifts=shifts,
            staff=[Staff(id=s) for s in staff_ids],
            constraints=constraints,  # type: ignore[arg-type]
        )
    except ValidationError as err:
        raise SpecError(validation_message(err, {}, source)) from None


# --------------------------------------------------------------------------- writing


def _refuse(what: str) -> SpecError:
    return SpecError(f"cannot write a Curtois file: {what}")


def _whole(value: float, what: str) -> int:
    n = round(value)
    if abs(value - n) > 1e-6:
        raise _refuse(f"{what} is {value:g}; the format needs a whole number")
    return n


def write_curtois(spec: ProblemSpec) -> str:
    """Write `spec` in the Curtois & Qu format; SpecError names what the format cannot express."""
    if spec.horizon.start.weekday() != 0:
        raise _refuse(
            f"the horizon starts on {WEEKDAYS[spec.horizon.start.weekday()]} "
            f"{spec.horizon.start}; day 0 must be a Monday"
        )
    with_skills = [s.id for s in spec.staff if s.skills]
    if spec.skills or with_skills:
        raise _refuse(
            f"skills ({', '.join(spec.skills) or 'on staff ' + ', '.join(with_skills[:5])}) "
            "have no place in the format"
        )
    with_contract = [s.id for s in spec.staff if s.contract]
    if spec.contracts or with_contract:
        names = ", ".join(c.id for c in spec.contracts) or ", ".join(with_contract[:5])
        raise _refuse(f"contracts ({names}) have no place in the format")

    H = spec.horizon.days
    shift_ids = [s.id for s in spec.shifts]
    staff_ids = [s.id for s in spec.staff]
    follow: dict[str, list[str]] = {t: [] for t in shift_ids}
    max_shifts: dict[str, dict[str, int]] = {s: {} for s in staff_ids}
    per_staff: dict[str, dict[str, int]] = {s: {} for s in staff_ids}
    days_off: list[str] = []
    requests: dict[bool, list[str]] = {True: [], False: []}
    cover: dict[tuple[int, str], str] = {}

    def where(rule) -> str:
        return f"rule {rule.id!r} ({rule.kind})"

    def staff_only(rule) -> list[str]:
        sc = rule.scope
        if not rule.hard:
            raise _refuse(f"{where(rule)} is soft; the format only has it as a hard rule")
        if sc.shifts or sc.days or sc.weekdays:
            raise _refuse(f"{where(rule)} has a shift or day scope; the format has neither")
        return [s.id for s in staff_in_scope(spec, sc)]

    def bound(field: str, rule, value: int, tighter: Callable[[int, int], int]) -> None:
        for s in staff_only(rule):
            old = per_staff[s].get(field)
            per_staff[s][field] = value if old is None else tighter(old, value)

    for rule in spec.constraints:
        if isinstance(rule, ForbiddenSuccession):
            if not rule.hard or not rule.scope.is_all():
                raise _refuse(f"{where(rule)} must be hard and apply to everyone (CannotFollow)")
            if rule.to_shift not in follow[rule.from_shift]:
                follow[rule.from_shift].append(rule.to_shift)
        elif isinstance(rule, MaxShifts):
            if rule.shift is None or rule.period_days is not None:
                raise _refuse(f"{where(rule)} needs a shift and no period (MaxShifts is per type)")
            for s in staff_only(rule):
                old = max_shifts[s].get(rule.shift)
                max_shifts[s][rule.shift] = rule.count if old is None else min(old, rule.count)
        elif isinstance(rule, MaxHours | MinHours):
            if rule.period_days is not None:
                raise _refuse(f"{where(rule)} has a period; the format bounds the whole horizon")
            m = _whole(rule.hours * 60, f"{where(rule)}: the limit in minutes")
            if isinstance(rule, MaxHours):
                bound("MaxTotalMinutes", rule, m, min)
            else:
                bound("MinTotalMinutes", rule, m, max)
        elif isinstance(rule, MaxConsecutiveDays):
            bound("MaxConsecutiveShifts", rule, rule.days, min)
        elif isinstance(rule, MinConsecutiveDays):
            bound("MinConsecutiveShifts", rule, rule.days, max)
        elif isinstance(rule, MinConsecutiveDaysOff):
            bound("MinConsecutiveDaysOff", rule, rule.days, max)
        elif isinstance(rule, MaxWeekends):
            if rule.period_weeks is not None:
                raise _refuse(f"{where(rule)} has a period; the format counts the whole horizon")
            bound("MaxWeekends", rule, rule.count, min)
        elif isinstance(rule, Unavailability):
            if not rule.hard or rule.shift is not None or not rule.scope.is_all():
                raise _refuse(f"{where(rule)} must be hard, for every shift, without scope")
            days_off.append(",".join([rule.staff, *(str(d) for d in rule.days)]))
        elif isinstance(rule, ShiftRequest):
            if rule.hard or rule.shift is None or not rule.scope.is_all():
                raise _refuse(f"{where(rule)} must be soft, name a shift and have no scope")
            w = _whole(rule.weight, f"{where(rule)}: the weight")
            requests[rule.on].append(f"{rule.staff},{rule.day},{rule.shift},{w}")
        elif isinstance(rule, Cover):
            sc = rule.scope
            if rule.skill is not None or rule.min != 0 or rule.max is not None:
                raise _refuse(
                    f"{where(rule)} may only have a preferred number (no skill, min, max)"
                )
            if sc.staff or sc.skills or sc.contracts or sc.shifts:
                raise _refuse(f"{where(rule)} may only be scoped by days")
            under = _whole(rule.under_weight, f"{where(rule)}: under_weight")
            over = _whole(rule.over_weight, f"{where(rule)}: over_weight")
            for d in days_in_scope(spec, sc):
                if (d, rule.shift) in cover:
                    raise _refuse(f"{where(rule)}: day {d} shift {rule.shift} is covered twice")
                cover[d, rule.shift] = f"{d},{rule.shift},{rule.preferred},{under},{over}"
        else:
            raise _refuse(f"{where(rule)}: the format has no {rule.kind} rules")

    neutral = {
        "MaxTotalMinutes": H * 24 * 60,
        "MinTotalMinutes": 0,
        "MaxConsecutiveShifts": H,
        "MinConsecutiveShifts": 1,
        "MinConsecutiveDaysOff": 1,
        "MaxWeekends": len(weekends(spec)),
    }
    out: list[str] = ["# This is a comment. Comments start with #"]

    def section(name: str, rows: Iterable[str]) -> None:
        out.extend([name, *_COMMENTS[name], *rows, ""])

    section("SECTION_HORIZON", [str(H)])
    section("SECTION_SHIFTS", [f"{s.id},{s.minutes},{'|'.join(follow[s.id])}" for s in spec.shifts])
    rows = []
    for s in staff_ids:
        caps = "|".join(f"{t}={max_shifts[s].get(t, H)}" for t in shift_ids)
        values = [str(per_staff[s].get(f, neutral[f])) for f in _FIELDS["SECTION_STAFF"][2:]]
        rows.append(",".join([s, caps, *values]))
    section("SECTION_STAFF", rows)
    section("SECTION_DAYS_OFF", days_off)
    section("SECTION_SHIFT_ON_REQUESTS", requests[True])
    section("SECTION_SHIFT_OFF_REQUESTS", requests[False])
    order = {t: i for i, t in enumerate(shift_ids)}
    section("SECTION_COVER", [cover[k] for k in sorted(cover, key=lambda k: (k[0], order[k[1]]))])
    return "\n".join(out[:-1]) + "\n"


__all__ = ["parse_curtois", "read_curtois", "shift_start", "write_curtois"]
