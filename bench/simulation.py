"""Simulation throughput on scenarios/nurse_ward.yaml (4 weeks).

Prints, measured in the same run:
- SimPy events per second of the generated ward model (in-process, whole replications:
  demand generation, event loop and KPIs) and of a bare SimPy loop (timeouts and resource
  request/release only, the ceiling), interleaved so machine load hits both alike.
  Goal: the model within 2x of the ceiling per event.
- replications per second through the executor + sandbox on 1 and 2 workers (same chunking,
  warm pools) and the scaling ratio. Goal: 2 workers >= 1.7x one.

    .venv/bin/python bench/simulation.py [--replications 80] [--rounds 5] [--scenario PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import simpy

from alchemist.executor import LocalExecutor
from alchemist.sandbox.base import Sandbox
from alchemist.simulate import cover_roster, run_simulation, simulator_files
from alchemist.spec import ProblemSpec, Schedule, load_spec

ROOT = Path(__file__).resolve().parents[1]
GOAL_PER_EVENT = 2.0
GOAL_SCALING = 1.7


def load_generated(files: dict[str, str], tmp: Path) -> ModuleType:
    path = tmp / "sim.py"
    path.write_text(files["simulator/sim.py"])
    spec = importlib.util.spec_from_file_location("bench_generated_sim", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_run(
    sim: ModuleType, problem: dict, schedule: dict, replications: int, seed: int
) -> tuple[int, float]:
    """(events, seconds) for `replications` whole replications of the generated model."""
    started = time.perf_counter()
    out = sim.simulate(
        problem, schedule, {"replications": replications, "seed": seed, "deterministic": False}
    )
    return out["timing"]["events"], time.perf_counter() - started


def bare_run(
    customers: int, servers: int, mean_gap: float, mean_service: float, seed: int
) -> tuple[int, float]:
    """A bare SimPy M/M/c loop: one source process, one process per customer that requests a
    Resource, holds a timeout and releases. (events, seconds)."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(mean_gap, customers).tolist()
    service = rng.exponential(mean_service, customers).tolist()
    started = time.perf_counter()
    env = simpy.Environment()
    nurses = simpy.Resource(env, capacity=servers)

    def customer(hold: float):
        req = nurses.request()
        yield req
        yield env.timeout(hold)
        nurses.release(req)

    def source():
        for k in range(customers):
            yield env.timeout(gaps[k])
            env.process(customer(service[k]))

    env.process(source())
    env.run()
    return next(env._eid), time.perf_counter() - started


def direct_task(task: tuple[str, dict, dict, dict]) -> float:
    """Executor task without a sandbox: run the generated model in the worker; seconds."""
    path, problem, schedule, config = task
    module = _load_path(path)
    started = time.perf_counter()
    module.simulate(problem, schedule, config)
    return time.perf_counter() - started


_MODULES: dict[str, ModuleType] = {}


