"""AssignAffineParams: every run-time value gets its int8 parameters (`AffineState.params`), in graph order.

- Dense, Conv, Add, Mul, GlobalAveragePool, Cast and the table activations requantize into their own
  parameters: the carried ones, else `choose_params` of the value's range (a value whose only consumer is a
  Relu takes the Relu's); a Dense/Conv output scale is widened until s_in s_w / s_out < 255 (XNNPACK refuses
  multipliers >= 256);
- the pass-through ops keep their input's parameters, Sigmoid/Softmax give 1/256 with -128, Tanh 1/128 with 0;
  where the model carries other parameters there, a requantizing Cast follows;
- Concat takes one common output: an input that cannot adopt it gets a requantizing Cast.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.types import AffineType, FloatType
from .affine_params import AffinePass, Params, choose_params, f32
from .check_affine_support import FIXED_OUT, FREE, PASS_THROUGH


class AssignAffineParams(AffinePass):
    name = "assign-affine-params"

    def run(self, graph: Graph) -> bool:
        st = self.state
        P = st.params
        self.changed = False  # the graph changes by requantizing Casts and a fused RELU; the rest is state
        for v in graph.inputs:
            if isinstance(v.type.elem, FloatType) or v in st.carried:
                P[v] = self._target(graph, v)
            else:
                raise HwcError(f"graph input {v.name} ({v.type.elem}) has no quantization parameters")
        for n in graph.toposort():
            if n.op == "Cast" and n.output in P:
                continue
            out = n.output
            carried = st.carried.get(out)
            if n.op in FREE:
                p = self._target(graph, out)
                if n.op in ("Dense", "Conv"):
                    p = self._fit_multiplier(graph, n, p, carried is not None)
                    if carried is not None and carried.lo > -128 and carried.lo == carried.zp:
                        self.changed |= n.attrs["activation"] is None
                        n.attrs["activation"] = n.attrs["activation"] or "RELU"  # the quantizer's clamp at 0
                if carried is not None and carried.lo > -128 and carried.lo != carried.zp:
                    st.notes.append(f"{n.name}: the model's quantizer clamps below at code {carried.lo}; "
                                    "int8 keeps the codes below (no TFLite clamp there)")
                P[out] = p
            elif n.op in PASS_THROUGH:
                P[out] = P[n.inputs[0]]
                if carried is not None and not carried.same(P[out]):
                    self._requant_after(graph, out, carried)
            elif n.op in FIXED_OUT:
                s, z = FIXED_OUT[n.op]
                P[out] = Params(f32(s), z)
                if carried is not None and not carried.same(P[out]):
                    self._requant_after(graph, out, carried)
            elif n.op == "Concat":
                self._concat(graph, n)
            else:
                raise HwcError(f"internal: no parameter rule for {n.op}", node=n.name, op=n.op)
        return self.changed

    def _target(self, graph: Graph, v: Value) -> Params:
        """Parameters a value would choose for itself: its carried ones, else from its range (a value whose
        only consumer is a Relu takes the Relu's range: it then holds no negative codes)."""
        st = self.state
        if v in st.carried:
            return st.carried[v]
        user = graph.single_consumer(v)
        if user is not None and user.op == "Relu" and user.output not in st.carried:
            return choose_params(*st.range(user.output))
        if user is not None and user.op == "Relu":
            return st.carried[user.output]
        return choose_params(*st.range(v))

    def _requant_after(self, graph: Graph, v: Value, p: Params) -> None:
        c = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{v.name}_requant", output_types=[v.type])
        graph.replace_all_uses(v, c.output, skip=c)
        self.state.params[c.output] = p
        self.changed = True

    def _fit_multiplier(self, graph: Graph, n: Node, p: Params, carried: bool) -> Params:
        """XNNPACK (the default interpreter path) refuses s_in s_w / s_out >= 256: widen the output scale, or
        for the model's own output scale, refine the weights' (`_finer_weights`)."""
        m = max_multiplier(n, self.state.params, p)
        if m < 255.0:
            return p
        if carried and _finer_weights(graph, n, m):
            self.changed = True
            self.state.notes.append(f"{n.name}: weight codes scaled up by a power of two, their scales down (the "
                                    f"requantization multiplier {m:.4g} brought below 256; the same products)")
            return p
        if carried:
            raise HwcError(f"the requantization multiplier {m:.4g} is >= 256, which LiteRT's XNNPACK path refuses",
                           node=n.name, op=n.op)
        scale = f32(p.scale * m / 255.0 * (1 + 2**-20))
        self.state.notes.append(f"{n.name}: output scale widened to {scale:.4g} (multiplier below 256)")
        return Params(scale, p.zp)

    def _concat(self, graph: Graph, n: Node) -> None:
        st, P = self.state, self.state.params
        out = n.output
        common = st.carried.get(out) or choose_params(*st.range(out))
        P[out] = common
        for i, v in enumerate(list(n.inputs)):
            if P[v].same(common):
                continue
            prod = v.producer
            adopt = prod is not None and prod.op in FREE and prod.op != "Cast" and graph.single_consumer(v) is n \
                and v not in st.carried and (prod.op not in ("Dense", "Conv") or max_multiplier(prod, P, common) < 255.0)
            if adopt:  # the producer requantizes anyway: straight into the common parameters
                P[v] = common
                continue
            c = graph.add_node("Cast", [v], {"to": common.elem()}, name=f"{n.name}_in{i}_requant",
                               output_types=[v.type])
            graph.set_input(n, i, c.output)
            P[c.output] = common
            self.changed = True


def max_multiplier(n: Node, P: dict[Value, Params], p: Params) -> float:
    """The largest requantization multiplier s_in s_w[c] / s_out of a Dense/Conv (float32, as TFLite computes it)."""
    s_in = np.float32(P[n.inputs[0]].scale)
    return float(max(s_in * np.float32(s) / np.float32(p.scale) for s in n.inputs[1].type.elem.scale))


def _finer_weights(graph: Graph, n: Node, m: float) -> bool:
    """Bring the multiplier s_in·s_w/s_out = m below 255 with weight codes ·2^e at scales ·2^-e, when the
    codes stay within ±127: the same real weights and products, the multiplier's mantissa unchanged."""
    w = n.inputs[1]
    t, q = w.type.elem, np.asarray(w.const, np.int64)
    e = math.ceil(math.log2(m / 255.0))
    e += m / 2.0 ** e >= 255.0
    if any(t.zero_point) or (np.abs(q).max(initial=0) << e) > 127:
        return False
    elem = AffineType(t.storage, tuple(f32(s * 2.0 ** -e) for s in t.scale), t.zero_point, t.axis)
    graph.set_input(n, 1, graph.constant((q << e).astype(np.int8), f"{n.name}_w", elem=elem))
    return True
