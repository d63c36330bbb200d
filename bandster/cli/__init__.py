"""The ``bandster`` command line.

Each subcommand lives in its own module of this package with a ``register(subparsers)`` function that adds
its parser and sets ``func`` (called with the parsed arguments, returning an exit code). Add a module's name
to ``SUBCOMMANDS`` to make it part of the command.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bandster.__version__ import __version__

#: modules of this package that provide subcommands, in the order ``--help`` lists them
SUBCOMMANDS: list[str] = ["nameserver", "worker", "stop", "status", "report", "dashboard", "plan"]


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bandster",
        description="bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter's API, maintained).",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"bandster {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"bandster.cli.{name}").register(subparsers, _Formatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bandster`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stdout)
        return 0
    return int(func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
