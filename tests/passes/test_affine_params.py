"""TFLite int8 parameters (nudged ranges, carried quantizers) and the state the affine passes share."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, AffineType, IntType, TensorType
from hwc.compiler.passes.affine_params import AffineState, Params, carried_params, choose_params, constant_scalar


@pytest.mark.parametrize("lo, hi, scale, zp", [
    (0.0, 2.55, 0.01, -128),       # a Relu output: 0 is code -128
    (-1.0, 1.0, 2 / 255, 0),       # zp = -128 + 127.5 rounds to 0 (half even in numpy)
    (0.5, 2.55, 0.01, -128),       # the range is widened to hold 0
    (-2.55, -0.5, 0.01, 127),      # ... from above too
    (0.0, 0.0, 1 / 255, -128),     # an all-zero tensor still gets a usable scale
])
def test_choose_params(lo, hi, scale, zp):
    p = choose_params(lo, hi)
    assert p.scale == pytest.approx(scale, rel=1e-6) and p.zp == zp
    assert p.scale == float(np.float32(p.scale))  # what the flatbuffer stores, exactly


@pytest.mark.parametrize("qmin, qmax, z, expect", [
    (0, 255, 0, Params(0.5, -128, -128, 127)),    # uint8
    (0, 15, 0, Params(0.5, 112, 112, 127)),       # uint4 after a Relu: the clamp is [z, 127] = a fused RELU
    (-128, 127, 3, Params(0.5, 3, -128, 127)),    # int8
    (-7, 7, 0, Params(0.5, 120, 113, 127)),       # int4 narrow: top aligned at 127
])
def test_carried_params(qmin, qmax, z, expect):
    assert carried_params(0.5, z, qmin, qmax, None) == expect


def test_carried_params_refuse_what_int8_cannot_hold():
    g = Graph()
    n = g.add_node("Relu", [g.add_input("x", TensorType(F32, (None, 2)))], name="q")
    with pytest.raises(HwcError, match="a 512-level quantizer does not fit int8"):
        carried_params(0.5, 0, 0, 511, n)
    with pytest.raises(HwcError, match="quantizer scale must be positive"):
        carried_params(0.0, 0, -128, 127, n)


def test_constant_scalar():
    g = Graph()
    n = g.add_node("Relu", [g.add_input("x", TensorType(F32, (None, 2)))], name="q")
    assert constant_scalar(None, n, "scale", 7.0) == 7.0
    assert constant_scalar(g.constant(np.float32([0.25, 0.25])), n, "scale") == 0.25  # equal entries: per tensor
    with pytest.raises(HwcError, match="per-channel activation scales are not supported"):
        constant_scalar(g.constant(np.float32([0.25, 0.5])), n, "scale")
    with pytest.raises(HwcError, match="the zero point must be a constant"):
        constant_scalar(n.inputs[0], n, "zero point")


def test_params_elem_shifts_uint8_storage_by_128():
    p = Params(0.5, -100)
    assert p.elem() == AffineType(IntType(8), (0.5,), (-100,), None)
    assert p.elem(IntType(8, False)) == AffineType(IntType(8, False), (0.5,), (28,), None)
    assert p.same(Params(0.5, -100, 0, 127)) and not p.same(Params(0.5, -99))


def test_state_keys_ranges_by_value_and_carries_once():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2)))
    r = g.add_node("Relu", [x], name="r")
    st = AffineState.of(g, {"x": (-1.0, 1.0), "gone": (0.0, 1.0)})
    assert st.ranges == {x: (-1.0, 1.0)}
    assert st.range(x) == (-1.0, 1.0) and st.ranged == {x}
    assert st.carry(g, x, Params(0.5, 0), r) is x  # first parameters: recorded on the value itself
    assert st.carry(g, x, Params(0.5, 0), r) is x  # the same again: nothing new
    v = st.carry(g, x, Params(0.25, 3), r)         # different: a requantizing Cast
    assert v.producer.op == "Cast" and v.producer.inputs == [x] and st.carried[v] == Params(0.25, 3)
    assert st.carried[x] == Params(0.5, 0)
    with pytest.raises(HwcError, match="no value range for r"):
        st.range(r.output)
