"""Executors: local process pool, serial, and an existing Dask cluster (a LocalCluster here).
Same seeds give the same numbers whichever executor ran the replications."""

from __future__ import annotations

import time

import pytest

from alchemist.executor import (
    DASK_ENV,
    DaskExecutor,
    ExecutorError,
    LocalExecutor,
    SerialExecutor,
    get_executor,
)
from alchemist.simulate import cover_roster, run_simulation, simulator_files
from tests.conftest_sim import PlainSandbox, ward_spec


def slow_square(x: int) -> int:
    time.sleep(0.02 * (5 - x % 5))  # later items finish first
    return x * x


def explode(x: int) -> int:
    raise ValueError(f"task {x} failed")


def run_all(executor) -> tuple[list[int], list[int]]:
    seen: list[int] = []
    with executor as ex:
        out = ex.map(slow_square, list(range(8)), on_done=lambda i, r: seen.append(i))
    return out, seen


def test_serial_executor_keeps_order():
    out, seen = run_all(SerialExecutor())
    assert out == [x * x for x in range(8)] and seen == list(range(8))


def test_local_pool_returns_results_in_item_order():
    ex = LocalExecutor(workers=2)
    assert ex.workers == 2 and "2 workers" in ex.describe()
    out, seen = run_all(ex)
    assert out == [x * x for x in range(8)]
    assert sorted(seen) == list(range(8))


def test_task_errors_propagate():
    with LocalExecutor(workers=1) as ex, pytest.raises(ValueError, match="task 0 failed"):
        ex.map(explode, [0])
    with pytest.raises(ValueError, match="task 3 failed"):
        SerialExecutor().map(explode, [3])


def test_get_executor_defaults_to_a_local_pool(monkeypatch):
    monkeypatch.delenv(DASK_ENV, raising=False)
    ex = get_executor(workers=3)
    assert isinstance(ex, LocalExecutor) and ex.workers == 3
    ex.close()


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(DASK_ENV, "tcp://127.0.0.1:9")
    with pytest.raises(
        ExecutorError,
        match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:9.*unset {DASK_ENV}",
    ):
        DaskExecutor("tcp://127.0.0.1:9", timeout=1)


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    yield cluster
    cluster.close()


def test_dask_executor_from_the_environment(dask_cluster, monkeypatch):
    monkeypatch.setenv(DASK_ENV, dask_cluster.scheduler_address)
    ex = get_executor()
    assert isinstance(ex, DaskExecutor) and ex.workers == 2
    out, seen = run_all(ex)
    assert out == [x * x for x in range(8)] and sorted(seen) == list(range(8))
    with get_executor() as ex2, pytest.raises(ValueError, match="task 1 failed"):
        ex2.map(explode, [1])


def test_same_seeds_same_numbers_on_every_executor(dask_cluster, monkeypatch):
    spec = ward_spec(days=7)
    roster = cover_roster(spec)
    files = simulator_files(spec)

    def simulate(executor, chunks):
        return run_simulation(
            spec,
            roster,
            replications=4,
            seed=11,
            files=files,
            sandbox=PlainSandbox(),
            executor=executor,
            chunks=chunks,
        )

    serial = simulate(SerialExecutor(), 1)
    with LocalExecutor(workers=2) as local_ex:
        local = simulate(local_ex, 2)
    monkeypatch.setenv(DASK_ENV, dask_cluster.scheduler_address)
    with get_executor() as dask_ex:
        dask = simulate(dask_ex, 4)
    assert serial.ok and local.ok and dask.ok, (serial.error, local.error, dask.error)
    assert "dask" in dask.timing.executor and "local" in local.timing.executor
    assert serial.replications == local.replications == dask.replications
    assert serial.aggregate == local.aggregate == dask.aggregate


@pytest.mark.slow
def test_dask_cluster_with_worker_processes(monkeypatch):
    distributed = pytest.importorskip("distributed")
    spec = ward_spec(days=7)
    roster = cover_roster(spec)
    files = simulator_files(spec)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        monkeypatch.setenv(DASK_ENV, cluster.scheduler_address)
        with get_executor() as ex:
            dask = run_simulation(
                spec,
                roster,
                replications=4,
                seed=2,
                files=files,
                sandbox=PlainSandbox(),
                executor=ex,
            )
    serial = run_simulation(
        spec,
        roster,
        replications=4,
        seed=2,
        files=files,
        sandbox=PlainSandbox(),
        executor=SerialExecutor(),
    )
    assert dask.ok, dask.error
    assert dask.aggregate == serial.aggregate
