"""The C simulation's build: constant arrays as integer mantissas (hls_text.fixed_array read through
hwc::weight_value) give every value of their fixed type exactly, on both vendors; the precompiled
header (cpp_build.Pch) is one per vendor and flag set, shared by projects, and changes nothing in
what the program computes."""

from __future__ import annotations

import importlib.resources
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwc.backends.cpp_build import Pch, build
from hwc.backends.hls import CSIM_FLAGS
from hwc.backends.hls_text import array_def, fixed_array
from hwc.backends.hls_vendor import INTEL, XILINX
from hwc.backends.intel import IntelBackend
from hwc.backends.xilinx import XilinxBackend
from hwc.compiler.ir.types import FixedType

KERNELS = Path(str(importlib.resources.files("hwc.templates") / "hls"))
# widths at the edges of each mantissa C type, signed and unsigned, with their extreme values
TYPES = [FixedType(w, i, s) for w, i, s in [(2, 1, True), (8, 1, True), (8, 8, False), (9, 3, True), (16, 0, False),
                                             (17, 5, True), (32, 2, True), (32, 32, False), (33, 9, True), (53, 20, True),
                                             (64, 4, True), (64, 64, False)]]


def _values(t: FixedType, rng) -> np.ndarray:
    lo, hi = t.min_mantissa, t.max_mantissa
    ends = [lo, lo + 1, -1 if t.signed else 1, 0, 1, hi - 1, hi]
    # uniform draws over the whole mantissa range, as Python ints (beyond int64 for 64-bit unsigned)
    draws = [lo + int(rng.integers(0, 1 << 62)) * (hi - lo) // (1 << 62) for _ in range(9)]
    return np.array(ends + draws, dtype=np.uint64 if not t.signed and t.width == 64 else np.int64)


def _program(vendor, rng) -> tuple[str, list[tuple[FixedType, np.ndarray]]]:
    """One config struct per type, its array written by fixed_array; main prints every element as the
    bits of its mantissa (hwc::mantissa of the value read through weight_value)."""
    structs, defs, prints, cases = [], [], [], []
    for k, t in enumerate(TYPES):
        vals = _values(t, rng)
        decl, definition = fixed_array("value", "value_t", f"config{k}::value", vals, t)
        structs.append(f"struct config{k} {{\n    typedef {vendor.fixed(t)} value_t;\n    {decl}\n}};")
        defs.append(definition)
        prints.append(f"for (unsigned i = 0; i < {len(vals)}; i++) printf(\"%lld\\n\", "
                      f"hwc::mantissa(hwc::weight_value<config{k}::value_t>(config{k}::value[i])));")
        cases.append((t, vals))
    src = (f"#define {vendor.define}\n#include <cstdio>\n#include \"hwc_types.h\"\n" + "\n".join(structs) + "\n" +
           "\n".join(defs) + "\nint main() {\n" + "\n".join(prints) + "\n}\n")
    return src, cases


@pytest.mark.parametrize("vendor", [XILINX, INTEL], ids=["xilinx", "intel"])
def test_integer_constant_arrays_are_exact(tmp_path, vendor):
    src, cases = _program(vendor, np.random.default_rng(7))
    assert "int64_t" in src and "uint64_t" in src and "(-9223372036854775807LL - 1)" in src
    exe = build({"main.cpp": src}, [KERNELS, vendor.header_dir()], "consts", cache_dir=tmp_path, flags=CSIM_FLAGS)
    got = np.array(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split(), dtype=np.int64)
    # hwc::mantissa returns the bits as a long long: a 64-bit unsigned mantissa comes back modulo 2^64
    want = np.concatenate([v.astype(np.uint64).view(np.int64) if v.dtype == np.uint64 else v for _, v in cases])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("vendor", [XILINX, INTEL], ids=["xilinx", "intel"])
def test_constant_arrays_wider_than_64_bits_compile_and_read_back(tmp_path, vendor):
    """A type with no integer C type (70 bits) keeps exact double literals of the struct's own typedef."""
    t = FixedType(70, 10, True)
    vals = np.array([-(1 << 50), -3, 0, 5, (1 << 52) - 1], dtype=np.int64)  # mantissas exact in a double
    decl, definition = fixed_array("value", "value_t", "config0::value", vals, t)
    src = (f"#define {vendor.define}\n#include <cstdio>\n#include \"hwc_types.h\"\n"
           f"struct config0 {{\n    typedef {vendor.fixed(t)} value_t;\n    {decl}\n}};\n{definition}\n"
           f"int main() {{ for (unsigned i = 0; i < {len(vals)}; i++) "
           f"printf(\"%.17g\\n\", (hwc::weight_value<config0::value_t>(config0::value[i])).to_double()); }}\n")
    exe = build({"main.cpp": src}, [KERNELS, vendor.header_dir()], "wide", cache_dir=tmp_path, flags=CSIM_FLAGS)
    got = np.array(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split(), dtype=np.float64)
    np.testing.assert_array_equal(got, vals.astype(np.float64) * 2.0 ** -t.frac_bits)


@pytest.mark.parametrize("a", [np.arange(-20, 21) * 3, np.random.default_rng(3).integers(-(1 << 40), 1 << 40, 70)],
                         ids=["narrow-range", "wide-range"])
def test_array_def_writes_integer_arrays_16_a_line(a):
    text = array_def("int64_t", "x", a)
    head, body = text.split("\n", 1)
    assert head == f"const int64_t x[{a.size}] = {{" and body.endswith("\n};")
    lines = body[:-3].split("\n")
    assert all(ln.startswith("    ") for ln in lines) and len(lines) == -(-a.size // 16)
    cells = [c.strip() for ln in lines for c in ln.split(",") if c.strip()]
    assert [int(c.removesuffix("LL")) for c in cells] == a.tolist()
    assert array_def("int", "e", np.zeros(0, np.int64)) == array_def("int", "e", [])


def test_precompiled_header_is_shared_and_changes_nothing(tmp_path):
    """Two programs with the PCH of the kernel headers, one without: the same output; one .gch for both."""
    pch_cache = tmp_path / "pch"
    pch = XilinxBackend()._pch(KERNELS)
    assert pch.headers[0][0] == "hwc/hwc_types.h" and pch.include_dirs == (XILINX.header_dir(),)
    src = ('#ifndef HWC_XILINX\n#define HWC_XILINX\n#endif\n#include "hwc_dense.h"\n#include <cstdio>\ntypedef ap_fixed<12,3,AP_RND,AP_SAT> t;\n'
           'int main() { t x = 1.37; t y = x * x; printf("%.17g %lld\\n", y.to_double(), hwc::mantissa(y)); }\n')
    runs = []
    for name, with_pch in (("a", True), ("b", True), ("c", False)):
        exe = build({f"{name}.cpp": src}, [KERNELS, XILINX.header_dir()], name, cache_dir=tmp_path / name,
                    flags=CSIM_FLAGS, pch=pch if with_pch else None, pch_cache=pch_cache)
        runs.append(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout)
    mx = int(np.floor(1.37 * 512 + 0.5))  # AP_RND: round half up, 9 fraction bits
    my = (mx * mx + (1 << 8)) >> 9  # the exact product (18 fraction bits) rounded to 9
    assert runs[0] == runs[1] == runs[2] == f"{my / 512:.17g} {my}\n"
    assert len(list(pch_cache.glob("*/hwc_pch.h.gch"))) == 1  # the second program reused the first one's header
    # the other vendor has its own header
    intel = IntelBackend()._pch(KERNELS)
    assert isinstance(intel, Pch) and INTEL.define in intel.prelude and intel.include_dirs == (INTEL.header_dir(),)
