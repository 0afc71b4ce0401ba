"""Reading and writing specs (YAML) and rosters (CSV), with errors written for people.

Every failure raises `SpecError` whose message names the file, the place (field path or
CSV row) and the offending value, in one or two lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .model import Assignment, ProblemSpec, Schedule


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: only true/false are booleans and there are no base-60 numbers.

    YAML 1.1 would read the key `on:` (shift requests) and values like `no` as booleans,
    and a shift start written `15:00` as the integer 900.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [
        (tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")
    ]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)


def yaml_load(text: str):
    return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 (a SafeLoader subclass)


class SpecError(ValueError):
    """A bad scenario, roster or benchmark file. The message is meant for the user."""


def _loc(loc: tuple[Any, ...], doc: Any) -> str:
    """Turn a pydantic location into a readable path, naming list items by their id."""
    parts: list[str] = []
    node = doc
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{key}]" + (f"(id={ident})" if ident else ""))
            node = item
        elif isinstance(node, dict) and key in node:
            parts.append(f".{key}")
            node = node[key]
        else:
            # discriminator tags such as 'cover' are pydantic's, not the user's
            if isinstance(node, dict) and node.get("kind") == key:
                continue
            parts.append(f".{key}")
            node = None
    return "".join(parts).lstrip(".") or "(top level)"


def validation_message(err: ValidationError, doc: Any, source: str) -> str:
    lines = []
    for e in err.errors()[:6]:
        where = _loc(tuple(e["loc"]), doc)
        value = e.get("input")
        shown = "" if isinstance(value, dict | list) else f" (value: {value!r})"
        msg = e["msg"].removeprefix("Value error, ")
        if where == "(top level)":
            lines.extend(f"{source}: {m}" for m in msg.split("; "))
        else:
            lines.append(f"{source}: {where}: {msg}{shown}")
    more = len(err.errors()) - 6
    if more > 0:
        lines.append(f"... and {more} more problem(s)")
    return "\n".join(lines)


def spec_from_dict(doc: Any, source: str = "<spec>") -> ProblemSpec:
    if not isinstance(doc, dict):
        raise SpecError(f"{source}: expected a mapping with horizon, shifts, staff, constraints")
    try:
        return ProblemSpec.model_validate(doc)
    except ValidationError as err:
        raise SpecError(validation_message(err, doc, source)) from None


def parse_spec_yaml(text: str, source: str = "<yaml>") -> ProblemSpec:
    try:
        doc = yaml_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SpecError(f"{source}:{where}: malformed YAML: {problem}") from None
    except ValueError as err:  # e.g. a date such as 2024-02-30 fails while YAML builds it
        raise SpecError(f"{source}: invalid value: {err}") from None
    return spec_from_dict(doc, source)


def load_spec(path: str | Path) -> ProblemSpec:
    """Load a scenario: YAML (.yaml/.yml/.json) or a Curtois & Qu benchmark file (.txt)."""
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    if p.suffix == ".txt":
        from .curtois import read_curtois

        return read_curtois(p)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{p}: cannot read: {err}") from None
    return parse_spec_yaml(text, str(p))


def dump_spec_yaml(spec: ProblemSpec) -> str:
    """Compact YAML (defaults left out) that loads back to an equal spec."""
    doc = spec.model_dump(mode="json", exclude_defaults=True)
    doc["horizon"] = spec.horizon.model_dump(mode="json")
    # `kind` is a default but it is the tag of the union: put it back, first
    doc["constraints"] = [
        {"kind": c.kind, **{k: v for k, v in d.items() if k != "kind"}}
        for c, d in zip(spec.constraints, doc.get("constraints", []), strict=True)
    ]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def save_spec(spec: ProblemSpec, path: str | Path) -> None:
    Path(path).write_text(dump_spec_yaml(spec))


# --------------------------------------------------------------------------- rosters as CSV

CSV_COLUMNS = (
    "date",
    "weekday",
    "shift",
    "start",
    "end",
    "hours",
    "staff_id",
    "staff_name",
    "skill",
)


def schedule_to_csv(spec: ProblemSpec, schedule: Schedule) -> str:
    """One row per assignment, ordered by day, shift start, staff."""
    shifts = {s.id: s for s in spec.shifts}
    staff = {s.id: s for s in spec.staff}
    order = {s.id: i for i, s in enumerate(spec.shifts)}
    rows = sorted(schedule.assignments, key=lambda a: (a.day, order.get(a.shift, 0), a.staff))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for a in rows:
        sh, st = shifts[a.shift], staff[a.staff]
        w.writerow(
            [
                spec.date(a.day).isoformat(),
                spec.date(a.day).strftime("%a"),
                sh.id,
                sh.start,
                sh.end,
                f"{sh.hours:g}",
                st.id,
                st.name,
                st.skills[0] if st.skills else "",
            ]
        )
    return out.getvalue()


def schedule_from_csv(spec: ProblemSpec, text: str, source: str = "<csv>") -> Schedule:
    """Read a roster CSV (as written by `schedule_to_csv`; only date, shift, staff_id are used).

    Rows naming unknown staff or shifts, dates outside the horizon, or a second shift for the
    same person on the same day are rejected with the row number.
    """
    reader = csv.DictReader(io.StringIO(text))
    needed = {"date", "shift", "staff_id"}
    if reader.fieldnames is None:
        raise SpecError(f"{source}: empty file; expected a header with {sorted(needed)}")
    missing = needed - {f.strip() for f in reader.fieldnames}
    if missing:
        raise SpecError(
            f"{source}: header lacks column(s) {sorted(missing)}; found {reader.fieldnames}"
        )
    shifts = {s.id for s in spec.shifts}
    staff = {s.id for s in spec.staff}
    start = spec.horizon.start
    seen: dict[tuple[str, int], int] = {}
    out = []
    for n, row in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        where = f"{source}: row {n}"
        try:
            day = (dt.date.fromisoformat(row["date"]) - start).days
        except ValueError:
            raise SpecError(f"{where}: date {row['date']!r} is not YYYY-MM-DD") from None
        if not 0 <= day < spec.horizon.days:
            raise SpecError(
                f"{where}: date {row['date']} is outside the horizon "
                f"({start} .. {spec.date(spec.horizon.days - 1)})"
            )
        if row["staff_id"] not in staff:
            raise SpecError(f"{where}: unknown staff_id {row['staff_id']!r}")
        if row["shift"] not in shifts:
            raise SpecError(f"{where}: unknown shift {row['shift']!r} (shifts: {sorted(shifts)})")
        key = (row["staff_id"], day)
        if key in seen:
            raise SpecError(
                f"{where}: {row['staff_id']} already works on {row['date']} (row {seen[key]}); "
                "one shift per person per day"
            )
        seen[key] = n
        out.append(Assignment(staff=row["staff_id"], day=day, shift=row["shift"]))
    return Schedule(assignments=out)


def load_schedule_csv(spec: ProblemSpec, path: str | Path) -> Schedule:
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{p}: cannot read: {err}") from None
    return schedule_from_csv(spec, text, str(p))
