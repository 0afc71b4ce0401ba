"""OR-Tools CP-SAT model of a Curtois & Qu instance (benchmark-only peer for bench/curtois.py).

Built from the imported `ProblemSpec` (the rule kinds the Curtois importer produces), in the
style of OR-Tools' shift_scheduling_sat.py: Boolean work[e, d, s], forbidden patterns as
clauses, cover as soft linear terms.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from alchemist.spec import ProblemSpec, Schedule
from alchemist.spec.model import Assignment
from alchemist.spec.scope import days_in_scope, staff_in_scope, weekends

SUPPORTED = {
    "cover",
    "forbidden_succession",
    "max_shifts",
    "max_hours",
    "min_hours",
    "max_consecutive_days",
    "min_consecutive_days",
    "min_consecutive_days_off",
    "max_weekends",
    "unavailability",
    "shift_request",
}


def solve_cpsat(spec: ProblemSpec, time_limit: float, threads: int = 2) -> dict:
    unsupported = spec.kinds() - SUPPORTED
    if unsupported or any(
        not r.hard for r in spec.constraints if r.kind not in ("cover", "shift_request")
    ):
        raise ValueError(f"CP-SAT peer handles Curtois-shaped specs only ({sorted(unsupported)})")
    t0 = time.perf_counter()
    m = cp_model.CpModel()
    H, T = spec.horizon.days, [s.id for s in spec.shifts]
    minutes = {s.id: s.minutes for s in spec.shifts}
    banned = set()
    for r in spec.constraints:
        if r.kind == "unavailability":
            banned |= {(r.staff, d) for d in r.days}
        if r.kind == "max_shifts" and r.count == 0 and r.period_days is None:
            banned |= {(s.id, r.shift) for s in staff_in_scope(spec, r.scope)}
    x = {}
    for e in spec.staff:
        for d in range(H):
            for t in T:
                if (e.id, d) not in banned and (e.id, t) not in banned:
                    x[e.id, d, t] = m.new_bool_var(f"x_{e.id}_{d}_{t}")
    w = {}
    for e in spec.staff:
        for d in range(H):
            vs = [x[e.id, d, t] for t in T if (e.id, d, t) in x]
            w[e.id, d] = m.new_bool_var(f"w_{e.id}_{d}")
            m.add(sum(vs) == w[e.id, d])
    obj = []
    for r in spec.constraints:
        staff = [s.id for s in staff_in_scope(spec, r.scope)]
        if r.kind == "cover":
            for d in days_in_scope(spec, r.scope):
                n = sum(x[e.id, d, r.shift] for e in spec.staff if (e.id, d, r.shift) in x)
                under = m.new_int_var(0, r.preferred, "")
                over = m.new_int_var(0, len(spec.staff), "")
                m.add(n - r.preferred == over - under)
                obj += [int(r.under_weight) * under, int(r.over_weight) * over]
        elif r.kind == "forbidden_succession":
            for e in staff:
                for d in range(H - 1):
                    a, b = x.get((e, d, r.from_shift)), x.get((e, d + 1, r.to_shift))
                    if a is not None and b is not None:
                        m.add_bool_or([a.Not(), b.Not()])
        elif r.kind == "max_shifts":
            for e in staff:
                m.add(sum(x[e, d, r.shift] for d in range(H) if (e, d, r.shift) in x) <= r.count)
        elif r.kind in ("max_hours", "min_hours"):
            for e in staff:
                total = sum(minutes[t] * x[e, d, t] for d in range(H) for t in T if (e, d, t) in x)
                bound = round(r.hours * 60)
                m.add(total <= bound) if r.kind == "max_hours" else m.add(total >= bound)
        elif r.kind == "max_consecutive_days":
            for e in staff:
                for d0 in range(H - r.days):
                    m.add_bool_or([w[e, d].Not() for d in range(d0, d0 + r.days + 1)])
        elif r.kind in ("min_consecutive_days", "min_consecutive_days_off"):
            work = r.kind == "min_consecutive_days"
            for e in staff:
                for length in range(1, r.days):
                    for d in range(0, H - length - 1):
                        lit = (lambda v: v) if work else (lambda v: v.Not())
                        inner = [lit(w[e, j]).Not() for j in range(d + 1, d + length + 1)]
                        m.add_bool_or([lit(w[e, d]), lit(w[e, d + length + 1]), *inner])
        elif r.kind == "max_weekends":
            for e in staff:
                ys = []
                for wk in weekends(spec):
                    y = m.new_bool_var("")
                    m.add_max_equality(y, [w[e, d] for d in wk])
                    ys.append(y)
                m.add(sum(ys) <= r.count)
        elif r.kind == "shift_request":
            v = x.get((r.staff, r.day, r.shift)) if r.shift else w[r.staff, r.day]
            weight = int(r.weight)
            if r.on:
                obj.append(weight * (1 - v) if v is not None else weight)
            elif v is not None:
                obj.append(weight * v)
    m.minimize(sum(obj))
    build = time.perf_counter() - t0
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = threads
    status = solver.solve(m)
    names = {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
    }
    out = {
        "status": names.get(status, "time_limit"),
        "build_seconds": build,
        "solve_seconds": solver.wall_time,
    }
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        out["objective"] = solver.objective_value
        out["bound"] = solver.best_objective_bound
        out["schedule"] = Schedule(
            assignments=[
                Assignment(staff=e, day=d, shift=t) for (e, d, t), v in x.items() if solver.value(v)
            ]
        )
    return out
