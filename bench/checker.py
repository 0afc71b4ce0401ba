"""Trusted checker speed on the largest Curtois & Qu instance (Instance24).

150 staff x 364 days x 32 shift types: random rosters of three densities are checked, the
best of `--rounds` timings printed per roster. Goal: a full check under 2 s, so the UI and
every solve can afford it.

    .venv/bin/python bench/checker.py [--instance 24] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alchemist.check import check  # noqa: E402
from alchemist.spec.curtois import read_curtois  # noqa: E402
from tests.test_check import random_roster  # noqa: E402  (the tests' random rosters)

DATA = Path(__file__).resolve().parents[1] / "scenarios" / "curtois"
GOAL_SECONDS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spec = read_curtois(DATA / f"Instance{args.instance}.txt")
    table = Table(title=f"check() on Instance{args.instance}: {len(spec.staff)} staff, "
                  f"{spec.horizon.days} days, {len(spec.shifts)} shift types")  # fmt: skip
    for col in ("work density", "assignments", "hard violations", "best s", "goal"):
        table.add_column(col, justify="right")
    for p_work in (0.3, 0.55, 0.8):
        roster = random_roster(spec, 0, p_work)
        check(spec, roster)  # warm-up: first-call imports and caches are not the figure
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            report = check(spec, roster)
            times.append(time.perf_counter() - t0)
        best = min(times)
        table.add_row(
            f"{p_work:.2f}",
            str(len(roster.assignments)),
            str(len(report.hard_violations)),
            f"{best:.2f}",
            "met" if best < GOAL_SECONDS else f"missed (< {GOAL_SECONDS:g} s)",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