def _load_path(path: str) -> ModuleType:
    if path not in _MODULES:
        spec = importlib.util.spec_from_file_location("bench_worker_sim", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def direct_throughput(
    path: str, problem: dict, schedule: dict, replications: int, chunks: int, rounds: int
) -> dict[int, float]:
    """workers -> replications per second with the model run directly in pool workers (no
    sandbox start-ups): how far this host lets two processes scale right now."""
    size = replications // chunks
    tasks = [
        (
            path,
            problem,
            schedule,
            {
                "replications": size,
                "seed": 7,
                "deterministic": False,
                "replication_offset": i * size,
            },
        )
        for i in range(chunks)
    ]
    pools = {1: LocalExecutor(workers=1), 2: LocalExecutor(workers=2)}
    best = {1: 0.0, 2: 0.0}
    try:
        for w, ex in pools.items():
            ex.map(direct_task, tasks[:w])  # warm: import numpy/simpy and the model
        for _ in range(rounds):
            for w, ex in pools.items():
                started = time.perf_counter()
                ex.map(direct_task, tasks)
                best[w] = max(best[w], size * chunks / (time.perf_counter() - started))
    finally:
        for ex in pools.values():
            ex.close()
    return best


def per_event(runs: list[tuple[int, float]]) -> float:
    """Median events per second over runs."""
    return statistics.median(e / s for e, s in runs)


def default_sandbox() -> Sandbox:
    from alchemist.sandbox import SandboxUnavailable, get_sandbox

    try:
        return get_sandbox()
    except SandboxUnavailable as err:
        print(f"(no sandbox here: {err}; the throughput part needs one)")
        raise SystemExit(1) from None


def throughput(
    spec: ProblemSpec,
    schedule: Schedule,
    files: dict[str, str],
    replications: int,
    chunks: int,
    rounds: int,
) -> dict[int, tuple[float, float]]:
    """workers -> (replications per second, events per second inside the sandboxes).

    Both pools are warmed up first; rounds alternate 1 and 2 workers (this host is shared,
    so load changes hit both alike) and the fastest round of each counts.
    """
    sandbox = default_sandbox()
    pools = {1: LocalExecutor(workers=1), 2: LocalExecutor(workers=2)}
    best: dict[int, tuple[float, float]] = {1: (0.0, 0.0), 2: (0.0, 0.0)}
    try:
        for w, ex in pools.items():
            warm = run_simulation(
                spec,
                schedule,
                replications=w,
                seed=0,
                files=files,
                sandbox=sandbox,
                executor=ex,
                chunks=w,
            )
            if not warm.ok:
                raise SystemExit(f"simulation failed: {warm.error}")
        for r in range(rounds):
            for w, ex in pools.items():
                started = time.perf_counter()
                res = run_simulation(
                    spec,
                    schedule,
                    replications=replications,
                    seed=r,
                    files=files,
                    sandbox=sandbox,
                    executor=ex,
                    chunks=chunks,
                )
                wall = time.perf_counter() - started
                if not res.ok:
                    raise SystemExit(f"simulation failed: {res.error}")
                if replications / wall > best[w][0]:
                    best[w] = (replications / wall, res.timing.events_per_second)
    finally:
        for ex in pools.values():
            ex.close()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "nurse_ward.yaml"))
    parser.add_argument("--replications", type=int, default=200, help="per throughput measurement")
    parser.add_argument(
        "--throughput-rounds", type=int, default=3, help="alternating 1/2-worker rounds"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds for events/s")
    parser.add_argument("--per-round", type=int, default=5, help="replications per model round")
    args = parser.parse_args(argv)

    spec = load_spec(args.scenario)
    schedule = cover_roster(spec)
    files = simulator_files(spec)
    problem, roster = spec.model_dump(mode="json"), schedule.model_dump(mode="json")
    print(
        f"scenario {spec.name}: {spec.horizon.days} days, {len(spec.staff)} staff, "
        f"{len(schedule.assignments)} rostered shifts (cover_roster), family {spec.simulation.family}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        sim = load_generated(files, Path(tmp))
        direct = direct_throughput(
            str(Path(tmp) / "sim.py"), problem, roster, args.replications, 4, args.throughput_rounds
        )
        first = sim.simulate(
            problem, roster, {"replications": 1, "seed": 0, "deterministic": False}
        )
        k = first["replications"][0]["kpis"]
        arrivals, events = int(k["arrivals"]), first["timing"]["events"]
        # the ceiling queue: as many servers as staff per shift on average, the same load
        servers = max(1, round(len(schedule.assignments) / (spec.horizon.days * len(spec.shifts))))
        span = spec.horizon.days * 1440.0
        mean_gap = span / max(1, arrivals)
        mean_service = k["utilization"] * servers * mean_gap
        model_runs: list[tuple[int, float]] = []
        bare_runs: list[tuple[int, float]] = []
        for r in range(args.rounds):  # interleaved: load changes hit both alike
            model_runs.append(model_run(sim, problem, roster, args.per_round, seed=100 + r))
            bare_runs.append(
                bare_run(arrivals * args.per_round, servers, mean_gap, mean_service, seed=r)
            )
    model_eps, bare_eps = per_event(model_runs), per_event(bare_runs)
    ratio = bare_eps / model_eps
    print(f"one replication: {arrivals} arrivals, {events} SimPy events")
    print(
        f"generated model : {model_eps:12,.0f} events/s  "
        f"({statistics.median(s / args.per_round for _, s in model_runs) * 1000:.1f} ms per replication, in-process)"
    )
    print(
        f"bare SimPy loop : {bare_eps:12,.0f} events/s  (ceiling: M/M/{servers}, request/timeout/release)"
    )
    print(
        f"per-event cost  : {ratio:.2f}x the ceiling (goal <= {GOAL_PER_EVENT}x) "
        f"{'OK' if ratio <= GOAL_PER_EVENT else 'MISSED'}"
    )

    n = args.replications
    chunks = 4  # the same batches for both, so only the parallelism differs
    best = throughput(spec, schedule, files, n, chunks, args.throughput_rounds)
    (one, eps1), (two, eps2) = best[1], best[2]
    scaling = two / one
    print(
        f"1 worker  : {one:6.2f} replications/s  ({n} replications in {chunks} sandbox runs, "
        f"fastest of {args.throughput_rounds}; {eps1:,.0f} events/s inside)"
    )
    print(f"2 workers : {two:6.2f} replications/s  ({eps2:,.0f} events/s inside)")
    print(
        f"scaling   : {scaling:.2f}x (goal >= {GOAL_SCALING}x) {'OK' if scaling >= GOAL_SCALING else 'MISSED'}"
    )
    print(
        f"host check: the model run directly in 1 / 2 pool workers (no sandbox): "
        f"{direct[1]:.2f} / {direct[2]:.2f} replications/s = {direct[2] / direct[1]:.2f}x "
        "(what this shared host allows right now)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
