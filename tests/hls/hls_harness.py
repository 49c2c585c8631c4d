"""Bit-exact proof of the HLS kernels (templates/hls) against the fixed-point simulator.

A `Case` is a one-node IR graph (FromFloat -> op -> ToFloat) plus the C++ that runs the same op
through an hwc kernel: type definitions, config structs and a call. `run_cases` puts every case of a
test module into one C++ program per vendor (HWC_XILINX with ap_fixed, HWC_INTEL with ac_fixed),
builds both with backends/cpp_build (cached by content hash, the two builds in parallel), runs them
on the same inputs and returns the simulator's and the programs' outputs. Inputs are values on the
input type's grid (so FromFloat is exact), outputs exact doubles (every type here has <= 53 bits).
"""

from __future__ import annotations

import fcntl
import importlib.resources
import math
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from hwc.backends.cpp_build import ac_types_dir, ap_types_dir, build
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import FixedType, FloatType, Overflow, Rounding, TensorType
from hwc.compiler.sim.run import simulate

HLS_DIR = Path(str(importlib.resources.files("hwc.templates") / "hls"))  # the installed kernel headers
VENDORS = ("ap", "ac")
CACHE = Path(tempfile.gettempdir()) / "hwc-test-cpp-build"
# GCC 12's access-warning pass (gated by these three warnings) is quadratic in the size of a function:
# the static initializer of a 4096-entry table of ap_fixed constants took 50 s to compile with it, 2 s
# without it. Generated projects with large weight arrays need the same flags.
NO_WACCESS = ("-Wno-free-nonheap-object", "-Wno-mismatched-dealloc", "-Wno-mismatched-new-delete")
# -O1: the conv program runs in 0.6 s instead of 14 s at -O0, for little more compile time. -DNDEBUG as
# in tests/sim (ap_private's assert on casts that drop more bits than the source has).
FLAGS = ("-std=c++14", "-O1", "-DNDEBUG", *NO_WACCESS)
# -O0 for modules whose compile time is mostly the static initializers of large tables (2x faster to
# compile; the programs still run in ~2 s).
FLAGS_O0 = ("-std=c++14", "-O0", "-DNDEBUG", *NO_WACCESS)
F64 = FloatType(64)


# ---------------------------------------------------------------- C++ spelling

def ctype(t: FixedType, vendor: str) -> str:
    """The C++ type the code generator would spell for t."""
    if vendor == "ap":
        return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.int_bits},AP_{t.rounding.value},AP_{t.overflow.value}>"
    return f"ac_fixed<{t.width},{t.int_bits},{'true' if t.signed else 'false'},AC_{t.rounding.value},AC_{t.overflow.value}>"


def lit(m: int, frac_bits: int) -> str:
    """An exact double literal for the value m * 2^-frac_bits."""
    m = int(m)
    if abs(m) >= 1 << 53:
        raise ValueError(f"mantissa {m} is not exact as a double")
    return repr(math.ldexp(float(m), -frac_bits))


class Config:
    """A kernel config struct: sizes, flags and typedefs in the struct; arrays declared in it and defined
    once after it (C++14 has no inline variables), as the code generator emits them."""

    def __init__(self, name: str):
        self.name = name
        self.types: dict[str, FixedType] = {}
        self.lines: list[str] = []
        self.defs: list[str] = []

    def ints(self, **kv) -> "Config":
        for k, v in kv.items():
            kind, val = ("bool", "true" if v else "false") if isinstance(v, bool) else ("unsigned", int(v))
            self.lines.append(f"static const {kind} {k} = {val};")
        return self

    def raw(self, line: str) -> "Config":
        self.lines.append(line)
        return self

    def double(self, **kv) -> "Config":
        for k, v in kv.items():
            self.lines.append(f"static constexpr double {k} = {float(v)!r};")
        return self

    def type(self, name: str, t: FixedType) -> "Config":
        self.types[name] = t
        return self

    def _array(self, ctype_: str, def_type: str, name: str, vals: list[str]) -> "Config":
        self.lines.append(f"static const {ctype_} {name}[{len(vals)}];")
        self.defs.append(f"const {def_type} {self.name}::{name}[{len(vals)}] = {{{', '.join(vals)}}};")
        return self

    def index_array(self, name: str, values, ctype_: str = "unsigned") -> "Config":
        return self._array(ctype_, ctype_, name, [str(int(v)) for v in values])

    def fixed_array(self, name: str, type_name: str, mantissas, frac_bits: int) -> "Config":
        vals = [lit(m, frac_bits) for m in np.asarray(mantissas).ravel()]
        return self._array(type_name, f"{self.name}::{type_name}", name, vals)

    def fixed_scalar(self, name: str, type_name: str, mantissa: int, frac_bits: int) -> "Config":
        self.lines.append(f"static const {type_name} {name};")
        self.defs.append(f"const {self.name}::{type_name} {self.name}::{name} = {lit(mantissa, frac_bits)};")
        return self

    def render(self, vendor: str) -> str:
        body = [f"typedef {ctype(t, vendor)} {n};" for n, t in self.types.items()] + self.lines
        return f"struct {self.name} {{\n" + "".join(f"    {x}\n" for x in body) + "};\n" + "".join(d + "\n" for d in self.defs)


