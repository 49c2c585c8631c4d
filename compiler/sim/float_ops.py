"""Float-mode simulator: the table of one function per IR op, `fn(node, *inputs) -> output array(s)`.

Float ops compute as ONNX defines them (dense sums accumulated in float64, results in the node's
float type). Quantizers are exact and follow their reference implementations operation by
operation in float32 (QONNX's `int_quant`, ONNX's QuantizeLinear), so their outputs are equal to
qonnx's and onnxruntime's, not merely close. The functions live in one module per op family.
"""

from __future__ import annotations

from .float_elementwise import (binary_op, bipolar, cast, clip, hard_sigmoid, identity, leaky_relu, prelu, relu, selu,
                                sigmoid, softmax, table_function, tanh)
from .float_layers import (average_pool, batchnorm, batchnorm_affine, conv, conv_integer, dense, global_average_pool,
                           global_max_pool, matmul, matmul_integer, max_pool)
from .float_movement import concat, pad, reshape, resize, resize_indices, transpose
from .float_quantizers import (bipolar_quant, dequantize_linear, dynamic_quantize_linear, qonnx_int_range, quant,
                               quantize_linear, requantize, trunc)
from .float_transformer import gather, layer_norm
from .windows import ceil_extra as _ceil_extra, conv_windows_matmul as _conv_windows_matmul, windows as _windows

__all__ = ["FLOAT_OPS", "batchnorm_affine", "qonnx_int_range", "resize_indices",
           "_ceil_extra", "_conv_windows_matmul", "_windows"]  # the old names other modes import from here

FLOAT_OPS = {
    "Dense": dense, "MatMul": matmul, "Conv": conv, "ConvInteger": conv_integer, "MatMulInteger": matmul_integer,
    "BatchNormalization": batchnorm,
    "Relu": relu, "LeakyRelu": leaky_relu, "PRelu": prelu, "Clip": clip, "Sigmoid": sigmoid,
    "HardSigmoid": hard_sigmoid, "Tanh": tanh, "Selu": selu, "Softmax": softmax, "Identity": identity, "Bipolar": bipolar,
    "Elu": table_function, "Softplus": table_function, "HardSwish": table_function, "Swish": table_function,
    "Gelu": table_function, "Erf": table_function, "LayerNormalization": layer_norm, "Gather": gather,
    "Dropout": identity,
    "Add": binary_op("Add"), "Sub": binary_op("Sub"), "Mul": binary_op("Mul"), "Div": binary_op("Div"), "Cast": cast,
    "MaxPool": max_pool, "AveragePool": average_pool, "GlobalAveragePool": global_average_pool,
    "GlobalMaxPool": global_max_pool,
    "Concat": concat, "Reshape": reshape, "Transpose": transpose, "Pad": pad, "Resize": resize,
    "Quant": quant, "BipolarQuant": bipolar_quant, "Trunc": trunc, "QuantizeLinear": quantize_linear, "DynamicQuantizeLinear": dynamic_quantize_linear,
    "DequantizeLinear": dequantize_linear, "Requantize": requantize,
}
