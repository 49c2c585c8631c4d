"""The `hwc` command line: parser and dispatch; each subcommand lives in `compiler/commands/`.

User mistakes are one line on stderr (`hwc: error: FILE: node 'N' (Op): reason`) with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .errors import HwcError, printable


class Parser(argparse.ArgumentParser):
    """argparse with a mistake reported as one line (`hwc: error: …`, exit 2) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"hwc: error: {' '.join(message.split())}\n")


def build_parser() -> argparse.ArgumentParser:
    from .commands import common, compile as compile_cmd, config, inspect, report, simulate, sweep, synth, verify

    p = Parser(prog="hwc", description="Compile trained neural networks (ONNX, QONNX, QDQ) into hardware.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("inspect", help="show the layers of a model (or the types of a compiled model)")
    s.add_argument("model", help="an .onnx file or a directory written by `hwc compile`")
    s.add_argument("--json", action="store_true", help="print per-layer figures and totals as JSON")
    s.add_argument("--ir", action="store_true", help="print the IR as text")
    s.set_defaults(func=inspect.run)

    s = sub.add_parser("simulate", help="run a model through hwc's simulator (bit-accurate for compiled models)")
    s.add_argument("model", help="an .onnx file or a directory written by `hwc compile`")
    s.add_argument("--input", "-i", action="append", required=True, metavar="X",
                   help="one per model input, in the model's order: .npy, ONNX TensorProto .pb or ARCHIVE.npz:KEY; "
                        "or a single .npz with arrays named after the inputs")
    s.add_argument("-o", "--output", metavar="OUT", help="write outputs: .npy for one output, .npz for several")
    s.add_argument("--labels", metavar="Y", help="class labels (.npy or ARCHIVE.npz:KEY): print the top-1 accuracy of the first output")
    s.set_defaults(func=simulate.run)

    s = compile_parser = sub.add_parser("compile", help="quantize a model and write it for a target")
    s.add_argument("model", help="an .onnx file (float, QONNX or QDQ)")
    s.add_argument("--target", choices=compile_cmd.targets(), default="sim", help="what to produce [sim]")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory (written atomically)")
    s.add_argument("--force", action="store_true", help="replace an existing output directory")
    common.add_quant_options(s)
    common.add_max_drop_options(s)
    common.add_prune_options(s)
    compile_cmd.add_target_options(s)
    s.set_defaults(func=compile_cmd.run)

    s = sub.add_parser("verify", help="run the target's executor on a compiled output and compare with the simulator")
    s.add_argument("dir", help="a directory written by `hwc compile --target …`")
    s.add_argument("--samples", type=int, default=1000, help="random inputs in the calibrated range [1000]")
    s.add_argument("--input", action="append", metavar="X", help="inputs to use instead (.npy or ARCHIVE.npz:KEY)")
    s.add_argument("--resolver", choices=["ref", "xnnpack", "builtin", "all"], default="all",
                   help="tflite targets: LiteRT op resolver(s) to check [all]")
    s.set_defaults(func=verify.run)

    s = sub.add_parser("report", help="an HTML page of a compiled model: graph, precision, resources, latency, fit")
    s.add_argument("dir", help="a directory written by `hwc compile`")
    s.add_argument("-o", "--output", metavar="HTML", help="where to write the page [DIR/report.html]")
    s.add_argument("--input", "-i", action="append", metavar="X", help="data to compare with the float model (as simulate)")
    s.add_argument("--labels", metavar="Y", help="class labels: top-1 accuracy of the compiled and the float model")
    s.set_defaults(func=report.run)

    synth.add_parser(sub)

    s = sub.add_parser("config", help="print the per-layer types the compiler would choose (YAML for --config)")
    s.add_argument("model", help="an .onnx file")
    common.add_quant_options(s)
    s.set_defaults(func=config.run)

    s = sub.add_parser("sweep", help="compile, score and cost a grid of options; the Pareto front (local pool or Ray)")
    sweep.add_arguments(s, compile_parser)
    s.set_defaults(func=sweep.run)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # numpy's RuntimeWarnings (overflow, invalid value in a cast) are not for the user's terminal:
            # every result that matters is checked, and a real problem is an HwcError
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.func(args)
    except HwcError as e:
        print(f"hwc: error: {e.line()}", file=sys.stderr)
        return 2
    except MemoryError:  # a backstop: compile estimates its memory up front (compiler/memory.py)
        print(f"hwc: error: {printable(str(getattr(args, 'model', '')))}: not enough memory for this model", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hwc inspect m.onnx | head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
