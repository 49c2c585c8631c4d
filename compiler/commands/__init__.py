"""One module per `hwc` subcommand; `compiler/cli.py` builds the parser and dispatches."""
