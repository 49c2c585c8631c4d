"""Tiny vision transformer on sklearn digits, input [N,1,8,8] in [0,1]:
16 patches of 2x2 -> Linear(4->16) + learned position embedding -> 2 pre-norm encoder blocks
(LayerNorm -> 2-head self-attention -> residual; LayerNorm -> Linear(16->32) -> GELU -> Linear(32->16)
-> residual) -> LayerNorm -> Flatten -> Linear(256->10) (logits).

The attention keeps the batch as the leading axis (q, k, v as [N, heads, tokens, 16/heads]), as
hand-written ViT attention does; PyTorch's nn.MultiheadAttention moves the batch to axis 1 inside its
exported graph, which the compiler refuses (see README.md). Exported with the TorchScript exporter at
opset 17 (LayerNormalization is an ONNX op from 17; GELU arrives as its Erf formula).
Run:  python hw_examples/tiny_transformer/train.py
"""
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 80, 3e-3, 64
D, HEADS, BLOCKS, PATCH = 16, 2, 2, 2


def build():
    import torch
    import torch.nn as nn

    class Attention(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.h, self.dh = heads, d // heads
            self.q, self.k, self.v, self.proj = (nn.Linear(d, d) for _ in range(4))

        def split(self, x):
            b, t, _ = x.shape
            return x.reshape(b, t, self.h, self.dh).transpose(1, 2)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
            a = torch.softmax(q @ k.transpose(-2, -1) * (1.0 / math.sqrt(self.dh)), dim=-1)
            return self.proj((a @ v).transpose(1, 2).reshape(b, t, d))

    class Block(nn.Module):
        def __init__(self, d, heads, ff):
            super().__init__()
            self.n1, self.att, self.n2 = nn.LayerNorm(d), Attention(d, heads), nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

        def forward(self, x):
            x = x + self.att(self.n1(x))
            return x + self.mlp(self.n2(x))

    class TinyViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.n = (8 // PATCH) ** 2
            self.embed = nn.Linear(PATCH * PATCH, D)
            self.pos = nn.Parameter(torch.randn(1, self.n, D) * 0.1)
            self.blocks = nn.Sequential(*(Block(D, HEADS, 2 * D) for _ in range(BLOCKS)))
            self.norm = nn.LayerNorm(D)
            self.head = nn.Linear(self.n * D, 10)

        def forward(self, x):
            b, p = x.shape[0], PATCH
            x = x.reshape(b, 8 // p, p, 8 // p, p).transpose(2, 3).reshape(b, self.n, p * p)
            x = self.blocks(self.embed(x) + self.pos)
            return self.head(self.norm(x).reshape(b, -1))

    return TinyViT()


def main():
    import onnx
    import torch

    C.set_determinism()
    x_tr, x_te, y_tr, y_te = C.write_digits_data()
    x_tr = x_tr.reshape(-1, 1, 8, 8)
    x_te = x_te.reshape(-1, 1, 8, 8)
    model = build()
    with C.Timer() as t:
        C.train(model, x_tr, y_tr, epochs=EPOCHS, lr=LR, batch_size=BATCH, weight_decay=1e-4)
    onnx_path = HERE / "model.onnx"
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), str(onnx_path), opset_version=17, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
    onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
    ops = sorted({n.op_type for n in onnx.load(str(onnx_path)).graph.node})
    acc_torch = C.torch_accuracy(model, x_te, y_te)
    acc_ort = C.ort_accuracy(onnx_path, x_te, y_te)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"tiny_transformer: ops={ops}")
    print(f"tiny_transformer: params={n_params} train_time={t.seconds:.1f}s "
          f"test_acc torch={acc_torch:.4f} onnxruntime={acc_ort:.4f}")
    C.update_accuracy_json({"tiny_transformer/model.onnx": {
        "test_data": "digits_data/test_img.npz", "accuracy": acc_ort, "measured_with": "onnxruntime"}})


if __name__ == "__main__":
    main()
