"""The HLS cost model's constant-multiplier DSP rule against a published Vitis HLS report of hls4ml's
jet-tagging MLP (16-64-32-32-5, ap_fixed<16,6>, latency strategy, reuse 1, xcu250, 5 ns): Vitis HLS 2022.2
`myproject_csynth.rpt` in github.com/nrp-nautilus/6nrp-hls4ml @ c83384d5a417642bb38ce8a523b8c4c189ecdc26,
model_1/hls4ml_prj/myproject_prj/solution1/syn/report/. The threshold (8 significant bits) was fitted to
that report's total; the per-layer split is a check it was not fitted to. bench/hls_published.py tabulates
all published rows (docs/COST.md)."""

from conftest import corpus_dir

PUBLISHED_TOTAL = 2557
PUBLISHED_PER_DENSE = (719, 1097, 614, 122)  # config2, config5, config8, config11 = Dense layers in order


def test_dsps_of_the_jet_mlp_at_16_bits_near_the_published_vitis_report(figures_of, tmp_path):
    model = corpus_dir("models/jet_tagging_mlp_float") / "three_layer_keras.onnx"
    cfg = tmp_path / "w16.yaml"
    cfg.write_text("layers: {Dense: {weight: {width: 16, int_bits: 6}}}\n")
    f, _ = figures_of(model, "xilinx", "--config", str(cfg), "--abits", "16", "--part", "xcu250-figd2104-2L-e",
                      "--clock", "5")
    assert abs(f.value("dsp") - PUBLISHED_TOTAL) / PUBLISHED_TOTAL < 0.10, f.value("dsp")
    dense = [layer.value("dsp") for layer in f.layers if layer.op == "Dense"]
    assert len(dense) == 4
    for est, pub in zip(dense, PUBLISHED_PER_DENSE):
        assert abs(est - pub) / pub < 0.25, (dense, PUBLISHED_PER_DENSE)
