"""numba for the simulator's kernels, imported when a plan first needs one: importing numba costs about
half a second, which commands that never simulate must not pay. Without numba (the `fast` extra)
`jit_module` returns False and the callers run their numpy versions."""

from __future__ import annotations

_DONE: dict[str, bool] = {}


def jit_module(namespace: dict, inline: tuple[str, ...], kernels: tuple[str, ...]) -> bool:
    """Replace the plain functions named in `inline` (inlined into the others) and `kernels` of a module's
    namespace by numba-compiled ones, once; whether numba is there."""
    name = namespace["__name__"]
    if name not in _DONE:
        try:
            import numba
        except ImportError:
            _DONE[name] = False
            return False
        for f in inline:
            namespace[f] = numba.njit(inline="always", cache=True)(namespace[f])
        for f in kernels:
            namespace[f] = numba.njit(cache=True)(namespace[f])
        _DONE[name] = True
    return _DONE[name]
