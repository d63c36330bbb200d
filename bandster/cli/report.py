"""``bandster report DIR -o report.html``: a self-contained HTML report of a run (figures embedded);
``bandster report DIR1 DIR2 ... -o compare.html``: several runs' incumbents compared."""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="write a self-contained HTML report of a run, or a comparison of several (opens offline)",
        description=(
            "Write one HTML file with the run's summary, incumbent, best configurations (with the metrics the\n"
            "worker returned in info), interactive figures (hover, zoom), every run in a sortable and\n"
            "filterable table, progress per stage, workers, failed runs and settings. Everything is embedded\n"
            "(plotly.js too, about 4.6 MiB): it opens without a server and loads nothing from the network.\n"
            "Without the plotly package (pip install 'bandster[report]') or with --static the figures are PNGs.\n\n"
            "DIR is the run's journal directory or a working directory (its newest journal).\n\n"
            "With several DIRs (each a journal, a working directory or a folder of runs), the file compares\n"
            "the runs: their incumbents over wall-clock time and over budget spent, one colour per optimizer\n"
            "(or per --labels group) with the median and quartiles over its runs."
        ),
        formatter_class=formatter_class,
    )
    parser.add_argument("dir", metavar="DIR", nargs="+", help="journal directory, or a working directory")
    parser.add_argument("-o", "--output", default=None,
                        help="the HTML file to write (default: DIR/report.html; compare.html for several DIRs)")
    parser.add_argument("--title", default=None, help="the report's title")
    parser.add_argument("--top", type=int, default=10, help="how many of the best configurations to list")
    parser.add_argument("--dpi", type=int, default=90, help="resolution of the figures with --static")
    parser.add_argument("--static", action="store_true", help="matplotlib PNG figures instead of interactive ones")
    parser.add_argument("--labels", default=None,
                        help="with several runs: comma-separated group labels, one per run found (default: each "
                             "run's optimizer)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Write the report and print its path; exit code 1 when there is no journal."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display needed
    try:
        if len(args.dir) > 1:
            from bandster.analysis.compare import write_comparison

            labels = [label.strip() for label in args.labels.split(",")] if args.labels else None
            path = write_comparison(args.dir, args.output or "compare.html", title=args.title, labels=labels)
        else:
            from bandster.analysis.report import write_report

            path = write_report(args.dir[0], args.output, title=args.title, top=args.top, dpi=args.dpi,
                                interactive=False if args.static else None)
    except (FileNotFoundError, ValueError, ImportError) as err:
        print(f"bandster report: error: {err}", file=sys.stderr)
        return 1
    print(f"report written to {path}")
    return 0
