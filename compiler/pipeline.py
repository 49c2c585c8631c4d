"""The pass lists hwc runs (explicit lists; no discovery)."""

from __future__ import annotations

from .ir.graph import Graph
from .passes.base import PassManager
from .passes.bipolar_quant_to_bipolar import BipolarQuantToBipolar
from .passes.cancel_transposes import CancelTransposes
from .passes.div_to_mul import DivToMul
from .passes.fold_batchnorm import FoldBatchNorm
from .passes.fold_batchnorm_into_next import FoldBatchNormIntoNext
from .passes.fold_constants import FoldConstants
from .passes.fuse_gelu import FuseGelu
from .passes.fuse_matmul_add import FuseMatMulAdd
from .passes.fuse_swish import FuseSwish
from .passes.merge_affine_chain import MergeAffineChain
from .passes.prelu_to_leaky_relu import PReluToLeakyRelu
from .passes.remove_dead_nodes import RemoveDeadNodes
from .passes.remove_identity import RemoveIdentity
from .passes.sub_to_add import SubToAdd

def cleanup(graph: Graph, verify: bool = False) -> dict[str, int]:
    """Exact rewrites only: what they change cannot alter a float result beyond summation order."""
    return PassManager([RemoveIdentity(), FoldConstants(), FuseMatMulAdd(), RemoveDeadNodes()], verify=verify).run(graph)


def canonical() -> list:
    """Canonicalisation, so that equivalent exports look alike to every backend: transpose pairs cancel,
    constant Div/Sub become Mul/Add, affine chains merge into one per-channel BatchNormalization that folds
    into the neighbouring Conv/Dense where exact (each rounds once in float; see the passes' docstrings);
    x·Sigmoid(x) and x·HardSigmoid(x) become Swish and HardSwish, x·0.5·(1 + erf(x/√2)) Gelu (first, before
    the affine chains merge); BipolarQuant with scale 1 becomes Bipolar;
    a PRelu with one slope becomes LeakyRelu."""
    return [FuseGelu(), CancelTransposes(), DivToMul(), SubToAdd(), FuseMatMulAdd(), MergeAffineChain(), FoldBatchNorm(),
            FoldBatchNormIntoNext(), FuseSwish(), BipolarQuantToBipolar(), PReluToLeakyRelu()]


def optimize(graph: Graph, verify: bool = False) -> dict[str, int]:
    """Cleanup plus canonicalisation and BatchNorm folding (which round the folded weights once in float32)."""
    return PassManager([RemoveIdentity(), FoldConstants(), *canonical(), RemoveDeadNodes()], verify=verify).run(graph)
