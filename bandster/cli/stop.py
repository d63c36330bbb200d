"""``bandster stop DIR``: stop a running master cleanly, as Ctrl-C in its terminal would."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys

from bandster.records.format import PICKLE_FILENAME, lock_holder

EPILOG = """\
examples:
  bandster stop bandster_runs/mnist_20261122-101500     stop the run writing this journal
  bandster stop .                                       the newest journal under ./bandster_runs
  bandster stop .  --run-id mnist                       the newest journal of run 'mnist' under ./bandster_runs

The master stops starting jobs, lets running jobs finish (its stop_grace_period, 60 s by default), writes
results.pkl and returns the Result of every finished run. The master must run on this machine.
"""


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    parser = subparsers.add_parser("stop", help="stop a running master cleanly", description=__doc__,
                                   epilog=EPILOG, formatter_class=formatter_class)
    parser.add_argument("dir", help="the run's journal directory, or its working directory (as for `bandster "
                                    "status`: the newest journal there)")
    parser.add_argument("--run-id", "--run_id", dest="run_id", default=None,
                        help="pick the latest journal of this run under DIR/bandster_runs")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from bandster.records.format import find_journal

    try:  # the same paths as `bandster status`: a journal, a working directory or its bandster_runs folder
        directory = find_journal(args.dir, run_id=args.run_id)
    except FileNotFoundError as err:
        print(f"bandster stop: {err}", file=sys.stderr)
        return 2
    master = lock_holder(directory)
    if master is None:
        print(f"bandster stop: no master is running on the journal in {directory}", file=sys.stderr)
        return 1
    pid, host = master
    if pid <= 0:
        print(f"bandster stop: the master of {directory} is still starting; try again", file=sys.stderr)
        return 1
    if host and host != socket.gethostname():
        print(f"bandster stop: the master runs on {host} (pid {pid}); run this command there", file=sys.stderr)
        return 2
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        print(f"bandster stop: the master (pid {pid}) is gone", file=sys.stderr)
        return 1
    print(f"asked the master (pid {pid}) to stop; it finishes its running jobs and writes "
          f"{os.path.join(directory, PICKLE_FILENAME)}")
    return 0
