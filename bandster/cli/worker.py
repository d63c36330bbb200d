"""``bandster worker``: run a worker process for a run, from any importable Worker class or any command.

The worker finds the name server through the shared directory's credentials file (``--dir``; it waits for
the master to write it, and never uses a file left by a master that died), registers, and computes until
the master tells it to stop (or until it was idle for ``--timeout`` seconds). SIGTERM or Ctrl-C: it finishes
the current job, delivers it and leaves; a second signal stops a running ``--command`` at once and hands its
job back to the master, which gives it to another worker.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import math
import os
import signal
import sys
import threading
from typing import Any

from bandster.cli.nameserver import LOG_FORMAT

EPILOG = """\
examples:
  # a Python worker class (module importable from the current directory or PYTHONPATH)
  bandster worker --run-id mnist --dir /shared/mnist mymodule:MyWorker
  bandster worker --run-id mnist --dir /shared/mnist path/to/workers.py:MyWorker \\
      --worker-kwargs '{"sleep_interval": 0.5}'

  # one GPU per worker process on a 4-GPU node
  for gpu in 0 1 2 3; do
    bandster worker --run-id mnist --dir /shared/mnist --env CUDA_VISIBLE_DEVICES=$gpu mymodule:MyWorker &
  done

  # any program: placeholders are replaced by shell-quoted values
  bandster worker --run-id mnist --dir /shared/mnist --nic ib0 \\
      --command 'python train.py --config {config} --epochs {budget} --ckpt-dir {workdir} --out {result}'
  bandster worker --run-id mnist --dir /shared/mnist \\
      --command './train.sh && echo "$LOSS" > {result}'   # reads $BANDSTER_HP_LR, $BANDSTER_BUDGET, ...

--command placeholders:
  {config}           path of a JSON file with the configuration
  {budget}           the budget as Python writes a float (9.0)
  {workdir}          the configuration's own directory (same on every budget and worker: checkpoints go here)
  {result}           where the program writes the loss (a bare number) or JSON {"loss": ..., "info": ...}
  {previous_budget}  the budget this configuration last finished on (empty the first time)
  {config_id}        the configuration's id, i_j_k
  {reports}          a file the program may append reports to, one JSON line each: {"step": 3, "loss": 0.41}
                     (read every 0.2 s; when the scheduler stops the job: SIGTERM, SIGKILL after --stop-grace)
  Environment: BANDSTER_HP_<NAME> per hyperparameter, BANDSTER_BUDGET, BANDSTER_CONFIG, BANDSTER_RESULT,
  BANDSTER_WORKDIR, BANDSTER_PREVIOUS_BUDGET, BANDSTER_CONFIG_ID, BANDSTER_REPORTS. A non-zero exit or a
  missing/garbled result is a failed run; its error holds the exit status and the end of the program's output.
