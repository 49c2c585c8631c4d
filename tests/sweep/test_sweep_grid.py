"""Value lists and ranges, the grid order, and reproducible random sampling."""

from __future__ import annotations

import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.sweep.grid import Axis, grid, parse_values, sample


def test_lists_and_decimal_ranges():
    assert parse_values("2,3,4,6,8", "--wbits", int) == (2, 3, 4, 6, 8)
    assert parse_values("0:0.75:0.25", "--prune", float) == (0.0, 0.25, 0.5, 0.75)
    assert parse_values("0:0.3:0.1", "--prune", float) == (0.0, 0.1, 0.2, 0.3)  # no 0.30000000000000004
    assert parse_values("2:6:2,8", "--wbits", int) == (2, 4, 6, 8)
    assert parse_values("parallel,stream", "--io", str) == ("parallel", "stream")


@pytest.mark.parametrize("text, needle", [("2,,4", "empty item"), ("1:2", "LO:HI:STEP"), ("a:b:c", "must be numbers"),
                                          ("4:2:1", "LO <= HI"), ("0:1:0", "STEP > 0"), ("x", "invalid value 'x'"),
                                          ("2,2", "repeated")])
def test_bad_values(text, needle):
    with pytest.raises(HwcError, match=needle):
        parse_values(text, "--wbits", int)


def test_grid_first_axis_slowest():
    axes = [Axis("wbits", "--wbits", (2, 4)), Axis("io", "--io", ("parallel", "stream"))]
    assert grid(axes) == [{"wbits": 2, "io": "parallel"}, {"wbits": 2, "io": "stream"},
                          {"wbits": 4, "io": "parallel"}, {"wbits": 4, "io": "stream"}]


def test_sampling_is_distinct_and_reproducible():
    axes = [Axis("wbits", "--wbits", tuple(range(1, 9))), Axis("abits", "--abits", tuple(range(2, 17)))]
    full = grid(axes)
    drawn = sample(axes, 20, seed=0)
    assert len(drawn) == 20 and all(p in full for p in drawn)
    assert len({tuple(p.items()) for p in drawn}) == 20
    assert sample(axes, 20, seed=0) == drawn and sample(axes, 20, seed=1) != drawn
    assert sorted(map(str, sample(axes, 1000, seed=0))) == sorted(map(str, full))
