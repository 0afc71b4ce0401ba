"""Curtois & Qu benchmark: our generated Pyomo+HiGHS model against best known and CP-SAT.

    .venv/bin/python bench/curtois.py [--time-limit 60] [--threads 2] [--instances 1-12] [--no-cpsat]

Prints how fast the machine is (`machine.py`), then one row per instance: best known, our
objective (checked by the trusted checker), gap %, model build and solve seconds, the same
for OR-Tools CP-SAT, and the goal verdicts (optimal on 1-6, within 2% on 7-12, build time
below solve time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import describe, reference  # noqa: E402

from alchemist import service  # noqa: E402
from alchemist.check import check  # noqa: E402
from alchemist.optimize.schemas import OptimizerOptions  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "scenarios" / "curtois"
BEST_KNOWN = {1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1308, 9: 439, 10: 4631, 11: 3443, 12: 4040,
              13: 1905, 14: 1279, 15: 3928, 16: 3225, 17: 5750, 18: 4650, 19: 3218}  # fmt: skip


def parse_range(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def instances(folder: Path, numbers: str, console: Console):
    """(number, spec) of each Curtois instance named by `numbers` (e.g. "1-12") found in
    `folder`; a missing file is reported and skipped."""
    for n in parse_range(numbers):
        path = folder / f"Instance{n}.txt"
        if not path.exists():
            console.print(f"Instance{n}: {path} not found, skipped")
            continue
        yield n, service.import_curtois(path)


def gap(ours: float | None, best: float | None) -> str:
    if ours is None or not best:
        return "-"
    return f"{100 * (ours - best) / best:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--instances", default="1-12")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--no-cpsat", action="store_true", help="skip the OR-Tools CP-SAT column")
    args = ap.parse_args()
    console = Console()
    # results at a fixed time limit depend on the machine: say how fast this one is
    console.print(describe(reference()))
    table = Table(title=f"Curtois & Qu, time limit {args.time_limit:g} s, {args.threads} threads")
    for col in ("instance", "best known", "ours", "status", "gap %", "build s", "solve s", "checker", "CP-SAT", "CP-SAT gap %", "CP-SAT s"):  # fmt: skip
        table.add_column(col, justify="right")
    verdicts = []
    options = OptimizerOptions(time_limit=args.time_limit, threads=args.threads, mip_gap=1e-6)
    for n, spec in instances(args.data, args.instances, console):
        best = BEST_KNOWN.get(n)
        t0 = time.perf_counter()
        report = service.solve_spec(spec, options)
        r = report.result
        console.log(f"Instance{n}: {r.status} {r.objective} in {time.perf_counter() - t0:.1f}s")
        checker = "-"
        if report.check is not None:
            checker = (
                "ok"
                if report.ok
                else f"{len(report.check.hard_violations)} hard, obj {report.check.objective:g}"
            )
        cp = {"objective": None, "solve_seconds": None, "build_seconds": 0.0}
        if not args.no_cpsat:
            from cpsat_curtois import solve_cpsat

            cp = solve_cpsat(spec, args.time_limit, args.threads)
            if "schedule" in cp:
                cp_check = check(spec, cp["schedule"])
                assert cp_check.feasible and abs(cp_check.objective - cp["objective"]) < 1e-6, (
                    "CP-SAT model disagrees with the checker"
                )
        table.add_row(
            f"Instance{n}",
            str(best or "-"),
            f"{r.objective:g}" if r.objective is not None else "-",
            r.status,
            gap(r.objective, best),
            f"{r.build_seconds:.2f}",
            f"{r.solve_seconds:.2f}",
            checker,
            f"{cp['objective']:g}" if cp.get("objective") is not None else "-",
            gap(cp.get("objective"), best),
            f"{cp['build_seconds'] + (cp['solve_seconds'] or 0):.1f}",
        )
        if r.objective is not None and best:
            target = 0.0 if n <= 6 else 2.0
            verdicts.append(
                (
                    n,
                    100 * (r.objective - best) / best <= target + 1e-9,
                    r.build_seconds < r.solve_seconds,
                )
            )
    console.print(table)
    for n, quality, build_ok in verdicts:
        goal = "optimal" if n <= 6 else "within 2%"
        console.print(
            f"Instance{n}: {goal}: {'met' if quality else 'NOT met'}; build < solve: {'yes' if build_ok else 'no'}"
        )


if __name__ == "__main__":
    main()
