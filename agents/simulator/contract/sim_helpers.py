"""Helpers for the simulator's tests (standard library only; they run in the sandbox).

The problem is `problem.json` in the working directory when the runner provides one, else
the scenario the simulator was generated for (`tests/sim_scenario.json`). The roster is
`schedule.json` when present, else a simple roster meeting each cover rule's preferred count.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def load_problem() -> dict:
    here = Path("problem.json")
    path = here if here.exists() else Path(__file__).with_name("sim_scenario.json")
    return json.loads(path.read_text())


def load_schedule(problem: dict) -> dict:
    here = Path("schedule.json")
    if here.exists():
        return json.loads(here.read_text())
    return cover_roster(problem)


def short(problem: dict, days: int = 7) -> dict:
    """The first `days` days of the problem (cover rules cut to the shorter horizon)."""
    p = copy.deepcopy(problem)
    p["horizon"]["days"] = min(days, p["horizon"]["days"])
    kept = []
    for c in p.get("constraints", []):
        scope = c.get("scope") or {}
        if scope.get("days"):
            scope["days"] = [d for d in scope["days"] if d < p["horizon"]["days"]]
            if not scope["days"]:
                continue
        kept.append(c)
    p["constraints"] = kept
    return p


def cover_days(problem: dict, rule: dict) -> list[int]:
    days = problem["horizon"]["days"]
    scope = rule.get("scope") or {}
    out = sorted(set(scope.get("days") or [])) or list(range(days))
    if scope.get("weekdays"):
        first = dt.date.fromisoformat(problem["horizon"]["start"]).weekday()
        wanted = {WEEKDAYS.index(w) for w in scope["weekdays"]}
        out = [d for d in out if (first + d) % 7 in wanted]
    return [d for d in out if 0 <= d < days]


def cover_roster(problem: dict, extra: int = 0) -> dict:
    """Round-robin roster: each cover rule's preferred count (+ extra) where staff allow."""
    staff = problem["staff"]
    order = {s["id"]: i for i, s in enumerate(problem["shifts"])}
    need: dict[tuple[int, str, str | None], int] = {}
    for c in problem.get("constraints", []):
        if c.get("kind") == "cover":
            for d in cover_days(problem, c):
                key = (d, c["shift"], c.get("skill"))
                need[key] = max(need.get(key, 0), int(c.get("preferred", 0)) + extra)
        elif c.get("kind") == "min_skill_per_shift":
            for d in cover_days(problem, c):
                for shift in (c.get("scope") or {}).get("shifts") or list(order):
                    key = (d, shift, c["skill"])
                    need[key] = max(need.get(key, 0), int(c["count"]))
    if not need:  # no cover rule: everyone works five days a week on a fixed shift
        shifts = [s["id"] for s in problem["shifts"]]
        return {
            "assignments": [
                {"staff": s["id"], "day": d, "shift": shifts[i % len(shifts)]}
                for i, s in enumerate(staff)
                for d in range(problem["horizon"]["days"])
                if (d + i) % 7 < 5
            ]
        }
    load = {s["id"]: 0 for s in staff}
    out = []
    # skill-specific needs first (they are the scarce ones), then "anyone"
    keys = sorted(need, key=lambda k: (k[0], k[2] is None, order[k[1]], k[2] or ""))
    on_day: dict[int, dict[str, str]] = {}
    for day, shift, skill in keys:
        taken = on_day.setdefault(day, {})
        have = sum(
            1
            for s in staff
            if taken.get(s["id"]) == shift and (skill is None or skill in s.get("skills", []))
        )
        free = [
            s
            for s in staff
            if s["id"] not in taken and (skill is None or skill in s.get("skills", []))
        ]
        free.sort(key=lambda s: load[s["id"]])
        for s in free[: max(0, need[(day, shift, skill)] - have)]:
            taken[s["id"]] = shift
            load[s["id"]] += 1
            out.append({"staff": s["id"], "day": day, "shift": shift})
    return {"assignments": sorted(out, key=lambda a: (a["day"], order[a["shift"]], a["staff"]))}


def staffed_from_roster(problem: dict, schedule: dict) -> dict[tuple[str, int], int]:
    """(cover rule id, day) -> staff on the rule's shift it counts, straight from the roster."""
    staff = {s["id"]: s for s in problem["staff"]}
    out = {}
    for c in problem.get("constraints", []):
        if c.get("kind") != "cover":
            continue
        scope = c.get("scope") or {}
        for d in cover_days(problem, c):
            n = 0
            for a in schedule["assignments"]:
                s = staff[a["staff"]]
                if a["day"] != d or a["shift"] != c["shift"]:
                    continue
                if c.get("skill") is not None and c["skill"] not in s.get("skills", []):
                    continue
                if scope.get("staff") and s["id"] not in scope["staff"]:
                    continue
                if scope.get("skills") and not set(scope["skills"]) & set(s.get("skills", [])):
                    continue
                if scope.get("contracts") and s.get("contract") not in scope["contracts"]:
                    continue
                n += 1
            out[(c["id"], d)] = n
    return out
