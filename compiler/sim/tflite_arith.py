"""Bit-exact numpy models of LiteRT's (TFLite's) int8 kernels, per op resolver path.

Every op function takes int8 numpy arrays (any leading batch dimensions), the
quantization parameters exactly as stored in the flatbuffer (scales are float32 there:
pass Python floats or np.float32 and they are rounded to float32 first), and a `mode`
naming the interpreter's op resolver:

- ``"ref"``      ``OpResolverType.BUILTIN_REF``: TFLite reference kernels.
- ``"xnnpack"``  ``OpResolverType.AUTO`` / ``BUILTIN``: optimized kernels with the default
  XNNPACK delegate. Ops the delegate does not take (AVERAGE_POOL_2D, SOFTMAX for int8)
  run the builtin optimized kernel, so for those ``"xnnpack"`` equals ``"builtin"``.
- ``"builtin"``  ``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``: TFLite's optimized
  kernels (ruy GEMM on x86) without XNNPACK.

The formulas were measured against ai-edge-litert 2.3.0 on x86-64 (see
docs/tflite_arithmetic.md for the evidence) and checked by tests/sim/test_tflite_arith.py.

Rounding vocabulary used in the docstrings:

- *half away*: ties away from zero (C ``std::round``),
- *half even*: ties to even (``lrintf``/``cvtps2dq`` under the default MXCSR, ``np.rint``),
- *half up*: ties toward +inf (``(x + 2^(n-1)) >> n``),
- *gemmlowp double rounding*: ``RDBPOT(SRDHM(x * 2^left, m), right)``; SRDHM rounds half up
  (it rounds half away for positive products and half toward zero for negative ones,
  which is "up" in both cases), RDBPOT rounds half away from zero.

The kernels by job: compiler/sim/tflite_requant.py (multipliers, requantization), tflite_layers.py
(layers, pools, elementwise, data movement, QUANTIZE/DEQUANTIZE), tflite_activations.py (LOGISTIC, TANH,
SOFTMAX); this module is their one namespace (`tflite_ops` and the tests use it as `ta`).
"""

from __future__ import annotations

from .tflite_activations import logistic, softmax, tanh
from .tflite_layers import (add, average_pool_2d, concatenation, conv_2d,
                            depthwise_conv_2d, dequantize, fully_connected, max_pool_2d, mean_hw, mul, pad, quantize,
                            reshape)
from .tflite_requant import (MODES, activation_range, multiply_by_quantized_multiplier,
                             multiply_by_quantized_multiplier_round_up, quantize_multiplier, requantize_fp32,
                             round_half_away, rounding_divide_by_pot, saturating_rounding_doubling_high_mul)

__all__ = [
    "MODES",
    "quantize_multiplier",
    "saturating_rounding_doubling_high_mul",
    "rounding_divide_by_pot",
    "multiply_by_quantized_multiplier",
    "multiply_by_quantized_multiplier_round_up",
    "requantize_fp32",
    "round_half_away",
    "activation_range",
    "fully_connected",
    "conv_2d",
    "depthwise_conv_2d",
    "max_pool_2d",
    "average_pool_2d",
    "mean_hw",
    "add",
    "mul",
    "concatenation",
    "reshape",
    "pad",
    "softmax",
    "logistic",
    "tanh",
    "quantize",
    "dequantize",
]
