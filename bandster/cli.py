"""The ``bandster`` command line. Subcommands (nameserver, worker, status, report, plan) come in later
releases; for now it reports its version."""

from __future__ import annotations

import argparse
import sys

from bandster.__version__ import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bandster",
        description="bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter's API, maintained).",
    )
    parser.add_argument("--version", action="version", version=f"bandster {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bandster`` console script."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help(sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
