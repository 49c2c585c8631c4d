"""User-facing errors: one line naming the file, the node and the reason; the CLI exits with 2."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` on one line: newlines and other control characters (from node or file names) escaped
    as Python does in a repr (\\n, \\x1b), everything printable (accents, CJK) kept."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def listing(problems: list[str], limit: int = 3) -> str:
    """Several problems as one line: the count, the first `limit`, and how many more."""
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} layer{'s' if len(problems) != 1 else ''}: " + "; ".join(problems[:limit]) + more


class HwcError(Exception):
    """A mistake in the user's input (model, data, options). Printed as one line, exit code 2."""

    def __init__(self, reason: str, path: str | None = None, node: str | None = None, op: str | None = None):
        self.reason = reason
        self.path = path
        self.node = node
        self.op = op
        super().__init__(self.line())

    def line(self) -> str:
        parts = []
        if self.path:
            parts.append(str(self.path))
        if self.node is not None:
            parts.append(f"node '{self.node}'" + (f" ({self.op})" if self.op else ""))
        parts.append(self.reason)
        return printable(": ".join(parts))

    def at(self, path=None, node=None, op=None) -> "HwcError":
        """The same error with the file (and node) filled in where they were not known yet."""
        return HwcError(self.reason, self.path or (str(path) if path else None),
                        self.node if self.node is not None else node, self.op or op)


# why DynamicQuantizeLinear is refused by every hardware target (fixed point and int8 alike)
DYNAMIC_QUANT_REFUSAL = ("computes its scale and zero point from each input's min and max at run time; fixed-point "
                         "and int8 hardware needs them at compile time (export with static quantization, or "
                         "compile the float model)")
