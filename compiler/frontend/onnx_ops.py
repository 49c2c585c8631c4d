"""ONNX → IR handlers for float operators: the HANDLERS table, one function per ONNX op, named after it.

A handler gets the context, the input values (None for an omitted optional input) and the ONNX
attributes as keyword arguments with the ONNX defaults. It normalises every opset's form (6..22)
into explicit IR attributes and returns the output value(s). The handlers live in one module per
operator family.
"""

from __future__ import annotations

from .onnx_elementwise import (Add, Cast, Clip, Div, Elu, Gelu, HardSigmoid, HardSwish, LeakyRelu, Mul, PRelu, Relu,
                               Selu, Sigmoid, Softmax, Softplus, Sub, Swish, Tanh)
from .onnx_layers import AveragePool, BatchNormalization, Conv, Gemm, GlobalAveragePool, GlobalMaxPool, MatMul, MaxPool
from .onnx_movement import (Concat, Constant, Dropout, Flatten, Identity, Pad, Reshape, Resize, Shape, Size, Squeeze,
                            Transpose, Unsqueeze, Upsample)
from .onnx_transformer import Erf, Gather, LayerNormalization, Slice, Split

HANDLERS = {
    f.__name__: f
    for f in (Gemm, MatMul, Conv, BatchNormalization, Relu, LeakyRelu, PRelu, Clip, Sigmoid, HardSigmoid, Tanh, Selu,
              Elu, Softplus, HardSwish, Swish, Gelu,
              Softmax, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Add, Sub, Mul, Div, Concat, Flatten,
              Reshape, Transpose, Squeeze, Unsqueeze, Pad, Identity, Dropout, Resize, Upsample, Cast, Constant, Shape, Size,
              LayerNormalization, Erf, Gather, Slice, Split)
}

