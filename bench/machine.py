"""How fast this machine is, on a fixed workload: so that timed figures from different
machines can be compared.

    .venv/bin/python bench/machine.py

Why: the optimizer's results at a fixed time limit depend on the machine. The twentieth
session's code proved Curtois Instance12 optimal in 20 s on that session's machine, and did
not in 60 s on the next session's (bench/RESULTS.md, twenty-first session). The workload is
deterministic (the same work on every run): a pure-Python loop (the search's glue code), a
NumPy pass over fresh and over reused memory (the pricing step's arrays; fresh memory
costs page faults, which are dear on some virtual machines), and HiGHS on a fixed random
LP, one thread (the solver itself). Each part is timed three times; the least counts.
"""

from __future__ import annotations

import time

import highspy
import numpy as np


def _least(run, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _python() -> None:
    total = 0
    for i in range(5_000_000):
        total += i


def _fresh_memory() -> None:
    kept = [np.full(300_000, 1e18) for _ in range(100)]  # 240 MB, page by page
    del kept


def _reused_memory() -> None:
    a, b = np.full(300_000, 1e18), np.zeros(300_000)
    for _ in range(100):
        np.minimum(a, b, out=a)


def _highs() -> None:
    rng = np.random.default_rng(0)
    rows, cols = 400, 600
    matrix = (rng.random((rows, cols)) < 0.05) * rng.integers(1, 10, (rows, cols))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "simplex")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = cols, rows
    lp.col_cost_ = -rng.integers(1, 20, cols).astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(cols), np.full(cols, 10.0)
    lp.row_lower_, lp.row_upper_ = (
        np.full(rows, -highspy.kHighsInf),
        rng.integers(50, 100, rows).astype(float),
    )
    csc = [np.flatnonzero(matrix[:, j]) for j in range(cols)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.cumsum([0] + [len(c) for c in csc])
    lp.a_matrix_.index_ = np.concatenate(csc)
    lp.a_matrix_.value_ = np.concatenate([matrix[c, j] for j, c in enumerate(csc)]).astype(float)
    for _ in range(20):
        h.passModel(lp)
        h.run()


def reference() -> dict[str, float]:
    """Seconds for each part of the workload (lower is faster)."""
    return {
        "python": _least(_python),
        "fresh_memory": _least(_fresh_memory),
        "reused_memory": _least(_reused_memory),
        "highs": _least(_highs),
    }


def describe(figures: dict[str, float]) -> str:
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in figures.items())
    return f"machine (fixed workload, lower is faster): {parts}"


if __name__ == "__main__":
    print(describe(reference()))
