"""``bandster report DIR -o report.html``: a self-contained HTML report of a run (figures embedded)."""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a run (figures embedded; opens without a server)",
        description=(
            "Write one HTML file with the run's summary, incumbent, best configurations, plots (embedded\n"
            "PNGs), progress per iteration and stage, workers, failed runs and settings. It has no scripts\n"
            "and loads nothing from the network.\n\n"
            "DIR is the run's journal directory or a working directory (its newest journal)."
        ),
        formatter_class=formatter_class,
    )
    parser.add_argument("dir", metavar="DIR", help="journal directory, or a working directory")
    parser.add_argument("-o", "--output", default=None, help="the HTML file to write (default: DIR/report.html)")
    parser.add_argument("--title", default=None, help="the report's title")
    parser.add_argument("--top", type=int, default=10, help="how many of the best configurations to list")
    parser.add_argument("--dpi", type=int, default=90, help="resolution of the figures")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Write the report and print its path; exit code 1 when there is no journal."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display needed
    from bandster.analysis.report import write_report

    try:
        path = write_report(args.dir, args.output, title=args.title, top=args.top, dpi=args.dpi)
    except FileNotFoundError as err:
        print(f"bandster report: error: {err}", file=sys.stderr)
        return 1
    print(f"report written to {path}")
    return 0
