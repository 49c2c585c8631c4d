"""Shared helpers for the hw_examples training scripts.

Everything here is deterministic: fixed seeds, single thread, deterministic torch
algorithms, a fixed shuffling generator and .npz files written with fixed zip
timestamps (so re-running a train.py gives byte-identical data files).
"""

from __future__ import annotations

import json
import os
import random
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DIGITS_DATA = HERE / "digits_data"
SEED = 0

warnings.filterwarnings("ignore")  # brevitas / torch.onnx emit lots of noise


def set_determinism(seed: int = SEED):
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


# --------------------------------------------------------------------------- data
def save_npz(path: Path, **arrays):
    """np.savez equivalent with a fixed zip timestamp -> byte-identical output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)


def digits_split():
    """sklearn digits, pixels / 16 -> [0, 1], stratified 80/20 split (random_state=0).

    Returns x_train [1437, 64], x_test [360, 64] (float32), y_train, y_test (int64).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    return x_tr, x_te, y_tr, y_te


N_CALIB = 200
N_VAL = 400


def write_digits_data():
    """Writes digits_data/{test,test_img,calib,calib_img}.npz (idempotent, byte-stable)."""
    x_tr, x_te, y_tr, y_te = digits_split()
    save_npz(DIGITS_DATA / "test.npz", x_test=x_te, y_test=y_te)
    save_npz(DIGITS_DATA / "test_img.npz", x_test=x_te.reshape(-1, 1, 8, 8), y_test=y_te)
    # calibration = the first 200 samples of the (already shuffled) training split
    save_npz(DIGITS_DATA / "calib.npz", x=x_tr[:N_CALIB])
    save_npz(DIGITS_DATA / "calib_img.npz", x=x_tr[:N_CALIB].reshape(-1, 1, 8, 8))
    # the whole training split, for fine-tuning after pruning (`hwc compile --finetune`); float16 holds
    # every k/16 exactly and halves the files
    save_npz(DIGITS_DATA / "train.npz", x=x_tr.astype(np.float16), y=y_tr)
    save_npz(DIGITS_DATA / "train_img.npz", x=x_tr.reshape(-1, 1, 8, 8).astype(np.float16), y=y_tr)
    # validation for `hwc compile --max-drop`: the last N_VAL training samples (apart from calib and test)
    save_npz(DIGITS_DATA / "val.npz", x=x_tr[-N_VAL:], y=y_tr[-N_VAL:])
    save_npz(DIGITS_DATA / "val_img.npz", x=x_tr[-N_VAL:].reshape(-1, 1, 8, 8), y=y_tr[-N_VAL:])
    return x_tr, x_te, y_tr, y_te


def write_digits_images():
    """`write_digits_data`, its x as [N, 1, 8, 8] images."""
    x_tr, x_te, y_tr, y_te = write_digits_data()
    return x_tr.reshape(-1, 1, 8, 8), x_te.reshape(-1, 1, 8, 8), y_tr, y_te


# --------------------------------------------------------------------------- training
def train(model, x, y, *, epochs, lr, batch_size=64, weight_decay=0.0, seed=SEED, log_every=0):
    """Adam + cosine LR, cross-entropy, mini-batches drawn with a fixed torch.Generator."""
    import torch
    import torch.nn.functional as F

    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    n = x.shape[0]
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
        sched.step()
        if log_every and (ep + 1) % log_every == 0:
            print(f"  epoch {ep + 1:3d}  loss {tot / n:.4f}")
    model.eval()
    return model


def torch_accuracy(model, x, y):
    import torch

    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(x))
    out = out.value if hasattr(out, "value") else out
    return float((out.argmax(1).numpy() == np.asarray(y)).mean())


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.seconds = time.perf_counter() - self.t0


