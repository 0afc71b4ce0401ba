"""Where independent tasks run: a local process pool by default, or an existing Dask cluster.

    with get_executor() as ex:            # Dask when ALCHEMIST_DASK_SCHEDULER is set
        results = ex.map(fn, items, on_done=lambda i, r: ...)

`map` returns results in the order of `items`, whichever executor ran them and in whatever
order they finished, so a caller that makes each task deterministic (e.g. seeds derived
from the task's own index) gets the same numbers from every executor. Task functions and
items must be picklable (module-level functions; Dask also needs them importable on its
workers). An exception raised by a task propagates from `map`.
"""

from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
DoneFn = Callable[[int, Any], None]

DASK_ENV = "ALCHEMIST_DASK_SCHEDULER"


class ExecutorError(RuntimeError):
    """The executor cannot be used (e.g. the Dask scheduler is unreachable); says what to do."""


class Executor(ABC):
    """Runs `fn(item)` for every item, possibly in parallel; results in item order."""

    name: str = "executor"
    workers: int = 1

    @abstractmethod
    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_done: DoneFn | None = None
    ) -> list[R]:
        """Run every task; `on_done(index, result)` is called as each one finishes."""

    def close(self) -> None:  # noqa: B027 - optional hook: most executors hold nothing
        """Release workers or connections (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class SerialExecutor(Executor):
    """In this process, one task after the other (tests, nested use, debugging)."""

    name = "serial"

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_done: DoneFn | None = None
    ) -> list[R]:
        out = []
        for i, item in enumerate(items):
            result = fn(item)
            if on_done:
                on_done(i, result)
            out.append(result)
        return out


class LocalExecutor(Executor):
    """A pool of `workers` local processes (default: one per CPU), started on first use.

    Workers come from a fork server rather than `fork`: the caller may run threads (rich
    progress, Dask clients) that a plain fork would copy in an unknown state.
    """

    name = "local"

    def __init__(self, workers: int | None = None, start_method: str = "forkserver") -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_done: DoneFn | None = None
    ) -> list[R]:
        pool = self._ensure()
        futures: dict[Future, int] = {pool.submit(fn, item): i for i, item in enumerate(items)}
        return _collect(futures, len(items), on_done)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Tasks on an existing Dask cluster (`tcp://host:8786`), or a given `distributed.Client`.

    The cluster is not ours: closing the executor closes only the client it opened.
    """

    name = "dask"

    def __init__(
        self, address: str | None = None, client: Any = None, timeout: float = 10.0
    ) -> None:
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
            raise ExecutorError(
                "dask.distributed is not installed: pip install 'dask[distributed]'"
            ) from err
        self._own = client is None
        if client is None:
            if not address:
                raise ExecutorError(f"no Dask scheduler address: set {DASK_ENV}=tcp://host:8786")
            try:
                client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as err:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {address} ({err}); start it or unset {DASK_ENV}"
                ) from None
        self.client = client
        self.address = address or str(getattr(client.scheduler, "address", ""))
        self.workers = max(1, sum(client.nthreads().values()))

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], on_done: DoneFn | None = None
    ) -> list[R]:
        from distributed import as_completed as dask_completed

        if not items:
            return []
        # pure=False: equal items are still separate tasks (no result sharing by key)
        futures = self.client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        for future in dask_completed(futures):
            i = index[future.key]
            results[i] = future.result()  # re-raises a task's exception here
            if on_done:
                on_done(i, results[i])
        return results

    def describe(self) -> str:
        return f"dask at {self.address} ({self.workers} threads)"

    def close(self) -> None:
        if self._own and self.client is not None:
            self.client.close()
        self.client = None


def _collect(futures: dict[Future, int], n: int, on_done: DoneFn | None) -> list[Any]:
    results: list[Any] = [None] * n
    try:
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_done:
                on_done(i, results[i])
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


def get_executor(workers: int | None = None, address: str | None = None) -> Executor:
    """Dask when `address` (or env ALCHEMIST_DASK_SCHEDULER) is set, else a local process pool."""
    address = address or os.environ.get(DASK_ENV, "").strip() or None
    if address:
        return DaskExecutor(address)
    return LocalExecutor(workers)
