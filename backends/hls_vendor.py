"""What differs between Xilinx (Vitis HLS) and Intel (HLS Compiler): a table per vendor.

Type spelling, the macro that selects the vendor in the kernel headers, the header directory for the
g++ C simulation, and the project files each tool wants. Everything else is shared (backends/hls.py, hls_project.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.ir.types import FixedType, Overflow, Rounding

_ROUNDING = {Rounding.TRN: "TRN", Rounding.TRN_ZERO: "TRN_ZERO", Rounding.RND: "RND", Rounding.RND_ZERO: "RND_ZERO",
             Rounding.RND_INF: "RND_INF", Rounding.RND_MIN_INF: "RND_MIN_INF", Rounding.RND_CONV: "RND_CONV"}
_OVERFLOW = {Overflow.WRAP: "WRAP", Overflow.SAT: "SAT", Overflow.SAT_ZERO: "SAT_ZERO", Overflow.SAT_SYM: "SAT_SYM"}


@dataclass(frozen=True)
class Vendor:
    name: str  # "xilinx" | "intel"
    define: str  # the macro the kernel headers select on
    prefix: str  # "AP" | "AC"
    default_part: str
    tool: str  # the HLS tool's name, for the README

    def fixed(self, t: FixedType) -> str:
        """The C++ spelling of a FixedType (default modes omitted, as people write them)."""
        modes = ""
        if t.rounding is not Rounding.TRN or t.overflow is not Overflow.WRAP:
            modes = f",{self.prefix}_{_ROUNDING[t.rounding]},{self.prefix}_{_OVERFLOW[t.overflow]}"
        if self.name == "xilinx":
            return f"{'ap_fixed' if t.signed else 'ap_ufixed'}<{t.width},{t.int_bits}{modes}>"
        return f"ac_fixed<{t.width},{t.int_bits},{'true' if t.signed else 'false'}{modes}>"

    def header_dir(self):
        from .cpp_build import ac_types_dir, ap_types_dir

        return ap_types_dir() if self.name == "xilinx" else ac_types_dir()


XILINX = Vendor("xilinx", "HWC_XILINX", "AP", "xcvu13p-flga2577-2-e", "AMD Vitis HLS")
INTEL = Vendor("intel", "HWC_INTEL", "AC", "Agilex7", "Intel HLS Compiler (i++)")
