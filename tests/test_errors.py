"""compiler/errors.py: every message is one printable line."""

from hwc.compiler.errors import HwcError, listing, printable


def test_control_characters_are_escaped_and_text_kept():
    assert printable("a\nb\r\x1b[31m\tÉ漢") == "a\\nb\\r\\x1b[31m\\tÉ漢"
    assert HwcError("bad\nthing", "m\n.onnx", "fc\n1", "Gemm").line() == "m\\n.onnx: node 'fc\\n1' (Gemm): bad\\nthing"


def test_many_problems_are_one_line():
    assert listing(["a: x"]) == "1 layer: a: x"
    assert listing([f"l{k}: too wide" for k in range(5)]) == \
        "5 layers: l0: too wide; l1: too wide; l2: too wide; and 2 more"
