"""Device fit: the estimated totals against the capacities of the part (parts.json), in percent, and a
warning for every resource the design exceeds."""

from __future__ import annotations

from hwc.compiler.errors import HwcError

from .figures import RESOURCES, Figures
from .parts import find_part


def device_fit(figs: Figures, part: str | None) -> list[str]:
    """Fill figs.part and figs.device; return the warnings (a resource over 100 %, an unknown part)."""
    figs.part = part
    found = find_part(part)
    if found is None:
        figs.device = None
        msg = f"no capacities for part {part!r} in hwc's parts table: utilisation not computed"
        figs.notes.append(msg)
        return [msg]
    key, entry = found
    capacity = {r: entry[r] for r in RESOURCES}
    units = {"lut": next((f.unit for f in figs.total if f.name == "lut"), "LUT"), "ff": "FF", "dsp": "DSP",
             "bram": entry["bram_unit"]}
    util = {r: round(100.0 * figs.value(r) / capacity[r], 2) for r in RESOURCES}
    figs.device = {"part": part, "match": key, "family": entry["family"], "capacity": capacity, "unit": units,
                   "utilisation": util, "source": entry["source"]}
    return [f"{r.upper()} {figs.value(r):,.0f} {units[r]} exceed the {capacity[r]:,} of {part} ({util[r]:.0f} %)"
            for r in RESOURCES if util[r] > 100.0]


def utilisation_line(figs: Figures) -> str:
    d = figs.device
    if not d:
        return ""
    parts = [f"{r.upper()} {figs.value(r):,.0f}/{d['capacity'][r]:,}{'' if d['unit'][r] == r.upper() else ' ' + d['unit'][r]} "
             f"({d['utilisation'][r]:.1f} %)" for r in RESOURCES]
    return f"estimated utilisation of {d['part']}: " + ", ".join(parts)


def _candidates(nnz: int) -> list[int]:
    """Reuse factors to try, ascending: powers of two and ceil(nnz / 2^k) (one step per multiplier count)."""
    c = {1, nnz}
    k = 1
    while k < nnz:
        c.update((k, -(-nnz // k)))
        k *= 2
    return sorted(c)


def auto_reuse(project, part: str | None, clock: float, pct: float) -> dict[str, int]:
    """--reuse auto: per Dense/Conv layer the smallest reuse factor whose resources fit the layer's budget.

    Budget: pct % of each resource of the part, minus what the other layers use, shared among the
    compute layers in proportion to what each uses at reuse 1. A layer that fits nowhere gets its
    largest reuse (one multiplier) and the fit check warns. Convolutions under --io stream keep reuse 1
    (their pixel loop runs at II 1, so reuse would not save anything).
    """
    from .hls import HlsCost

    found = find_part(part)
    if found is None:
        raise HwcError(f"--reuse auto needs a --part whose capacities hwc knows (not {part!r}; see compiler/cost/parts.json)")
    if project.strategy != "resource":
        raise HwcError("--reuse auto needs --strategy resource")
    entry = found[1]
    cost = HlsCost(project, part, clock)
    compute = [l for l in project.layers if l.node.op in ("Dense", "Conv") and not (l.node.op == "Conv" and cost.stream)]
    names = {l.node.name for l in compute}
    fixed = {r: 0.0 for r in RESOURCES}
    for l in project.layers:
        if l.node.name not in names:
            for r, v in cost.resources(l).items():
                fixed[r] += v
    at1 = {l.node.name: cost.resources(l) for l in compute}
    spent = {r: sum(a[r] for a in at1.values()) for r in RESOURCES}
    chosen: dict[str, int] = {}
    for l in compute:
        name = l.node.name
        budget = {r: (entry[r] * pct / 100 - fixed[r]) * at1[name][r] / spent[r] if spent[r] else float("inf")
                  for r in RESOURCES}
        cands = _candidates(max(1, l.multipliers))
        chosen[name] = cands[-1]
        for reuse in cands:
            project.layer_reuse[name] = reuse
            use = cost.resources(l)
            if all(use[r] <= budget[r] for r in RESOURCES):
                chosen[name] = reuse
                break
        project.layer_reuse[name] = chosen[name]
    return chosen
