"""simulate loads the plan's numba kernels once a graph's batches add up to JIT_MIN_ELEMS activation
values: one large batch, or many small calls (a regression suite), and the bits do not change."""

import subprocess
import sys

from tests.conftest import HW_EXAMPLES

CHILD = """
import sys
import numpy as np
from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim import run

ex = sys.argv[1]
c = compile_file(ex + "/jet_mlp/model.onnx", QuantConfig(wbits=8, abits=16), [np.load(ex + "/jet_mlp/calib.npz")["x"]])
x = np.load(ex + "/jet_mlp/test.npz")["x_test"][:100]
run.JIT_MIN_ELEMS = 3 * 100 * 64 + 1  # the largest per-sample value has 64 elements: the 4th call crosses it
loaded, outs = [], []
for _ in range(4):
    outs.append(run.simulate(c.graph, [x], mode="fixed")[0])
    loaded.append("numba" in sys.modules)
assert all(np.array_equal(o, outs[0]) for o in outs)
assert np.array_equal(outs[0], run.simulate(c.graph, [x], mode="fixed", reference=True)[0])
print(loaded)
"""


def test_many_small_batches_switch_to_the_compiled_kernels_with_the_same_bits():
    res = subprocess.run([sys.executable, "-c", CHILD, str(HW_EXAMPLES)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[False, False, False, True]"