# ---------------------------------------------------------------- cases

@dataclass
class Case:
    """One kernel call, checked on `inputs` (float64, batch first) against the graph's simulation.

    cpp(vendor) -> C++ declarations in the case's namespace (configs; in{k}_t and out_t are already
    typedef'd there); `call` is the statement that maps x0, x1.. (in{k}_t arrays of one sample) to y
    (out_t array). `ref`, if given, replaces the simulator: ref(vendor) -> expected float64 outputs.
    """

    name: str
    graph: Graph | None
    inputs: list[np.ndarray]
    in_types: list[FixedType]
    out_type: FixedType
    out_size: int
    cpp: Callable[[str], str]
    call: str
    ref: Callable[[str], np.ndarray] | None = None
    note: str = ""
    configs: list[Config] = field(default_factory=list)

    def source(self, vendor: str) -> str:
        sizes = [int(np.prod(x.shape[1:])) for x in self.inputs]
        lines = [f"namespace c_{self.name} {{"]
        lines += [f"typedef {ctype(t, vendor)} in{k}_t;" for k, t in enumerate(self.in_types)]
        lines.append(f"typedef {ctype(self.out_type, vendor)} out_t;")
        lines.append(self.cpp(vendor))
        lines += [c.render(vendor) for c in self.configs]
        lines.append("void run(const std::vector<std::vector<double> >& in, std::vector<double>& out, size_t batch) {")
        lines.append("  for (size_t b = 0; b < batch; b++) {")
        for k, n in enumerate(sizes):
            lines.append(f"    static in{k}_t x{k}[{n}];")
            lines.append(f"    hwc::from_float<in{k}_t, {n}>(&in[{k}][b * {n}], x{k});")
        lines.append(f"    static out_t y[{self.out_size}];")
        lines.append("    " + self.call.replace("\n", "\n    "))
        lines.append(f"    hwc::to_float<out_t, {self.out_size}>(y, &out[b * {self.out_size}]);")
        lines += ["  }", "}", "}"]
        return "\n".join(lines) + "\n"


PRELUDE = r"""
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

static std::vector<double> read_f64(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) { fprintf(stderr, "cannot read %s\n", path.c_str()); exit(2); }
  size_t bytes = f.tellg(); f.seekg(0);
  std::vector<double> v(bytes / sizeof(double));
  f.read((char*)v.data(), bytes);
  return v;
}
static void write_f64(const std::string& path, const std::vector<double>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write((const char*)v.data(), v.size() * sizeof(double));
}
// [C][n_pix] array <-> stream of n_pix channel vectors (the io_stream element of the kernels).
template <class T, unsigned C> void to_stream(const T* x, unsigned n_pix, hwc::stream<hwc::array<T, C> >& s) {
  for (unsigned p = 0; p < n_pix; p++) { hwc::array<T, C> a; for (unsigned c = 0; c < C; c++) a[c] = x[c * n_pix + p]; s.write(a); }
}
template <class T, unsigned C> void from_stream(hwc::stream<hwc::array<T, C> >& s, unsigned n_pix, T* y) {
  for (unsigned p = 0; p < n_pix; p++) { hwc::array<T, C> a = s.read(); for (unsigned c = 0; c < C; c++) y[c * n_pix + p] = a[c]; }
  if (!s.empty()) { fprintf(stderr, "stream has extra elements\n"); exit(3); }
}
template <class S> void expect_empty(S& s) { if (!s.empty()) { fprintf(stderr, "input stream not consumed\n"); exit(3); } }
"""


def program(cases: Sequence[Case], headers: Sequence[str], vendor: str) -> str:
    parts = [f"#define HWC_{'XILINX' if vendor == 'ap' else 'INTEL'}"]
    parts += [f'#include "{h}"' for h in ["hwc_rescale.h", *headers]]  # hwc_rescale.h: from_float / to_float
    parts.append(PRELUDE)
    parts += [c.source(vendor) for c in cases]
    main = ["int main(int argc, char** argv) {", "  if (argc < 2) return 1;", "  std::string d = argv[1];"]
    for c in cases:
        main.append("  {")
        main.append(f"    std::vector<std::vector<double> > in({len(c.inputs)});")
        for k, x in enumerate(c.inputs):
            main.append(f'    in[{k}] = read_f64(d + "/{c.name}.in{k}");')
        n0 = int(np.prod(c.inputs[0].shape[1:]))
        main.append(f"    size_t batch = in[0].size() / {n0};")
        main.append(f"    std::vector<double> out(batch * {c.out_size});")
        main.append(f"    c_{c.name}::run(in, out, batch);")
        main.append(f'    write_f64(d + "/{c.name}.out", out);')
        main.append("  }")
    main += ["  return 0;", "}"]
    return "\n".join(parts) + "\n" + "\n".join(main) + "\n"


