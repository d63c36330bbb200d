"""The ``bandster`` command line.

Each subcommand lives in its own module of this package with a ``register(subparsers)`` function that adds
its parser and sets ``func`` (called with the parsed arguments, returning an exit code). Add a module's name
to ``SUBCOMMANDS`` to make it part of the command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from bandster.__version__ import __version__

#: modules of this package that provide subcommands, in the order ``--help`` lists them
SUBCOMMANDS: list[str] = ["nameserver", "worker", "stop", "status", "report", "dashboard", "plan"]


_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj|ref|doc):`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def plain_text(text: str) -> str:
    """Docstring text as a terminal shows it: reStructuredText markup removed.

    Examples
    --------
    >>> plain_text("see :func:`bandster.core.credentials.load_credentials` and ``--dir``::")
    'see bandster.core.credentials.load_credentials and --dir:'
    """
    text = _ROLE.sub(r"\1", text)
    text = text.replace("``", "")
    return re.sub(r"::(\s*)$", r":\1", text, flags=re.MULTILINE)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The formatter of every ``bandster`` command: descriptions kept as written but without reStructuredText
    markup; ``(default: ...)`` added only where there is a default worth showing and the help does not state
    it already."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return super()._fill_text(plain_text(text), width, indent)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = plain_text(action.help or "")
        default = action.default
        if default is None or default is False or default == [] or default is argparse.SUPPRESS or "default" in text:
            return text
        return text + " (default: %(default)s)"




def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="bandster",
        description="bandster: distributed multi-fidelity hyperparameter optimization (HpBandSter's API, maintained).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bandster {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"bandster.cli.{name}").register(subparsers, HelpFormatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bandster`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stdout)
        return 0
    try:
        return int(func(args) or 0)
    except BrokenPipeError:
        # the reader went away (`bandster status DIR | head -1`): not an error; keep Python from complaining
        # again when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
