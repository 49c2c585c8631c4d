"""The figures schema: JSON round trip, units, measured next to estimated; the primitive tables."""

import pytest

from hwc.compiler.cost import primitives as P
from hwc.compiler.cost.figures import MEASURED, Figure, Figures, LayerFigures, sum_layers
from hwc.compiler.cost.parts import find_part


def test_round_trip_and_measured_hook():
    layers = [LayerFigures("a", "Dense", [Figure("lut", 10), Figure("dsp", 2)]),
              LayerFigures("b", "Relu", [Figure("lut", 5)])]
    figs = Figures("xilinx", layers, sum_layers(layers, ("lut", "dsp")), part="xc7z020", clock_ns=5.0)
    assert figs.value("lut") == 15 and figs.value("dsp") == 2
    figs.add_measured("lut", 17)
    figs.add_measured("lut", 18)  # replaces the earlier measurement
    assert figs.value("lut") == 15 and figs.value("lut", MEASURED) == 18
    assert [f.unit for f in figs.total] == ["LUT", "DSP", "LUT"]
    back = Figures.from_json(figs.to_json())
    assert back.to_json() == figs.to_json()
    with pytest.raises(ValueError):
        Figure("furlongs", 1)


@pytest.mark.parametrize("m, digits", [(0, 0), (1, 1), (-1, 1), (2, 1), (3, 2), (7, 2), (-7, 2), (5, 2), (11, 3), (-8, 1)])
def test_csd_digits(m, digits):
    assert P.csd_digits(m) == digits


@pytest.mark.parametrize("m, bits", [(0, 0), (1, 2), (-1, 2), (4, 2), (3, 3), (-12, 3), (255, 9), (256, 2), (-32768, 2)])
def test_significant_bits(m, bits):
    assert P.significant_bits(m) == bits


@pytest.mark.parametrize("a, b, kind, blocks", [
    (16, 4, "DSP48E2", 0), (16, 9, "DSP48E2", 0), (16, 10, "DSP48E2", 1), (27, 18, "DSP48E2", 1), (28, 18, "DSP48E2", 2),
    (27, 19, "DSP48E2", 2), (18, 16, "intel-vp", 0.5), (19, 18, "intel-vp", 0.5), (20, 18, "intel-vp", 1),
    (27, 27, "intel-vp", 1), (27, 24, "DSP58", 1), (25, 18, "DSP48E1", 1), (26, 18, "DSP48E1", 2)])
def test_dsp_rule(a, b, kind, blocks):
    assert P.dsp_blocks(a, b, kind) == blocks


@pytest.mark.parametrize("depth, width, unit, blocks, luts", [
    (32, 16, "BRAM18", 0, 16), (33, 16, "BRAM18", 1, 0), (1024, 18, "BRAM18", 1, 0), (1024, 19, "BRAM18", 2, 0),
    (512, 72, "BRAM18", 2, 0), (2048, 10, "M20K", 1, 0), (2048, 10, "M10K", 2, 0)])
def test_memory_mapping(depth, width, unit, blocks, luts):
    assert P.memory(depth, width, unit) == (blocks, luts)


@pytest.mark.parametrize("name, key", [("xcvu13p-flga2577-2-e", "xcvu13p"), ("xc7z020clg400-1", "xc7z020"),
                                       ("Agilex7", "agilex7"), ("iCE40UP5K", "ice40up5k"), ("LFE5U-85F", "lfe5u85f"),
                                       ("ECP5-85F", "ecp585f"), ("Cyclone V", "cyclonev"), ("xcu250-figd2104-2L-e", "xcu250")])
def test_part_lookup(name, key):
    assert find_part(name)[0] == key
    assert find_part("xq-unknown-part") is None
