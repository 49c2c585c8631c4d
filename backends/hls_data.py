"""Sample data between the bit-accurate simulator and a C simulation: random inputs over each input's
port type, the host rows a testbench reads, the simulator's reference rows, and the row files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compiler.ir.graph import Graph
from ..compiler.ir.types import FixedType
from ..compiler.sim.run import simulate

from .hls_layers import per_sample


def random_inputs(g: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """Inputs on the input type's grid, uniform over its range, range ends and zero overrepresented."""
    rng = np.random.default_rng(seed)
    xs = []
    for v in g.inputs:
        ff = v.uses[0].node
        t: FixedType = ff.output.type.elem
        shape = (n,) + per_sample(ff.output)
        m = rng.integers(t.min_mantissa, t.max_mantissa + 1, size=shape, dtype=np.int64)
        pick = rng.random(shape)
        m = np.where(pick < 0.05, t.min_mantissa, np.where(pick < 0.10, t.max_mantissa, np.where(pick < 0.13, 0, m)))
        x = m * 2.0 ** -t.frac_bits
        s = ff.attrs.get("scale")
        if s is not None:
            x = (m.astype(np.float32) * np.float32(s)).astype(np.float64)
        xs.append(x.astype(np.float32 if np.abs(m).max(initial=0) < 2 ** 24 else np.float64))
    return xs


def host_inputs(g: Graph, xs: list[np.ndarray]) -> np.ndarray:
    """What the testbench assigns to the input arrays: the real inputs (divided by a FromFloat scale,
    in float32, as the simulator does), flattened per sample and concatenated over inputs."""
    cols = []
    for v, x in zip(g.inputs, xs):
        ff = v.uses[0].node
        s = ff.attrs.get("scale")
        y = (x.astype(np.float32) / np.float32(s)).astype(np.float64) if s is not None else x.astype(np.float64)
        cols.append(y.reshape(len(y), -1))
    return np.concatenate(cols, axis=1)


def mantissa_inputs(g: Graph) -> bool:
    """Whether the C simulation reads the inputs as integer mantissas (the testbench built with
    -DHWC_TB_MANTISSAS, as `hwc verify` builds it): every input type's mantissa is an exact double and
    fits a `long long`. The testbench then skips the double -> fixed conversion, g++'s costliest
    instantiation in it; the simulator's FromFloat gives the mantissas."""
    return all(v.uses[0].node.output.type.elem.width <= 53 for v in g.inputs)


def host_mantissas(g: Graph, kept: dict) -> np.ndarray:
    """The inputs' mantissas as the simulator quantized them (kept: reference()'s values), flattened per
    sample and concatenated over inputs."""
    cols = [np.asarray(kept[v.uses[0].node.output.name]) for v in g.inputs]
    return np.concatenate([c.reshape(len(c), -1) for c in cols], axis=1).astype(np.int64)


def tb_inputs(g: Graph, xs: list[np.ndarray], kept: dict) -> np.ndarray:
    """The rows the C simulation's testbench reads: mantissas when mantissa_inputs(g), else host_inputs."""
    return host_mantissas(g, kept) if mantissa_inputs(g) else host_inputs(g, xs)


def reference(g: Graph, xs: list[np.ndarray]) -> tuple[np.ndarray, dict]:
    """The simulator's outputs as exact doubles of the fixed-point values the top function produces
    (before any output scale), and every value it computed."""
    _, kept = simulate(g, xs, mode="fixed", keep=lambda n: True)
    cols = []
    for v in g.outputs:
        src = v.producer.inputs[0]
        t: FixedType = src.type.elem
        m = kept[src.name]
        cols.append((np.asarray(m, dtype=np.float64) * 2.0 ** -t.frac_bits).reshape(len(m), -1))
    return np.concatenate(cols, axis=1), kept


def rows_text(a: np.ndarray) -> str:
    """One row per line: integers as integers, anything else as the shortest exact double."""
    fmt = (lambda v: str(int(v))) if np.asarray(a).dtype.kind in "iu" else (lambda v: repr(float(v)))
    return "".join(" ".join(fmt(v) for v in row) + "\n" for row in a)


def write_rows(path: Path, a: np.ndarray) -> None:
    Path(path).write_text(rows_text(a))


def read_rows(path: Path, width: int) -> np.ndarray:
    text = Path(path).read_text().split()
    return np.array(text, dtype=np.float64).reshape(-1, width)
