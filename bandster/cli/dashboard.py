"""``bandster dashboard DIR``: a live, read-only web page of a run (or of several) from their journals."""

from __future__ import annotations

import argparse
import sys
import threading


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    """Add the ``dashboard`` subcommand."""
    parser = subparsers.add_parser(
        "dashboard",
        help="serve a live web page of a run (or of several runs) from their journals",
        description=(
            "Serve a read-only web page with a run's progress, incumbent, running jobs, workers, every run in a\n"
            "sortable and filterable table, and interactive figures; it updates itself while the run goes on,\n"
            "reading only what was appended to the journal. It reads only the journal, so it also shows runs\n"
            "written on other machines into a shared directory.\n\n"
            "DIR is a run's journal directory, a working directory (its bandster_runs/ journals), or a folder\n"
            "holding several runs (then the page has a run selector and compares their incumbents).\n\n"
            "Security: it listens on 127.0.0.1 by default and has no authentication. With --host 0.0.0.0\n"
            "anyone who can reach the port sees the journal (configurations, losses, tracebacks, host names);\n"
            "prefer an SSH tunnel (ssh -L 8050:127.0.0.1:8050 host)."
        ),
        formatter_class=formatter_class,
    )
    parser.add_argument("dir", metavar="DIR", help="journal directory, working directory, or a folder of runs")
    parser.add_argument("--port", type=int, default=8050, help="the port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; exit code 1 when there is no journal or the port is taken."""
    from bandster.analysis.dashboard import Dashboard

    try:
        dashboard = Dashboard(args.dir, host=args.host, port=args.port, freeze_gc=True)  # the process is its own
        dashboard.start()
    except FileNotFoundError as err:
        print(f"bandster dashboard: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"bandster dashboard: error: cannot listen on {args.host}:{args.port} ({err}); pick another --port "
              "(0 for any free one)", file=sys.stderr)
        return 1
    print(f"bandster dashboard of {dashboard.path} on {dashboard.url} (Ctrl-C to stop)", flush=True)
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        dashboard.stop()
    return 0
