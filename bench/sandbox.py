"""Start-up overhead each sandbox adds over a bare subprocess.

Median of N runs (default 20) of `python -c pass` and of `python -c "import pyomo.environ"`,
bare (subprocess.run of the same interpreter, output captured) and through every sandbox
that works here. Goal: LocalSandbox adds under 30 ms.

    .venv/bin/python bench/sandbox.py [--runs 20] [--no-import]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from alchemist.sandbox import (
    DockerSandbox,
    Limits,
    LocalSandbox,
    Sandbox,
    SandboxUnavailable,
    SubprocessSandbox,
)
from alchemist.sandbox.local import runtime_paths

GOAL_MS = 30.0
LIMITS = Limits(wall_seconds=120, cpu_seconds=120, memory_mb=2048)
PROGRAMS = {"python -c pass": "pass", "import pyomo.environ": "import pyomo.environ"}


def interleaved_medians(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time (ms) of each fn, alternating between them every round so a change
    in machine load (this host is shared) hits all of them alike."""
    for fn in fns.values():
        fn()  # warm caches (page cache, probe results) once, untimed
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) * 1000 for name, ts in times.items()}


def sandboxes() -> dict[str, Sandbox | str]:
    found: dict[str, Sandbox | str] = {}
    for label, make in (
        ("LocalSandbox (bwrap)", lambda: LocalSandbox(backend="bwrap")),
        ("LocalSandbox (unshare fallback)", lambda: LocalSandbox(backend="unshare")),
        ("SubprocessSandbox (unsafe)", SubprocessSandbox),
        ("DockerSandbox", DockerSandbox),
    ):
        try:
            found[label] = make()
        except SandboxUnavailable as exc:
            found[label] = str(exc)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-import", action="store_true", help="skip the pyomo import case")
    args = parser.parse_args()
    python = str(Path(runtime_paths()[0]) / "bin" / "python") if runtime_paths() else "python3"
    programs = {k: v for k, v in PROGRAMS.items() if not (args.no_import and "pyomo" in v)}
    boxes = sandboxes()

    print(f"sandbox start-up overhead, median of {args.runs} interleaved runs")
    for label, box in boxes.items():
        if isinstance(box, str):
            print(f"  {label}: unavailable: {box}")
    usable = {label: box for label, box in boxes.items() if not isinstance(box, str)}
    verdict = None
    for name, code in programs.items():

        def bare(code: str = code) -> None:
            subprocess.run([python, "-c", code], capture_output=True, check=True)

        fns: dict[str, Callable[[], object]] = {"bare subprocess": bare}
        for label, box in usable.items():

            def once(box: Sandbox = box, code: str = code, label: str = label) -> None:
                result = box.run(["python", "-c", code], {}, LIMITS)
                if not result.ok:
                    raise RuntimeError(f"{label}: {result.explain()}")

            fns[label] = once
        medians = interleaved_medians(fns, args.runs)
        print(f"\n{name}")
        base = medians["bare subprocess"]
        for label, ms in medians.items():
            added = "" if label == "bare subprocess" else f"  (+{ms - base:.1f} ms)"
            print(f"  {label:34}{ms:9.1f} ms{added}")
            if label == "LocalSandbox (bwrap)" and name == "python -c pass":
                verdict = ms - base
    if verdict is not None:
        status = "met" if verdict < GOAL_MS else "MISSED"
        print(
            f"\ngoal: LocalSandbox adds < {GOAL_MS:.0f} ms to `python -c pass`: {status} (+{verdict:.1f} ms)"
        )


if __name__ == "__main__":
    main()
