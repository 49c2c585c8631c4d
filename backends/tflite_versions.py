"""The TFLite operator versions: the one table of the versions hwc writes (`OP_VERSIONS`, by tensor type
where it matters) and of the newest versions the Edge TPU compiler v16 reads (`EDGETPU_MAX_VERSIONS`).

Written versions are those the TF converter (tensorflow/lite/tools/versioning/op_version.cc,
GetBuiltinOperatorVersion) assigns to the int8 form of each op. The Edge TPU compiler v16 refuses
versions newer than the ones it knows, so we never go higher.
  CONV_2D            3  int8 in, int8 filter, int8 out (per-channel filter is v3 too)
  DEPTHWISE_CONV_2D  3  int8 (dilation does not raise it for int8)
  FULLY_CONNECTED    4  int8 with bias; 5 if keep_num_dims; 6 if only 2 inputs (no bias)
  ADD                2  int8 (1 on int32: a table index)
  MUL                2  int8; 3 if s_in1 * s_in2 / s_out >= 1 (see `op_version`)
  AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, SOFTMAX, LOGISTIC, TANH, CONCATENATION  2  int8
  RESHAPE            1  (no type-dependent version)
  PAD                2  int8, rank <= 4
  QUANTIZE           1  float32 -> int8/uint8 per tensor (2 is int16 output)
  DEQUANTIZE         2  int8 -> float32 per tensor (1 is uint8)
  RELU, RESIZE_NEAREST_NEIGHBOR, GATHER  2  int8;  CAST  3  int8 -> int32
  FULLY_CONNECTED    1  float32 (an exact float output layer, compiler/passes/exact_float_output.py)
  16x8 (int16 activations): FULLY_CONNECTED 7, CONV_2D 4, DEPTHWISE_CONV_2D 5, MAX_POOL_2D 3, AVERAGE_POOL_2D 3,
  PAD 4, RELU 3
"""

from __future__ import annotations

from typing import Sequence

OP_VERSIONS: dict[str, int] = {
    "CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "ADD": 2, "MUL": 2, "AVERAGE_POOL_2D": 2,
    "MAX_POOL_2D": 2, "MEAN": 2, "SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2, "CONCATENATION": 2, "RESHAPE": 1,
    "PAD": 2, "QUANTIZE": 1, "DEQUANTIZE": 2, "RELU": 2, "RESIZE_NEAREST_NEIGHBOR": 2, "CAST": 3, "GATHER": 2,
}
#: versions that differ from OP_VERSIONS when the op's input is not int8
OP_VERSIONS_BY_DTYPE: dict[str, dict[str, int]] = {
    "int32": {"ADD": 1}, "float32": {"FULLY_CONNECTED": 1},
    "int16": {"FULLY_CONNECTED": 7, "CONV_2D": 4, "DEPTHWISE_CONV_2D": 5, "MAX_POOL_2D": 3, "AVERAGE_POOL_2D": 3, "PAD": 4, "RELU": 3,
              "RESHAPE": 1},  # the 16x8 mode (int16 activations, int8 weights)
}

#: Newest versions the Edge TPU compiler v16 is known to read (the converter's int8 versions, and the
#: refined ones of `op_version`); a newer version is refused ("Operation version not supported").
EDGETPU_MAX_VERSIONS: dict[str, int] = {
    **{op: OP_VERSIONS[op] for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN",
                                      "SOFTMAX", "LOGISTIC", "TANH", "CONCATENATION", "RESHAPE", "PAD", "RELU",
                                      "RESIZE_NEAREST_NEIGHBOR")},
    "FULLY_CONNECTED": 5, "MUL": 3, "QUANTIZE": 2,
}


def op_version(op: str, *, dtype: str = "int8", input_scales: Sequence[float] | None = None,
               output_scale: float | None = None, num_inputs: int | None = None, keep_num_dims: bool = False) -> int:
    """The conservative version of `op` on inputs of `dtype`, refined where the converter refines it.

    MUL becomes version 3 when ``s_in1 * s_in2 / s_out >= 1`` (pass `input_scales` and
    `output_scale`); FULLY_CONNECTED becomes 5 with `keep_num_dims` and 6 with only two
    inputs (no bias). Everything else comes from `OP_VERSIONS` (1 for ops not listed).
    """
    v = OP_VERSIONS_BY_DTYPE.get(dtype, {}).get(op, OP_VERSIONS.get(op, 1))
    if op == "MUL" and input_scales is not None and output_scale:
        if input_scales[0] * input_scales[1] / output_scale >= 1.0:
            v = 3
    if op == "FULLY_CONNECTED" and dtype == "int8":
        if num_inputs == 2:
            v = 6
        elif keep_num_dims:
            v = 5
    return v
