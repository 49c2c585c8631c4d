"""The fixed-point simulator's op table (compiler/sim/fixed_ops.py) on integer mantissas, worked by hand: each
op computes exactly, then casts into the node's output type with its rounding and overflow modes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import FixedType, Overflow, Rounding, TensorType
from hwc.compiler.sim.fixed_ops import FIXED_OPS

R, O = Rounding, Overflow


def fx(w, i, signed=True, q=R.TRN, o=O.WRAP):
    return FixedType(w, i, signed, q, o)


def _node(op, in_types, out_type, attrs=None, consts=()):
    """A node over graph inputs of `in_types` (rank 2, 2 columns) and constant mantissas `consts`."""
    g = Graph()
    ins = [g.add_input(f"x{i}", TensorType(t, (None, 2))) for i, t in enumerate(in_types)]
    ins += [g.constant(np.asarray(m, np.int64), f"c{i}", elem=t) for i, (m, t) in enumerate(consts)]
    shape = (None, 1) if op == "Dense" else (None, 4) if op == "Concat" else (None, 2)
    return g.add_node(op, ins, attrs, output_types=[TensorType(out_type, shape)])


@pytest.mark.parametrize("q, want", [(R.TRN, -4), (R.RND, -3), (R.RND_CONV, -4), (R.RND_ZERO, -3), (R.TRN_ZERO, -3)])
def test_dense_rounds_once_into_its_output(q, want):
    """x = [0.75, -1] (<4,2>: mantissas 3, -4), w = [0.25, 0.625] (<4,1>: 2, 5): acc = 6 - 20 = -14 at 2^-5
    (-0.4375); into <6,3> (2^-3): -3.5 steps, rounded by the output's mode."""
    n = _node("Dense", [fx(4, 2)], fx(6, 3, q=q, o=O.SAT), {"accum": fx(10, 5)},
              consts=[([[2], [5]], fx(4, 1))])
    assert_array_equal(FIXED_OPS["Dense"](n, np.int64([[3, -4]]), n.inputs[1].const), [[want]])


def test_dense_accumulator_wraps():
    """acc = 3·2 + 3·5 = 21 at 2^-5 in a 5-bit signed accumulator ([-16, 15]): wraps to 21 - 32 = -11,
    which the output <8,3> (also 2^-5) keeps."""
    n = _node("Dense", [fx(4, 2)], fx(8, 3), {"accum": fx(5, 0)}, consts=[([[2], [5]], fx(4, 1))])
    assert_array_equal(FIXED_OPS["Dense"](n, np.int64([[3, 3]]), n.inputs[1].const), [[-11]])


@pytest.mark.parametrize("o, want", [(O.SAT, [7, -8]), (O.WRAP, [-8, 6]), (O.SAT_SYM, [7, -7])])
def test_add_aligns_fractions_then_overflows_by_mode(o, want):
    """a <6,3> (2^-3) + b <6,4> (2^-2): a + 2b at 2^-3; [20 + 2·2, -20 + 2·(-3)] = [24, -26] into <4,1> (2^-3)."""
    n = _node("Add", [fx(6, 3), fx(6, 4)], fx(4, 1, o=o))
    assert_array_equal(FIXED_OPS["Add"](n, np.int64([[20, -20]]), np.int64([[2, -3]])), [want])


def test_mul_leaky_relu_clip_relu():
    mul = _node("Mul", [fx(4, 2), fx(4, 2)], fx(8, 4))  # 2^-2 · 2^-2 = 2^-4: exact
    assert_array_equal(FIXED_OPS["Mul"](mul, np.int64([[3, -5]]), np.int64([[-2, 7]])), [[-6, -35]])
    lr = _node("LeakyRelu", [fx(6, 3)], fx(8, 3, q=R.RND, o=O.SAT), {"alpha": 0.125, "param_type": fx(8, 1)})
    # alpha = 0.125 is mantissa 16 at 2^-7: x<0 -> x·16 at 2^-10, x>=0 -> x << 7; into 2^-5
    assert_array_equal(FIXED_OPS["LeakyRelu"](lr, np.int64([[-12, 9]])), [[-6, 36]])
    clip = _node("Clip", [fx(6, 3)], fx(6, 3), {"min": -0.3, "max": 0.9})
    # on the 2^-3 grid: min rounds up to -2 (-0.25), max down to 7 (0.875)
    assert_array_equal(FIXED_OPS["Clip"](clip, np.int64([[-20, 20]])), [[-2, 7]])
    relu = _node("Relu", [fx(6, 3)], fx(4, 2, False, o=O.SAT))
    assert_array_equal(FIXED_OPS["Relu"](relu, np.int64([[-5, 31]])), [[0, 15]])  # 31 · 2^-3 -> 15 · 2^-2


def test_concat_casts_each_input_into_the_output_type():
    n = _node("Concat", [fx(6, 3), fx(6, 4)], fx(6, 4, q=R.RND), {"axis": 1})
    assert_array_equal(FIXED_OPS["Concat"](n, np.int64([[3, -3]]), np.int64([[5, 6]])), [[2, -1, 5, 6]])
