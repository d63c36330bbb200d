"""``bandster status DIR``: the state of a running or finished run, read from its journal."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time


def fit_height(text: str, height: int) -> str:
    """``text`` cut to ``height`` lines, its last line saying how many were left out (``--watch`` in a
    terminal redraws the status in place: what does not fit would scroll the header away).

    Examples
    --------
    >>> fit_height("a\\nb\\nc\\nd", 3)
    'a\\nb\\n... 2 more lines: a taller terminal, or bandster status without --watch, shows them'
    >>> fit_height("a\\nb", 3)
    'a\\nb'
    """
    lines = text.splitlines()
    if height < 2 or len(lines) <= height:
        return text
    keep = height - 1
    return "\n".join(lines[:keep] + [f"... {len(lines) - keep} more lines: a taller terminal, or bandster status "
                                      "without --watch, shows them"])


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    """Add the ``status`` subcommand."""
    parser = subparsers.add_parser(
        "status",
        help="show the state of a running or finished run (from its journal)",
        description=(
            "Read a run's journal and print, per iteration and stage, the runs done / running / failed /\n"
            "pending, the best configurations, the workers seen and their last activity, how the workers'\n"
            "time split into computing and overhead, and an estimate of the time remaining.\n\n"
            "DIR is the run's journal directory (<working_directory>/bandster_runs/<run_id>_<time>) or a\n"
            "working directory, in which case its newest journal is shown."
        ),
        formatter_class=formatter_class,
    )
    parser.add_argument("dir", metavar="DIR", help="journal directory, or a working directory")
    parser.add_argument("--run-id", "--run_id", default=None,
                        help="with a working directory: this run's newest journal")
    parser.add_argument("--top", type=int, default=5, help="how many of the best configurations to show")
    parser.add_argument("--watch", action="store_true",
                        help="refresh every --interval seconds until the run stops (Ctrl-C to leave)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes with --watch")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Print the status (repeatedly with ``--watch``); exit code 1 when there is no journal."""
    from bandster.analysis.status import read_status

    def show(clear: bool) -> str:
        status = read_status(args.dir, top=args.top, run_id=args.run_id)
        text = json.dumps(status.to_dict(), indent=2, default=str) if args.json else status.format()
        if args.watch and terminal:
            # redrawn in place: fit the terminal (one line is left for the cursor)
            text = fit_height(text, shutil.get_terminal_size().lines - 1)
        if clear:
            sys.stdout.write("\033[H\033[2J")
        print(text, flush=True)
        return status.state

    terminal = sys.stdout.isatty() and not args.json
    try:
        state = show(clear=False)
        if not args.watch:
            return 0
        clear = terminal
        while state == "running":
            time.sleep(max(args.interval, 0.05))
            state = show(clear=clear)
    except FileNotFoundError as err:
        print(f"bandster status: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