# --------------------------------------------------------------------------- export
def export_float(model, example_shape, path, **extra):
    """TorchScript exporter, opset 13, dynamic batch axis, input 'input' / output 'output'."""
    import onnx
    import torch

    model.eval()
    torch.onnx.export(
        model, torch.zeros(*example_shape), str(path),
        opset_version=13, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False, **extra)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def export_brevitas(model, example_shape, qonnx_path=None, qcdq_path=None):
    """Brevitas QONNX / QCDQ export at opset 13 (batch fixed at 1 by the example input).

    Only input/output names are set; everything else is Brevitas' default behaviour
    (in particular QONNX keeps initializers listed as graph inputs).
    """
    import onnx
    import torch
    from brevitas.export import export_onnx_qcdq, export_qonnx

    model.eval()
    x = torch.zeros(*example_shape)
    kw = dict(opset_version=13, dynamo=False, input_names=["input"], output_names=["output"])
    if qonnx_path is not None:
        export_qonnx(model, x, str(qonnx_path), **kw)
        onnx.checker.check_model(onnx.load(str(qonnx_path)))
    if qcdq_path is not None:
        export_onnx_qcdq(model, x, str(qcdq_path), **kw)
        onnx.checker.check_model(onnx.load(str(qcdq_path)), full_check=True)


# --------------------------------------------------------------------------- Brevitas layers
def quant_input():
    """8-bit unsigned input quantizer with a power-of-two scale (inputs in [0, 1])."""
    import brevitas.nn as qnn
    from brevitas.quant import Uint8ActPerTensorFixedPoint

    return qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)


def quant_relu(bits):
    """ReLU quantized to `bits` unsigned bits, power-of-two scale."""
    import brevitas.nn as qnn
    from brevitas.quant import Uint8ActPerTensorFixedPoint

    return qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=bits, return_quant_tensor=True)


def pow2_weights(bits):
    """Keyword arguments of a QuantLinear/QuantConv2d: `bits`-bit weights with a power-of-two scale, Int16Bias."""
    from brevitas.quant import Int8WeightPerTensorFixedPoint, Int16Bias

    return dict(weight_quant=Int8WeightPerTensorFixedPoint, weight_bit_width=bits, bias_quant=Int16Bias,
                return_quant_tensor=False)


# --------------------------------------------------------------------------- one example, end to end
def float_example(out_dir, build, data, *, epochs, lr, batch, example_shape, test_data, after_export=None,
                  **export_kw):
    """Seed, data() -> (x_tr, x_te, y_tr, y_te), build(), train, export out_dir/model.onnx, check it with
    `after_export(path)`, print the test accuracy (torch and onnxruntime) and record it in accuracy.json."""
    set_determinism()
    x_tr, x_te, y_tr, y_te = data()
    model = build()
    with Timer() as t:
        train(model, x_tr, y_tr, epochs=epochs, lr=lr, batch_size=batch)
    onnx_path = out_dir / "model.onnx"
    export_float(model, example_shape, onnx_path, **export_kw)
    if after_export is not None:
        after_export(onnx_path)
    acc_torch = torch_accuracy(model, x_te, y_te)
    acc_ort = ort_accuracy(onnx_path, x_te, y_te)
    n_params = sum(p.numel() for p in model.parameters())
    n_buffers = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    stats = f" (+{n_buffers} BN running stats)" if n_buffers else ""
    print(f"{out_dir.name}: params={n_params}{stats} train_time={t.seconds:.1f}s "
          f"test_acc torch={acc_torch:.4f} onnxruntime={acc_ort:.4f}")
    update_accuracy_json({f"{out_dir.name}/model.onnx": {
        "test_data": test_data, "accuracy": acc_ort, "measured_with": "onnxruntime"}})


