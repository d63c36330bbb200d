"""``bandster nameserver``: a standalone name server (e.g. on a cluster's login node).

It writes the credentials file (address, port, secret) of each run it serves into the shared directory,
runs until SIGINT or SIGTERM, and then removes those files. Masters and workers in other processes find it
through that directory (:func:`bandster.core.credentials.load_credentials`,
``Worker.load_nameserver_credentials``, ``bandster worker --dir``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import sys
import threading

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

EPILOG = """\
examples:
  # on the login node: serve run "mnist" on the cluster network, credentials in a shared directory
  bandster nameserver --run-id mnist --dir /shared/mnist --nic eth0

  # one name server for several runs (each gets its own credentials file; names stay separate)
  bandster nameserver --run-id a b c --dir /shared/runs --host 10.1.2.3 --port 9090

  # then, in a master script (another process, possibly another machine):
  #   host, port, secret = bandster.core.credentials.load_credentials('/shared/mnist', 'mnist')
  #   BOHB(..., run_id='mnist', nameserver=host, nameserver_port=port, nameserver_secret=secret)
  # and the workers:
  #   bandster worker --run-id mnist --dir /shared/mnist mymodule:MyWorker

The credentials files (JSON, mode 0600) hold the name server's secret: keep the directory private to you.
Stop with Ctrl-C or SIGTERM; the files are then removed.
"""


def register(subparsers: argparse._SubParsersAction, formatter_class: type = argparse.HelpFormatter) -> None:
    """Add the ``nameserver`` subcommand."""
    parser = subparsers.add_parser(
        "nameserver",
        help="run a standalone name server that writes its credentials into a shared directory",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=formatter_class,
    )
    parser.add_argument("--run-id", "--run_id", dest="run_id", nargs="+", required=True, metavar="RUN_ID",
                        help="the run(s) to serve: one credentials file is written for each")
    parser.add_argument("--dir", "--shared_directory", "--shared-directory", dest="dir",
                        required=True, help="shared directory for the credentials file(s)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--nic", "--nic_name", "--nic-name", dest="nic", default=None,
                       help="network interface whose IPv4 address to listen on (e.g. eth0, ib0)")
    where.add_argument("--host", default=None,
                       help="address to listen on (default: 127.0.0.1, reachable from this machine only)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--log-level", "--log_level", dest="log_level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level (to stderr)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the name server until SIGINT/SIGTERM."""
    from bandster.core import credentials
    from bandster.core.nameserver import NameServer, validate_run_id

    logging.basicConfig(level=getattr(logging, args.log_level), format=LOG_FORMAT)
    try:
        run_ids = [validate_run_id(r) for r in args.run_id]
    except ValueError as exc:
        print(f"bandster nameserver: {exc}", file=sys.stderr)
        return 2
    ns = NameServer(run_id=run_ids[0], working_directory=args.dir, host=args.host, port=args.port,
                    nic_name=args.nic)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    extra: list[str] = []
    try:
        try:
            host, port = ns.start()
        except (OSError, ValueError) as exc:
            hint = " (on the command line: --port 0)" if getattr(exc, "errno", None) == errno.EADDRINUSE else ""
            print(f"bandster nameserver: {exc}{hint}", file=sys.stderr)
            return 1
        paths = [ns.conf_fn or credentials.credentials_path(args.dir, run_ids[0])]
        for run_id in run_ids[1:]:
            path = credentials.write_credentials(args.dir, run_id, host, port, ns.secret)
            extra.append(path)
            paths.append(path)
        print(f"bandster name server listening on {host}:{port} for run(s) {', '.join(run_ids)}", flush=True)
        for path in paths:
            print(f"credentials: {path}", flush=True)
        while not stop.wait(1.0):
            pass
        logging.getLogger(__name__).info("got %s: shutting down", signal.Signals(received[0]).name)
    finally:
        for path in extra:
            record = credentials.read_credentials(path)
            if record is not None and record.get("secret") == ns.secret:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        ns.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("bandster name server stopped", flush=True)
    return 0
