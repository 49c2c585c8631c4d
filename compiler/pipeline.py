"""The pass lists hwc runs (explicit lists; no discovery)."""

from __future__ import annotations

from .ir.graph import Graph
from .passes.base import PassManager
from .passes.fold_batchnorm import FoldBatchNorm
from .passes.fold_constants import FoldConstants
from .passes.fuse_matmul_add import FuseMatMulAdd
from .passes.remove_dead_nodes import RemoveDeadNodes
from .passes.remove_identity import RemoveIdentity

def cleanup(graph: Graph, verify: bool = False) -> dict[str, int]:
    """Exact rewrites only: what they change cannot alter a float result beyond summation order."""
    return PassManager([RemoveIdentity(), FoldConstants(), FuseMatMulAdd(), RemoveDeadNodes()], verify=verify).run(graph)


def optimize(graph: Graph, verify: bool = False) -> dict[str, int]:
    """Cleanup plus BatchNorm folding (which rounds the folded weights once in float32)."""
    return PassManager([RemoveIdentity(), FoldConstants(), FuseMatMulAdd(), FoldBatchNorm(), RemoveDeadNodes()],
                       verify=verify).run(graph)
