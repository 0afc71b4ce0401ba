"""Wall time of a full offline build (agent loop, TemplateCoder, real sandbox) per agent.

    .venv/bin/python bench/aca.py [scenario.yaml] [--agents optimizer,simulator]

Splits each build into coding (rendering the templates), sandbox (start-up and overhead
around pytest: isolation, interpreter, collection) and test time (what pytest reports).
Goal: under 10 s per agent on scenarios/nurse_ward.yaml.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from alchemist.aca import Budget, Memory, run_agent_loop
from alchemist.sandbox import get_sandbox
from alchemist.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=ROOT / "scenarios" / "nurse_ward.yaml")
    parser.add_argument("--agents", default="optimizer,simulator")
    args = parser.parse_args()
    spec = load_spec(args.scenario)
    sandbox = get_sandbox()
    print(
        f"scenario {spec.name}: {len(spec.staff)} staff, {spec.horizon.days} days; sandbox {sandbox.name}"
    )
    header = f"{'agent':<10} {'verdict':<9} {'total s':>8} {'coding s':>9} {'sandbox s':>10} {'tests s':>8}  goal"
    print(header)
    print("-" * len(header))
    for agent in args.agents.split(","):
        started = time.perf_counter()
        result = run_agent_loop(
            agent, spec, sandbox=sandbox, memory=Memory(":memory:"), budget=Budget(attempts=1)
        )
        total = time.perf_counter() - started
        mark = "ok" if total < GOAL_SECONDS else f"over {GOAL_SECONDS:.0f} s"
        print(
            f"{agent:<10} {result.verdict:<9} {total:>8.2f} {result.coding_seconds:>9.2f} "
            f"{result.sandbox_seconds:>10.2f} {result.test_seconds:>8.2f}  {mark}"
        )
        if not result.accepted:
            print(f"  {result.reason}")


if __name__ == "__main__":
    main()
