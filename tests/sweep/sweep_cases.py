"""The 24-point sweep of the digits CNN that the executor tests share, and table comparison."""

from __future__ import annotations

from conftest import HW_EXAMPLES

from hwc.compiler.cli import main
from hwc.compiler.sweep.store import ResultStore

DATA = HW_EXAMPLES / "digits_data"
CNN_SWEEP = [str(HW_EXAMPLES / "digits_cnn" / "model.onnx"), "--target", "sim",
             "--wbits", "2,3,4,8", "--abits", "4,8,16", "--prune", "0:0.5:0.5",
             "--calib", f"{DATA / 'calib_img.npz'}:x", "--val", f"{DATA / 'test_img.npz'}:x_test",
             "--val-labels", f"{DATA / 'test_img.npz'}:y_test"]
RUN_DEPENDENT = ("durations", "worker", "finished")  # how and when a point ran, not what it computed


def sweep(out, *extra) -> int:
    return main(["sweep", *CNN_SWEEP, "-o", str(out), *extra])


def table(sweep_dir) -> list[dict]:
    """The results table without the run-dependent columns, ordered by point key."""
    store = ResultStore(sweep_dir, create=False)
    try:
        return [{k: v for k, v in r.items() if k not in RUN_DEPENDENT} for r in store.rows()]
    finally:
        store.close()