def brevitas_example(out_dir, build, data, *, epochs, lr, batch, example_shape, test_data, qcdq=True):
    """Seed, data(), build() (a Brevitas model), train, export out_dir/model_qonnx.onnx (and model_qcdq.onnx),
    check that every scale is a power of two, print the test accuracy (Brevitas, qonnx, onnxruntime on the QCDQ
    file) and record the exported files' accuracy in accuracy.json."""
    set_determinism()
    x_tr, x_te, y_tr, y_te = data()
    model = build()
    with Timer() as t:
        train(model, x_tr, y_tr, epochs=epochs, lr=lr, batch_size=batch)
    acc_brevitas = torch_accuracy(model, x_te, y_te)
    qonnx_path, qcdq_path = out_dir / "model_qonnx.onnx", (out_dir / "model_qcdq.onnx" if qcdq else None)
    export_brevitas(model, example_shape, qonnx_path, qcdq_path)
    exps = {p.name: check_pow2_scales(p) for p in (qonnx_path, qcdq_path)} if qcdq else check_pow2_scales(qonnx_path)
    acc_qonnx = qonnx_accuracy(qonnx_path, x_te, y_te)
    entries = {f"{out_dir.name}/model_qonnx.onnx": {
        "test_data": test_data, "accuracy": acc_qonnx, "measured_with": "qonnx"}}
    accs = f"brevitas={acc_brevitas:.4f} qonnx={acc_qonnx:.4f}"
    if qcdq:
        acc_qcdq = ort_accuracy(qcdq_path, x_te, y_te)
        entries[f"{out_dir.name}/model_qcdq.onnx"] = {
            "test_data": test_data, "accuracy": acc_qcdq, "measured_with": "onnxruntime"}
        accs += f" qcdq/onnxruntime={acc_qcdq:.4f}"
    n_params = sum(p.numel() for n, p in model.named_parameters() if n.endswith(("weight", "bias")))
    print(f"{out_dir.name}: power-of-two scale exponents {exps}")
    print(f"{out_dir.name}: params={n_params} train_time={t.seconds:.1f}s test_acc {accs}")
    update_accuracy_json(entries)


# --------------------------------------------------------------------------- checks / eval
def quant_scales(path):
    """All scale tensors of Quant / BipolarQuant / QuantizeLinear / DequantizeLinear nodes."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = []
    for n in m.graph.node:
        if n.op_type in ("Quant", "BipolarQuant", "QuantizeLinear", "DequantizeLinear"):
            s = inits.get(n.input[1])
            if s is None:
                raise RuntimeError(f"{path}: scale of {n.name} is not an initializer")
            out.append((n.op_type, n.name, s))
    return out


def check_pow2_scales(path):
    scales = quant_scales(path)
    for op, name, s in scales:
        s = np.asarray(s, dtype=np.float64).ravel()
        e = np.log2(s)
        if not (np.all(s > 0) and np.all(e == np.round(e))):
            raise AssertionError(f"{path}: {op} {name} has a non power-of-two scale {s}")
    return sorted({float(np.log2(np.asarray(s, dtype=np.float64).ravel()[0])) for _, _, s in scales})


def ort_accuracy(path, x, y):
    """onnxruntime accuracy; falls back to one sample at a time when the batch is fixed at 1."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    if inp.shape[0] == 1:
        pred = np.array([sess.run(None, {inp.name: x[i:i + 1]})[0].argmax(1)[0] for i in range(len(x))])
    else:
        pred = sess.run(None, {inp.name: x})[0].argmax(1)
    return float((pred == y).mean())


def qonnx_accuracy(path, x, y):
    """qonnx.core.onnx_exec.execute_onnx, one sample at a time (the export has batch 1).

    The file is only cleaned up in memory (qonnx cleanup: shape inference etc.) so
    execute_onnx has every tensor shape; the shipped file is not changed.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(str(path)))
    iname = model.graph.input[0].name
    oname = model.graph.output[0].name
    pred = np.empty(len(x), dtype=np.int64)
    for i in range(len(x)):
        pred[i] = execute_onnx(model, {iname: x[i:i + 1]})[oname].argmax(1)[0]
    return float((pred == y).mean())


def update_accuracy_json(entries: dict):
    """Merge {model_path_rel: {...}} into hw_examples/accuracy.json (sorted keys)."""
    p = HERE / "accuracy.json"
    data = json.loads(p.read_text()) if p.exists() else {}
    data.update(entries)
    p.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")
