"""Run sweep points as Ray tasks (`--ray [ADDRESS]`), on a local instance or a cluster.

The model and data are put once into Ray's object store and every task receives the reference (no
shared file system); each task is the same `evaluate` function the local pool runs. A task declares
its resources (simulation points 1 CPU and 1 GiB; points with --verify, which build with g++, 2 GiB;
synthesis points will need more) and Ray retries it when its worker or node is lost
(`max_retries`); a point whose retries are exhausted is reported lost and is not stored, so a rerun
evaluates it again. Without ADDRESS, Ray's own `RAY_ADDRESS` is honoured; without either, a local
instance is started, listening on the loopback interface only, and shut down at the end.
"""

from __future__ import annotations

import collections
import os
from typing import Any, Iterable, Iterator

from ..errors import HwcError
from .evaluate import Shared, Task, evaluate

GiB = 1 << 30
# Ray on Linux replaces a node address of 127.0.0.1 by the machine's routable one and its gRPC servers then
# listen on every interface, unless cluster mode is off. This variable (read when `ray` is imported, and
# inherited by the processes Ray starts) keeps a local instance on the loopback interface.
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
RESOURCES = {"simulate": {"num_cpus": 1, "memory": 1 * GiB}, "verify": {"num_cpus": 1, "memory": 2 * GiB}}
MAX_RETRIES = 3


def run_ray(shared: Shared, tasks: Iterable[Task], address: str | None) -> Iterator[tuple[str, dict[str, Any] | None]]:
    local = address is None and not os.environ.get("RAY_ADDRESS")
    if local:
        os.environ.update(LOOPBACK_ONLY)
    try:
        import ray
    except ImportError:
        raise HwcError("--ray needs Ray: pip install 'hwc[ray]'") from None
    started = False
    if not ray.is_initialized():
        if local:
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False, logging_level="ERROR")
        else:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        started = True
    try:
        shared_ref = ray.put(shared)
        kind = "verify" if shared.verify_samples else "simulate"
        remote = ray.remote(evaluate).options(max_retries=MAX_RETRIES, retry_exceptions=False, **RESOURCES[kind])
        todo, pending = collections.deque(tasks), {}
        while todo or pending:
            # tasks in flight: twice the cluster's CPUs, read again as nodes join (the queued half is the demand
            # an autoscaler sees); a killed driver then abandons little work
            window = max(2 * int(ray.cluster_resources().get("CPU", 1)), 4)
            while todo and len(pending) < window:
                t = todo.popleft()
                pending[remote.remote(shared_ref, t)] = t.key
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                key = pending.pop(ref)
                try:
                    yield key, ray.get(ref)
                except ray.exceptions.RayError:  # worker or node lost more than MAX_RETRIES times
                    yield key, None
    finally:
        if started:
            ray.shutdown()
