"""`hwc sweep --ray` on a local Ray instance (loopback, 2 CPUs, one instance for the module): the same
results table as the local pool, every point exactly once when a worker is killed, and a killed driver
resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sweep_cases import CNN_SWEEP, sweep, table

from hwc.compiler.sweep.ray_pool import LOOPBACK_ONLY
from hwc.compiler.sweep.store import ResultStore

POINTS = 24
# one xdist worker runs the whole module (`make test` uses --dist loadgroup): one Ray instance, one reference
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "sweep"
    assert sweep(out, "--jobs", "2") == 0
    rows = table(out)
    assert len(rows) == POINTS and all(r["status"] == "ok" for r in rows)
    return rows


@pytest.fixture(scope="module")
def ray_address():
    os.environ.update(LOOPBACK_ONLY)  # before Ray is imported; the driver subprocess inherits it
    import ray

    ctx = ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
                   logging_level="ERROR")
    try:
        yield ctx.address_info["gcs_address"]
    finally:
        ray.shutdown()


def test_instance_is_on_loopback(ray_address):
    import ray

    assert ray_address.startswith("127.0.0.1:")
    assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
    port = int(ray_address.rsplit(":", 1)[1])
    assert _listening(port) and all(a in LOOPBACK for a in _listening(port)), _listening(port)


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}  # /proc/net hex


def _listening(port: int) -> list[str]:
    """Local addresses (as /proc/net/tcp{,6} spell them) of the sockets listening on `port`."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                out.append(addr)
    return out


def test_ray_table_equals_local_pool(reference, ray_address, tmp_path):
    assert sweep(tmp_path / "sweep", "--ray") == 0
    assert table(tmp_path / "sweep") == reference


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _running_task_worker() -> int | None:
    """A Ray worker of this test's instance that is executing a sweep point now."""
    for pid in _descendants(os.getpid()):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if title.startswith(b"ray::evaluate"):
            return pid
    return None


def test_killed_worker_every_point_once(reference, ray_address, tmp_path):
    killed = []

    def killer():
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            pid = _running_task_worker()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.01)

    t = threading.Thread(target=killer)
    t.start()
    try:
        assert sweep(tmp_path / "sweep", "--ray") == 0
    finally:
        killed.append(None)  # stops the killer if the sweep ended first
        t.join()
    assert isinstance(killed[0], int), "no worker was running a point while the sweep ran"
    assert table(tmp_path / "sweep") == reference


def test_killed_driver_resumes(reference, ray_address, tmp_path):
    out = tmp_path / "sweep"
    exe = Path(sys.executable).parent / "hwc"
    driver = subprocess.Popen([str(exe), "sweep", *CNN_SWEEP, "-o", str(out), "--ray", ray_address],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 180
    while done < 2 and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.02)
        if (out / "results.sqlite").exists():
            store = ResultStore(out, create=False)
            done = len(store.done_keys())
            store.close()
    assert driver.poll() is None, f"the driver ended before it was killed: {driver.stderr.read().decode()[-2000:]}"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    partial = table(out)
    assert 2 <= len(partial) < POINTS
    assert sweep(out, "--ray") == 0
    assert table(out) == reference
