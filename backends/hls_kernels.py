"""The kernel library's map: for each IR op the HLS emitter lowers (`hls_layers.Emitter`), the headers of
`templates/hls/` that define its array kernels and, per header, the kernel function templates its layer may
call (`hwc::<kernel><in_t, out_t, config>(in, out)`; Dense and Conv have XNOR-popcount forms in
`hwc_xnor.h`, Dense a per-row form in `hwc_transformer.h`). Stream kernels are
`hls_project.Project.STREAM_KERNELS`. `tests/backends/test_hls_kernels.py` checks each function is defined
in its header and that generated code calls no other kernel; the op-support matrix reads the table."""

from __future__ import annotations

_ACTIVATION = "hwc_activation.h"
_LAYOUT = "hwc_layout.h"
_POOL = "hwc_pool.h"
_ELEMENTWISE = "hwc_elementwise.h"

_TRANSFORMER = "hwc_transformer.h"
_XNOR = "hwc_xnor.h"

#: op -> (header, kernel function templates of that header its layer may call), one pair per header
KERNELS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Dense": (("hwc_dense.h", ("dense",)), (_TRANSFORMER, ("dense_rows",)), (_XNOR, ("dense_xnor",))),
    "Conv": (("hwc_conv.h", ("conv1d", "conv2d")), (_XNOR, ("conv1d_xnor", "conv2d_xnor"))),
    "Relu": ((_ACTIVATION, ("relu",)),),
    "Bipolar": ((_ACTIVATION, ("bipolar",)),),
    "LeakyRelu": ((_ACTIVATION, ("leaky_relu",)),),
    "PRelu": ((_ACTIVATION, ("prelu",)),),
    "HardSigmoid": ((_ACTIVATION, ("hard_sigmoid",)),),
    "Clip": ((_ACTIVATION, ("clip",)),),
    "Sigmoid": ((_ACTIVATION, ("sigmoid",)),),
    "Tanh": ((_ACTIVATION, ("tanh",)),),
    "Softmax": ((_ACTIVATION, ("softmax",)),),
    **{op: ((_ACTIVATION, ("table_activation",)),)
       for op in ("Selu", "Elu", "Softplus", "HardSwish", "Swish", "Gelu", "Erf")},
    "MaxPool": ((_POOL, ("max_pool1d", "max_pool2d")),),
    "AveragePool": ((_POOL, ("avg_pool1d", "avg_pool2d")),),
    "GlobalAveragePool": ((_POOL, ("global_avg_pool",)),),
    "GlobalMaxPool": ((_POOL, ("global_max_pool",)),),
    "Add": ((_ELEMENTWISE, ("add",)),),
    "Sub": ((_ELEMENTWISE, ("sub",)),),
    "Mul": ((_ELEMENTWISE, ("mul",)),),
    **{op: ((_LAYOUT, ("copy",)),) for op in ("Reshape", "Identity", "Dropout", "Cast")},
    **{op: ((_LAYOUT, ("gather",)),) for op in ("Transpose", "Resize", "Pad")},
    "Concat": ((_LAYOUT, ("concat_slice",)),),
    "Rescale": (("hwc_rescale.h", ("rescale",)),),
    "LayerNormalization": ((_TRANSFORMER, ("layer_norm",)),),
    "MatMul": ((_TRANSFORMER, ("matmul",)),),
    "Gather": ((_LAYOUT, ("gather",)),),
}
