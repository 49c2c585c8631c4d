"""QuantizeAffine: a float IR (after `optimize`) becomes the TFLite int8 form, every value typed AffineType.

Real value = scale * (q - zero_point) (TFLite int8 spec). The lowering runs its steps once, in order, under the
PassManager, sharing an `AffineState` keyed by `Value`:
LowerQLinear (QLinearConv/QLinearMatMul) → TakeQuantizers (the model's own scales and zero points are kept) →
FoldBatchNormIntoScales → FuseActivations (RELU, RELU6, RELU_N1_TO_1) → CheckAffineSupport →
QuantizeAffineWeights (int8, per output channel) → RemoveDeadNodes → AssignAffineParams (activations per tensor,
from ranges or carried) → QuantizeAffineBiases (int32) → AddAffineEdges (FromFloat/ToFloat/uint8 Casts) →
ApplyAffineTypes → DropIdentityRelus → RemoveDeadNodes.
"""

from __future__ import annotations

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import FloatType
from .add_affine_edges import AddAffineEdges
from .affine_params import AffineState, Range
from .apply_affine_types import ApplyAffineTypes
from .assign_affine_params import AssignAffineParams
from .base import Pass, PassManager
from .check_affine_support import SUPPORTED, CheckAffineSupport
from .drop_identity_relus import DropIdentityRelus
from .fold_batchnorm_into_scales import FoldBatchNormIntoScales
from .fuse_activations import FuseActivations
from .lower_qlinear import LowerQLinear
from .quantize_affine_biases import QuantizeAffineBiases
from .quantize_affine_weights import QuantizeAffineWeights
from .remove_dead_nodes import RemoveDeadNodes
from .take_quantizers import TakeQuantizers


# run-time ops the lowering handles: the TFLite forms (CheckAffineSupport), and what leaves the graph before the check
# (the model's quantizers: TakeQuantizers; QLinear integer layers: LowerQLinear)
HANDLED = SUPPORTED | {"Quant", "QuantizeLinear", "DequantizeLinear", "Requantize", "ConvInteger", "MatMulInteger"}


def check_bits(wbits: int, abits: int | None) -> None:
    """TFLite int8: activations 8 bits (the 16x8 mode is not built), weights 2..8 bits."""
    if abits is not None and abits != 8:
        raise HwcError(f"--abits {abits}: TFLite int8 activations are 8 bits (the 16x8 mode is not built); "
                       "use --abits 8")
    if not 2 <= wbits <= 8:
        raise HwcError(f"--wbits {wbits}: TFLite int8 weights take 2..8 bits")


def affine_passes(state: AffineState, graph: Graph) -> list[Pass]:
    """The lowering's steps, in order (each runs once)."""
    return [LowerQLinear(state), TakeQuantizers(state), FoldBatchNormIntoScales(state), FuseActivations(state),
            CheckAffineSupport(), QuantizeAffineWeights(state), RemoveDeadNodes(), AssignAffineParams(state),
            QuantizeAffineBiases(state),
            AddAffineEdges(state, [isinstance(v.type.elem, FloatType) for v in graph.outputs],
                           [v.name for v in graph.outputs]),
            ApplyAffineTypes(state), DropIdentityRelus(), RemoveDeadNodes()]


class QuantizeAffine(Pass):
    name = "quantize-affine"

    def __init__(self, ranges: dict[str, Range], wbits: int = 8, abits: int | None = 8, verify: bool = False):
        """`ranges` by value name (as `calibrate`/`intervals` give them); after `run`, `notes` says what was
        approximated and `ranged` holds the values whose parameters came from a range."""
        check_bits(wbits, abits)
        self.ranges = ranges
        self.wbits = wbits
        self.verify = verify
        self.notes: list[str] = []
        self.ranged: set = set()
        self.carried: dict = {}  # after `run`: the values whose parameters are the model's own

    def run(self, graph: Graph) -> bool:
        state = AffineState.of(graph, self.ranges, self.wbits)
        changes = PassManager(affine_passes(state, graph), fixed_point=False, verify=self.verify).run(graph)
        graph.sort()
        self.notes, self.ranged, self.carried = state.notes, state.ranged, state.carried
        return any(changes.values())
