"""Every real model of the corpus compiled for every target at its own precision (float models at
w8a8 and w4a8), then checked by `hwc verify` (the target's executor against the simulator, bit for
bit). Each case ends in "verifies" or in hwc's refusal text; docs/MODEL_MATRIX.md is the table of the
last run. A case the table records as verifying must still verify (a refusal that starts working is
reported, not failed). Regenerate the table with `python tests/corpus/test_model_matrix.py [SKIP...]` (skipped models keep
their recorded rows).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import CORPUS, ROOT, corpus_dir, hwc, print_uncaptured  # noqa: E402

TABLE = ROOT / "docs" / "MODEL_MATRIX.md"
TARGETS = ("xilinx", "intel", "tflite", "openvino")
FLOAT_PRECISIONS = {"w8a8": ["--wbits", "8", "--abits", "8"], "w4a8": ["--wbits", "4", "--abits", "8"]}
# (file under corpus/models, precision label, extra args, verify samples, slow)
MODELS = [
    ("jet_tagging_mlp_float/three_layer_keras.onnx", "float", 20, False),
    ("conv2d_small_keras/conv2d_small_keras.onnx", "float", 20, False),
    ("jet_tagging_mlp_qonnx/qkeras_jettagging.onnx", "own", 20, False),
    ("unsw_nb15_mlp_w2a2/unsw_nb15-mlp-w2a2.onnx", "own", 20, False),
    ("espcn_bsd300_nn_resize/float_model.onnx", "float", 2, True),
    ("espcn_bsd300_nn_resize/quant_model.onnx", "own", 2, True),
]


def cases():
    for rel, kind, samples, slow in MODELS:
        precisions = FLOAT_PRECISIONS if kind == "float" else {"own": []}
        for label, args in precisions.items():
            for target in TARGETS:
                # the regular suite keeps one precision per model and one HLS vendor (intel runs the same
                # kernels through other type headers); the rest, and ESPCN, are `slow`
                yield rel, label, args, target, samples, slow or label == "w4a8" or target == "intel"


def run_case(rel: str, args: list[str], target: str, samples: int, tmp: Path) -> str:
    """'verifies (N values)' or the one-line refusal of `hwc compile` / the mismatch line of `hwc verify`."""
    out = tmp / "out"
    r = hwc("compile", CORPUS / "models" / rel, "--target", target, "-o", out, "--force", *args)
    if r.returncode != 0:
        return "refused: " + _one_line(r.stderr)
    v = hwc("verify", out, "--samples", samples)
    if v.returncode != 0:
        return "verify failed: " + _one_line(v.stderr + v.stdout)
    counts = re.search(r"(\d+) values compared, 0 mismatches", v.stdout)
    if counts is None:
        return "verify failed: " + _one_line(v.stdout)
    return f"verifies ({counts.group(1)} values)"


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    line = lines[-1] if lines else "(no message)"
    line = re.sub(r"^hwc: error: \S+?: ", "", line).replace(str(CORPUS), "corpus").replace("|", "/")
    return line[:220]


def recorded() -> dict[tuple[str, str, str], str]:
    """(model, precision, target) -> result, as the table in the docs records it."""
    rows = {}
    if TABLE.exists():
        for line in TABLE.read_text().splitlines():
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if len(cells) == 4 and cells[2] in TARGETS:
                rows[tuple(cells[:3])] = cells[3]
    return rows


@pytest.mark.parametrize("rel,label,args,target,samples", [
    pytest.param(rel, label, args, target, samples, marks=[pytest.mark.slow] if slow else [],
                 id=f"{Path(rel).parent.name}-{label}-{target}") for rel, label, args, target, samples, slow in cases()])
def test_model_on_target(rel, label, args, target, samples, tmp_path, request):
    corpus_dir("models/" + str(Path(rel).parent))
    got = run_case(rel, args, target, samples, tmp_path)
    before = recorded().get((rel, label, target))
    print_uncaptured(request, f"{rel} {label} {target}: {got}")
    if before is not None and before.startswith("verifies"):
        assert got.startswith("verifies"), f"{rel} {label} {target} verified before, now: {got}"


def main(skip: tuple[str, ...] = ()) -> None:
    """Run every case and rewrite docs/MODEL_MATRIX.md; models named in `skip` keep the result the table
    records (or "not run")."""
    rows = []
    before = recorded()
    for rel, label, args, target, samples, _ in cases():
        if any(k in rel for k in skip):
            rows.append(f"| `{rel}` | {label} | {target} | {before.get((rel, label, target), 'not run')} |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            got = run_case(rel, args, target, samples, Path(tmp))
        print(f"{rel} {label} {target}: {got}", flush=True)
        rows.append(f"| `{rel}` | {label} | {target} | {got} |")
    ok = sum("| verifies" in r for r in rows)
    TABLE.write_text(
        "# Real models × targets\n\n"
        "Every model of the public corpus (`../shared/corpus/models`, see its PROVENANCE.md) compiled with "
        "`hwc compile --target T` at its own precision (models with their own quantizers) or at w8a8 and w4a8 "
        "(float models), then `hwc verify` (the target's executor against hwc's simulator, bit for bit; "
        "20 random inputs, 2 for ESPCN). Generated by `python tests/corpus/test_model_matrix.py`; "
        "`tests/corpus/test_model_matrix.py` fails when a case recorded here as verifying stops verifying.\n\n"
        f"{ok} of {len(rows)} cases verify.\n\n"
        "| model | precision | target | result |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main(tuple(sys.argv[1:]))  # e.g. `espcn` to leave the large model out (its recorded rows stay)
