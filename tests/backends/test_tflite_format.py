"""The .tflite files the backend writes, read back field by field: identifier TFL3, schema version 3, buffer 0
empty, constant data 16-byte aligned, both builtin codes set, the conservative int8 operator versions the Edge TPU
compiler v16 reads, static batch-1 shapes, int8 tensors with the quantization the IR carries."""

from __future__ import annotations

import pytest

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from ai_edge_litert import schema_py_generated as S  # noqa: E402

from conftest import HW_EXAMPLES  # noqa: E402
from tflite_models import compile_model, ops_cnn, random_calib, save  # noqa: E402

from hwc.backends.tflite_flatbuffer import check_buffer_alignment  # noqa: E402
from hwc.compiler.ir.serialize import load_graph  # noqa: E402

VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 4, "ADD": 2, "MUL": 2, "AVERAGE_POOL_2D": 2,
            "MAX_POOL_2D": 2, "MEAN": 2, "SOFTMAX": 2, "LOGISTIC": 2, "TANH": 2, "CONCATENATION": 2, "RESHAPE": 1,
            "PAD": 2, "QUANTIZE": 1, "DEQUANTIZE": 2, "RELU": 2, "RESIZE_NEAREST_NEIGHBOR": 2, "CAST": 3, "GATHER": 2}
_NAMES = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}


@pytest.fixture(scope="module", params=["ops_cnn", "digits_cnn_float_io"])
def model_dir(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    out = d / "out"
    if request.param == "ops_cnn":
        compile_model(save(ops_cnn(), d / "m.onnx"), out, calib=random_calib(d / "c.npy", (100, 3, 8, 8)))
    else:
        compile_model(HW_EXAMPLES / "digits_cnn/model.onnx", out, float_io=True,
                      calib=str(HW_EXAMPLES / "digits_data/calib_img.npz") + ":x")
    return out


def test_header_and_buffers(model_dir):
    data = (model_dir / "model.tflite").read_bytes()
    assert data[4:8] == b"TFL3"
    m = S.ModelT.InitFromObj(S.Model.GetRootAs(data, 0))
    assert m.version == 3
    assert len(m.subgraphs) == 1
    assert m.buffers[0].data is None or len(m.buffers[0].data) == 0
    check_buffer_alignment(data)  # raises unless every constant starts 16-byte aligned in the file
    used = {t.buffer for t in m.subgraphs[0].tensors}
    assert 0 not in used


def test_operator_codes_and_versions(model_dir):
    m = S.ModelT.InitFromObj(S.Model.GetRootAs((model_dir / "model.tflite").read_bytes(), 0))
    sg = m.subgraphs[0]
    seen = set()
    for oc in m.operatorCodes:
        assert oc.deprecatedBuiltinCode == min(oc.builtinCode, 127)
    for op in sg.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        name = _NAMES[oc.builtinCode]
        int32_add = name == "ADD" and sg.tensors[op.inputs[0]].type == S.TensorType.INT32  # a table's index
        assert oc.version == (1 if int32_add else VERSIONS[name]), name
        seen.add(name)
    assert "TRANSPOSE" not in seen


def test_tensors_static_int8_and_quantized_as_the_ir(model_dir):
    data = (model_dir / "model.tflite").read_bytes()
    m = S.ModelT.InitFromObj(S.Model.GetRootAs(data, 0))
    sg = m.subgraphs[0]
    g = load_graph(model_dir)
    types = {v.name: v.type.elem for v in g.values()}
    float_io = g.metadata["tflite"]["float_io"]
    for i, t in enumerate(sg.tensors):
        assert all(d > 0 for d in t.shape)
        if i in sg.inputs or i in sg.outputs:
            assert t.type == (S.TensorType.FLOAT32 if float_io else S.TensorType.INT8)
            assert t.shape[0] == 1  # batch 1
        if t.type == S.TensorType.INT8 and m.buffers[t.buffer].data is None:  # activations: per tensor
            q = t.quantization
            assert len(q.scale) == 1 and len(q.zeroPoint) == 1
            elem = types.get(t.name.decode() if isinstance(t.name, bytes) else t.name)
            if elem is not None and hasattr(elem, "scale"):
                assert q.scale[0] == pytest.approx(elem.scale[0], rel=1e-7) and q.zeroPoint[0] == elem.zero_point[0]
    for op in sg.operators:
        name = _NAMES[m.operatorCodes[op.opcodeIndex].builtinCode]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w, b = sg.tensors[op.inputs[1]], sg.tensors[op.inputs[2]]
            assert w.type == S.TensorType.INT8 and b.type == S.TensorType.INT32
            assert list(w.quantization.zeroPoint) == [0] * len(w.quantization.scale)
            assert w.quantization.quantizedDimension == (3 if name == "DEPTHWISE_CONV_2D" else 0)
            n_out = w.shape[3] if name == "DEPTHWISE_CONV_2D" else w.shape[0]
            assert len(w.quantization.scale) == n_out  # per channel
            s_in = sg.tensors[op.inputs[0]].quantization.scale[0]
            for sb, sw in zip(b.quantization.scale, w.quantization.scale):
                assert sb == pytest.approx(s_in * sw, rel=1e-6)


def test_loads_in_litert(model_dir):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(model_dir / "model.tflite"))
    it.allocate_tensors()
    assert [list(d["shape"])[0] for d in it.get_input_details()] == [1]
