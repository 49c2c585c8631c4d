"""Device fit: the estimated totals against the capacities of the part (parts.json), in percent, and a
warning for every resource the design exceeds."""

from __future__ import annotations

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
    parts = [f"{r.upper()} {figs.value(r):,.0f}/{d['capacity'][r]:,} ({d['utilisation'][r]:.1f} %)" for r in RESOURCES]
    return f"estimated utilisation of {d['part']}: " + ", ".join(parts)
