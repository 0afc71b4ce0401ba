"""Column generation's lower bound on the Curtois & Qu instances, with the generated code.

    .venv/bin/python bench/colgen_curtois.py [--instances 1-12] [--time-limit 120]

Generates the optimizer for each instance (TemplateCoder) and runs its column generation
(`optimizer/columns.py`) alone, to convergence or the time limit: the Lagrangian bound, the
master LP, the pricing passes and seconds, next to the best known objective. The
optimizer itself gives column generation only a share of its budget (and none where a
pass is too slow for it); this shows what the bound is worth given the time.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curtois import BEST_KNOWN, DATA, instances  # noqa: E402  (this folder's script)

from alchemist.coders import TemplateCoder  # noqa: E402


def generated_columns(spec, folder: Path):
    """The generated `optimizer.columns` and `optimizer.data` modules for `spec`."""
    for rel, content in TemplateCoder("optimizer").generate(spec).items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    for name in [m for m in sys.modules if m == "optimizer" or m.startswith("optimizer.")]:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("optimizer.columns"), importlib.import_module(
            "optimizer.data"
        )
    finally:
        sys.path.remove(str(folder))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="1-12")
    ap.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds of pricing per instance"
    )
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    console = Console()
    table = Table(
        title=f"Column generation's bound, Curtois & Qu, at most {args.time_limit:g} s each"
    )
    for col in (
        "instance",
        "best known",
        "bound",
        "LP",
        "best known over bound %",
        "passes",
        "converged",
        "seconds",
    ):
        table.add_column(col, justify="right")
    for n, spec in instances(args.data, args.instances, console):
        with tempfile.TemporaryDirectory() as tmp:
            columns, data = generated_columns(spec, Path(tmp))
            started = time.perf_counter()
            try:  # a cap brought into the pricing state can make it too large on the way
                cg = columns.ColumnGeneration(data.Data(spec.model_dump(mode="json")))
                with console.status(f"Instance{n}: pricing"):
                    cg.start()
                    cg.price(started + args.time_limit)
            except columns.NotApplicable as why:
                console.print(f"Instance{n}: not applicable: {why}")
                continue
            seconds = time.perf_counter() - started
        best, bound = (
            BEST_KNOWN.get(n),
            math.ceil(cg.bound - 1e-6) if math.isfinite(cg.bound) else None,
        )
        console.log(f"Instance{n}: bound {bound} in {seconds:.1f}s")
        over = f"{100 * (best - bound) / bound:.2f}" if best and bound else "-"
        table.add_row(
            str(n),
            str(best or "-"),
            str(bound),
            f"{cg.lp:.2f}",
            over,
            str(cg.iterations),
            str(cg.converged),
            f"{seconds:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