@dataclass
class Results:
    expected: dict[tuple[str, str], np.ndarray]
    got: dict[tuple[str, str], np.ndarray]

    def check(self, case: Case, vendor: str) -> int:
        exp = self.expected[(case.name, vendor)].ravel()
        got = self.got[(case.name, vendor)].ravel()
        np.testing.assert_array_equal(got, exp, err_msg=f"{case.name} [{vendor}]: C++ kernel vs simulator")
        print(f"{case.name} [{vendor}]: {exp.size} values equal{' (' + case.note + ')' if case.note else ''}")
        return exp.size


def run_cases(module: str, cases: Sequence[Case], headers: Sequence[str], flags=FLAGS) -> Results:
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    expected = {}
    for c in cases:
        for v in VENDORS:
            if c.ref is not None:
                expected[(c.name, v)] = np.asarray(c.ref(v), np.float64)
        if c.ref is None:
            (out,) = simulate(c.graph, c.inputs, mode="fixed")
            for v in VENDORS:
                expected[(c.name, v)] = np.asarray(out, np.float64)

    def build_one(vendor):
        inc = [HLS_DIR, ap_types_dir() if vendor == "ap" else ac_types_dir()]
        src = program(cases, headers, vendor)
        CACHE.mkdir(parents=True, exist_ok=True)
        # pytest-xdist may run tests of one module in two workers: the second waits for the first's build
        # and then finds it in the cache instead of compiling the same program again.
        with open(CACHE / f".lock-{module}-{vendor}", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return build({f"{module}_{vendor}.cpp": src}, include_dirs=inc, out_name=f"{module}_{vendor}",
                         cache_dir=CACHE, flags=flags)

    with ThreadPoolExecutor(max_workers=2) as ex:
        exes = dict(zip(VENDORS, ex.map(build_one, VENDORS)))
    got = {}
    with tempfile.TemporaryDirectory(prefix=f"hwc-hls-{module}-") as tmp:
        for c in cases:
            for k, x in enumerate(c.inputs):
                np.ascontiguousarray(x, np.float64).tofile(os.path.join(tmp, f"{c.name}.in{k}"))
        for v in VENDORS:
            proc = subprocess.run([str(exes[v]), tmp], capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"{module} [{v}] failed ({proc.returncode}): {proc.stderr}")
            for c in cases:
                got[(c.name, v)] = np.fromfile(os.path.join(tmp, f"{c.name}.out"), np.float64)
    return Results(expected, got)


# ---------------------------------------------------------------- graphs and data

def one_node_graph(op: str, inputs: Sequence[tuple[tuple, FixedType]], consts: Sequence, attrs: dict,
                   out_type: FixedType) -> Graph:
    """FromFloat(x_k) -> op(x.., consts..) -> ToFloat; consts are Values made with graph.constant, or None."""
    g = Graph(op.lower())
    vals = []
    for k, (shape, t) in enumerate(inputs):
        x = g.add_input(f"x{k}", TensorType(F64, (None,) + tuple(shape)))
        f = g.add_node("FromFloat", [x], name=f"in{k}", output_types=[TensorType(t, (None,) + tuple(shape))])
        vals.append(f.output)
    n = g.add_node(op, vals + [c(g) if callable(c) else c for c in consts], dict(attrs), name="op")
    g.retype(n.output, n.output.type.with_elem(out_type))
    out = g.add_node("ToFloat", [n.output], name="out")
    g.set_outputs([out.output])
    g.verify()
    return g


def const(mantissas, t: FixedType, name: str = "c"):
    """A constant input for one_node_graph (created inside the graph)."""
    return lambda g: g.constant(np.asarray(mantissas, np.int64), name, elem=t)


def mantissas(t: FixedType, shape, n: int, rng: np.random.Generator, extreme: float = 0.15) -> np.ndarray:
    """n samples of `shape` mantissas of t: uniform, with a share of elements at the range ends and
    around zero, and the first samples all-minimum / all-maximum / all-zero."""
    lo, hi = t.min_mantissa, t.max_mantissa
    m = rng.integers(lo, hi, size=(n,) + tuple(shape), endpoint=True)
    specials = np.array(sorted({lo, hi, lo + 1, hi - 1, 0, min(1, hi), max(-1, lo)}), np.int64)
    pick = rng.random(m.shape) < extreme
    m[pick] = rng.choice(specials, size=int(pick.sum()))
    for k, v in enumerate((lo, hi, 0)):
        if k < n:
            m[k] = v
    return m


def values(m: np.ndarray, t: FixedType) -> np.ndarray:
    return np.ldexp(m.astype(np.float64), -t.frac_bits)


def fx(width: int, int_bits: int, signed: bool = True, q: str = "TRN", o: str = "WRAP") -> FixedType:
    return FixedType(width, int_bits, signed, Rounding[q], Overflow[o])


# ---------------------------------------------------------------- dense / conv weights

def accumulator(x_t: FixedType, w_flat: np.ndarray, f_acc: int, shift, b_acc, width=None, overflow="WRAP",
                zero_taps=False) -> tuple[FixedType, FixedType]:
    """(accum_t, sum_t) for sums over w_flat [K, M]: accum_t exact (interval arithmetic, as AssignTypes)
    unless `width` caps it; sum_t = accum_t when it wraps (modular sums), else exact for the unshifted sum."""
    from hwc.compiler.passes.fixed_type_rules import exact_int_type

    lo, hi = x_t.min_mantissa, x_t.max_mantissa
    if zero_taps:
        lo, hi = min(lo, 0), max(hi, 0)
    pos, neg = np.maximum(w_flat, 0), np.minimum(w_flat, 0)
    top = hi * pos.sum(0) + lo * neg.sum(0)
    bot = lo * pos.sum(0) + hi * neg.sum(0)
    raw = exact_int_type(int(min(0, bot.min())), int(max(0, top.max())), f_acc)
    s = np.asarray(shift if shift else [0] * w_flat.shape[1], np.int64)
    top, bot = top << s, bot << s
    if b_acc is not None:
        top, bot = top + b_acc, bot + b_acc
    if width is None:
        accum = exact_int_type(int(min(0, bot.min())), int(max(0, top.max())), f_acc)
    else:
        accum = FixedType(width, width - f_acc, True, Rounding.TRN, Overflow[overflow])
    return accum, (accum if accum.overflow is Overflow.WRAP else raw)


def nonzero_config(cfg: Config, triplets, w_t: FixedType, bias, bias_t, shift, accum: FixedType, sum_t: FixedType,
                   strategy: str, reuse: int, binary: bool) -> Config:
    """The dense_core members: triplets is a list of (in_index, out_index, weight mantissa)."""
    cfg.ints(n_nonzero=len(triplets), reuse_factor=reuse, max_shift=max(shift) if shift else 0,
             has_bias=bias is not None, binary=binary, full_matrix=False)
    cfg.raw(f"static const hwc::strategy_t strategy = hwc::{strategy};")
    cfg.type("weight_t", w_t).type("accum_t", accum).type("sum_t", sum_t)
    cfg.index_array("in_index", [t[0] for t in triplets]).index_array("out_index", [t[1] for t in triplets])
    cfg.fixed_array("weight", "weight_t", [t[2] for t in triplets], w_t.frac_bits)
    if bias is not None:
        cfg.type("bias_t", bias_t)
        cfg.fixed_array("bias", "bias_t", bias, bias_t.frac_bits)
    if shift:
        cfg.index_array("weight_shift", shift)
    return cfg


def stream_call(kernel: str, c_in: int, pix_in: int, c_out: int, pix_out: int, config: str = "config") -> str:
    """Array x0 [c_in][pix_in] -> stream -> kernel -> stream -> y [c_out][pix_out]."""
    return (f"hwc::stream<hwc::array<in0_t, {c_in}> > si; hwc::stream<hwc::array<out_t, {c_out}> > so;\n"
            f"to_stream<in0_t, {c_in}>(x0, {pix_in}, si);\n"
            f"{kernel}<in0_t, out_t, {config}>(si, so);\n"
            f"expect_empty(si);\n"
            f"from_stream<out_t, {c_out}>(so, {pix_out}, y);")


def overflow_share(case: Case) -> float:
    """Share of outputs that change when the op's accumulator cap is lifted (proof that a case with a
    narrow accum_t really wraps or saturates)."""
    node = next(n for n in case.graph.nodes if n.op in ("Dense", "Conv"))
    (capped,) = simulate(case.graph, case.inputs, mode="fixed")
    accum = node.attrs["accum"]
    try:
        node.attrs["accum"] = None
        (exact,) = simulate(case.graph, case.inputs, mode="fixed")
    finally:
        node.attrs["accum"] = accum
    return float(np.mean(capped != exact))