"""


def register(subparsers: argparse._SubParsersAction, formatter_class: type = argparse.HelpFormatter) -> None:
    """Add the ``worker`` subcommand."""
    parser = subparsers.add_parser(
        "worker",
        help="run a worker process (a Worker class MODULE:CLASS, or --command for programs in any language)",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=formatter_class,
    )
    parser.add_argument("target", nargs="?", metavar="MODULE:CLASS",
                        help="the Worker subclass to run: a module importable from the current directory or "
                             "PYTHONPATH, or a path to a .py file, then ':' and the class name")
    parser.add_argument("--command", default=None,
                        help="instead of MODULE:CLASS: a shell command run for every job (placeholders below)")
    parser.add_argument("--stop-grace", "--stop_grace", dest="stop_grace", type=float, default=None,
                        metavar="SECONDS", help="with --command: seconds a program stopped by the scheduler has "
                        "between SIGTERM and SIGKILL (default 10)")
    parser.add_argument("--run-id", "--run_id", dest="run_id", required=True, help="the run to work for")
    found = parser.add_argument_group("finding the name server (one of)")
    found.add_argument("--dir", "--shared_directory", "--shared-directory", dest="dir",
                       default=None, help="shared directory holding the run's credentials file (written by the "
                                          "master or by `bandster nameserver`)")
    found.add_argument("--nameserver", default=None,
                       help="name server address, when it runs on this machine for this user (its secret is "
                            "then found in your private runtime directory) or with $BANDSTER_SECRET set")
    parser.add_argument("--nameserver-port", "--nameserver_port", dest="nameserver_port", type=int, default=None,
                        help="name server port, with --nameserver (default: 9090)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--nic", "--nic_name", "--nic-name", dest="nic", default=None,
                       help="network interface whose address this worker listens on (e.g. eth0, ib0)")
    where.add_argument("--host", default=None,
                       help="address this worker listens on (default: the local address on the route to the "
                            "name server)")
    parser.add_argument("--worker-kwargs", "--worker_kwargs", dest="worker_kwargs", default=None, metavar="JSON",
                        help="JSON object of extra keyword arguments for the worker class's constructor")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="set an environment variable before the worker class is imported (repeatable), "
                             "e.g. CUDA_VISIBLE_DEVICES=1")
    parser.add_argument("--id", default=None, help="appended to the worker's name (default: a counter)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="shut down after this many seconds idle after a job, or waiting for a master "
                             "(HpBandSter's Worker(timeout=); default: never)")
    parser.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                        help="how long to wait for the master's credentials file (with --dir) or its name server "
                             "(with --nameserver) ('inf': forever)")
    parser.add_argument("--log-level", "--log_level", dest="log_level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level (to stderr)")
    parser.set_defaults(func=main)


class UsageError(Exception):
    """A problem with the command line; reported as ``bandster worker: <message>`` with exit status 2."""


def parse_env(items: list[str]) -> dict[str, str]:
    """``['A=1', 'B=x=y']`` -> ``{'A': '1', 'B': 'x=y'}``."""
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env expects KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def parse_worker_kwargs(text: str | None) -> dict[str, Any]:
    """The ``--worker-kwargs`` JSON object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--worker-kwargs is not valid JSON ({exc}): {text!r}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--worker-kwargs must be a JSON object like '{{\"sleep\": 1}}', got {text!r}")
    return value


