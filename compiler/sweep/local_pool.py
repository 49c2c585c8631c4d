"""Run sweep points in a local process pool (`--jobs N`): the shared model and data go to each worker
once (pool initializer); results are yielded as points finish, in completion order."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

from ..errors import HwcError
from .evaluate import Shared, Task, evaluate

_shared: Shared | None = None


def _init(shared: Shared) -> None:
    global _shared
    _shared = shared


def _run(task: Task) -> tuple[str, dict[str, Any]]:
    return task.key, evaluate(_shared, task)


def run_local(shared: Shared, tasks: Iterable[Task], jobs: int) -> Iterator[tuple[str, dict[str, Any]]]:
    tasks = list(tasks)
    if jobs == 1:
        for t in tasks:
            yield t.key, evaluate(shared, t)
        return
    # spawn, not fork: the driver has threads (progress bar, SQLite) that a fork would copy mid-state
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init, initargs=(shared,)) as pool:
        futures = [pool.submit(_run, t) for t in tasks]
        try:
            for f in as_completed(futures):
                yield f.result()
        except BrokenProcessPool:
            raise HwcError("a sweep worker process died (out of memory?); the finished points are stored: "
                           "run the same command again to resume") from None
        finally:
            for f in futures:
                f.cancel()
