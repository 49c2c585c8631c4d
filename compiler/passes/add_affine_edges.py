"""AddAffineEdges: the int8 graph's boundary. A float input gets a FromFloat (quantize), a float output a
ToFloat (dequantize) that keeps the output's name; uint8 inputs and outputs get a Cast that shifts the zero
point by 128 (q_u8 = q_i8 + 128), so inside the graph every value is int8."""

from __future__ import annotations

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import FloatType
from .affine_params import AffinePass, AffineState, I8, U8


class AddAffineEdges(AffinePass):
    name = "add-affine-edges"

    def __init__(self, state: AffineState, float_outputs: list[bool], output_names: list[str]):
        """`float_outputs`/`output_names`: per graph output, as they were before the model's quantizers left."""
        super().__init__(state)
        self.float_outputs = float_outputs
        self.output_names = output_names

    def run(self, graph: Graph) -> bool:
        st, P = self.state, self.state.params
        changed = False
        for v in list(graph.inputs):
            p = P[v]
            if isinstance(v.type.elem, FloatType):
                node = graph.add_node("FromFloat", [v], name=f"{v.name}_quantize", output_names=[f"{v.name}_q"],
                                      output_types=[v.type.with_elem(I8)], index=0)
            elif st.in_storage.get(v) == U8:
                graph.retype(v, v.type.with_elem(p.elem(U8)))
                node = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{v.name}_to_int8",
                                      output_names=[f"{v.name}_i8"], output_types=[v.type.with_elem(I8)], index=0)
            else:
                continue
            graph.replace_all_uses(v, node.output, skip=node)
            P[node.output] = p
            del P[v]
            changed = True
        outs = []
        for v, was_float, name in zip(graph.outputs, self.float_outputs, self.output_names):
            if v.producer is None:
                raise HwcError(f"graph output {v.name} is not computed by the model")
            u8 = st.out_storage.get(v) == U8
            if was_float or u8:
                graph.rename(v, name + "_q")
            if was_float:
                node = graph.add_node("ToFloat", [v], name=f"{name}_dequantize", output_names=[name],
                                      output_types=[v.type.with_elem(FloatType(32))])
            elif u8:
                node = graph.add_node("Cast", [v], {"to": P[v].elem(U8)}, name=f"{name}_to_uint8",
                                      output_names=[name], output_types=[v.type.with_elem(P[v].elem(U8))])
            else:
                outs.append(v)
                continue
            outs.append(node.output)
            changed = True
        graph.set_outputs(outs)
        return changed