def load_worker_class(target: str) -> type:
    """The class named by ``MODULE:CLASS`` (``MODULE`` may be a dotted module name or a ``.py`` path)."""
    from bandster.core.worker import Worker

    module_name, sep, class_name = target.rpartition(":")
    if not sep or not module_name or not class_name:
        raise UsageError(f"expected MODULE:CLASS (e.g. mymodule:MyWorker), got {target!r}")
    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.abspath(module_name)
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {path}")
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)  # so that it can import its neighbours, like `python file.py`
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the current directory are found
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise UsageError(
                f"cannot import {module_name!r} ({exc}); run from its directory or set PYTHONPATH"
            ) from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise UsageError(f"module {module_name!r} has no attribute {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Worker)):
        raise UsageError(f"{target} is not a subclass of bandster.core.worker.Worker")
    return cls


def main(args: argparse.Namespace) -> int:
    """Run one worker until it is told to stop, is idle for ``--timeout`` s, or gets SIGTERM/SIGINT."""
    logging.basicConfig(level=getattr(logging, args.log_level), format=LOG_FORMAT)
    log = logging.getLogger("bandster.cli.worker")
    try:
        worker = _make_worker(args, log)
    except UsageError as exc:
        print(f"bandster worker: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except (RuntimeError, ValueError, OSError) as exc:  # no credentials, bad interface, ...
        print(f"bandster worker: {exc}", file=sys.stderr)
        return 1
    return _serve(worker, log)


def _make_worker(args: argparse.Namespace, log: logging.Logger) -> Any:
    from bandster.core import credentials
    from bandster.core.nameserver import DEFAULT_PORT, nic_name_to_host, validate_run_id

    if (args.target is None) == (args.command is None):
        raise UsageError("give either MODULE:CLASS or --command '...' (see bandster worker --help)")
    if (args.dir is None) == (args.nameserver is None):
        raise UsageError("give either --dir (the shared directory with the credentials file) or --nameserver")
    if args.dir is not None and not os.path.isdir(args.dir):
        raise UsageError(f"--dir {args.dir}: no such directory. Give the shared directory the master writes its "
                         "credentials file to (its working_directory), and create it first if the workers start "
                         "before the master")
    try:
        run_id = validate_run_id(args.run_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    env = parse_env(args.env)
    kwargs = parse_worker_kwargs(args.worker_kwargs)
    os.environ.update(env)  # before the worker's module is imported: CUDA_VISIBLE_DEVICES must be set early
    if args.command is not None:
        from bandster.workers.command import CommandWorker

        cls: type = CommandWorker
        kwargs["command"] = args.command
        if args.stop_grace is not None:
            if not args.stop_grace >= 0:
                raise UsageError(f"--stop-grace {args.stop_grace:g}: give a number of seconds >= 0")
            kwargs["stop_grace"] = args.stop_grace
    else:
        if args.stop_grace is not None:
            raise UsageError("--stop-grace applies to --command only (a Worker class stops at its report)")
        cls = load_worker_class(args.target)  # before waiting for the master: a typo shows at once
    common: dict[str, Any] = {"run_id": run_id, "nameserver": None, "nameserver_port": None, "host": None}
    if args.id is not None:
        common["id"] = args.id
    if args.timeout is not None:
        common["timeout"] = args.timeout
    overlap = sorted(set(kwargs) & set(common))
    if overlap:
        raise UsageError(f"--worker-kwargs may not set {', '.join(overlap)}: use the command-line options")
    common["host"] = nic_name_to_host(args.nic) if args.nic else args.host
    if args.nameserver is not None:
        # the secret: $BANDSTER_SECRET, or this user's private file for a name server on this machine
        common.update(nameserver=args.nameserver, nameserver_port=int(args.nameserver_port or DEFAULT_PORT))
    try:
        worker = cls(**common, **kwargs)
    except TypeError as exc:
        raise UsageError(f"cannot create {cls.__name__}(...): {exc}") from exc
    # with --nameserver: how long run() waits for a name server that is not up yet
    worker.nameserver_wait = sys.float_info.max if math.isinf(args.wait) else args.wait
    if args.dir is not None:
        interval = 1.0
        tries = sys.maxsize if math.isinf(args.wait) else max(1, math.ceil(args.wait / interval))
        log.info("reading the credentials of run %s from %s", run_id, credentials.credentials_path(args.dir, run_id))
        # the Worker's own method: it also lets the worker follow a new master if this one dies
        worker.load_nameserver_credentials(args.dir, num_tries=tries, interval=interval)
    return worker


def _serve(worker: Any, log: logging.Logger) -> int:
    signals: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        signals.append(signum)
        worker.request_stop()  # at once: a command killed by the same signal is then handed back

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            worker.run(background=True)
        except RuntimeError as exc:
            print(f"bandster worker: {exc}", file=sys.stderr)
            return 1
        log.info("worker %s is ready", worker.worker_id)
        handled = 0
        # short joins, so that the main thread runs Python code and signal handlers promptly
        while not worker.wait(0.25):
            if len(signals) > handled:
                handled = len(signals)
                name = signal.Signals(signals[-1]).name
                if handled == 1:
                    log.info("got %s: leaving after the current job (send it again to stop now)", name)
                    threading.Thread(target=worker.shutdown, name="bandster-cli-shutdown", daemon=True).start()
                elif hasattr(worker, "stop_command") and worker.stop_command():
                    log.warning("got %s again: stopped the running command; its job goes back to the master", name)
                else:
                    log.warning("got %s again: exiting now; the master re-queues a running job", name)
                    return 128 + signals[-1]
        if worker.error is not None:  # the name server never answered: the thread logged why and ended
            print(f"bandster worker: {worker.error}", file=sys.stderr)
            return 1
        log.info("worker %s exits", worker.worker_id)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
