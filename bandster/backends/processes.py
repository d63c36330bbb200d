"""Worker processes on this machine, each a child of this process talking over a pipe (:class:`ProcessBackend`)."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import multiprocessing.connection
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any

from bandster.backends._pool import LocalBackend, Lost, job_message, timeout_error
from bandster.core import protocol
from bandster.core.job import Job
from bandster.core.reporting import REPORT_INTERVAL, JobReporter

logger = logging.getLogger(__name__)

__all__ = ["ProcessBackend", "child_main"]

#: seconds between log lines while a slot waits for its new process to load the objective
STARTUP_LOG_INTERVAL = 10.0


class _Child:
    """One slot's process and its end of the pipe."""

    __slots__ = ("process", "connection", "error")

    def __init__(self, process: Any, connection: Any) -> None:
        self.process = process
        self.connection = connection
        self.error: str | None = None  # the objective could not be loaded in the child


class ProcessBackend(LocalBackend):
    """Runs ``objective`` in ``n_workers`` child processes of this one, one job at a time each.

    No name server and no sockets: each child has a pipe to its slot thread in this process (``multiprocessing``).
    The objective is sent to the children once, with cloudpickle, so functions defined in a notebook, closures
    and lambdas work (see docs/security.md: the pipe is local and the function is your own). Jobs and results
    cross the pipe as builtins; results are checked in the child as a worker's ``compute`` return is
    (:func:`bandster.core.protocol.check_result`), so bad returns fail with the same texts as on Pyro.

    Reports (``Worker.report``, or the ``report``/``should_stop`` arguments an objective names) cross the pipe to
    the slot's thread, which asks the runner and sends the answer back; reports between the scheduler's decision
    steps share a message when they come faster than one per
    :data:`~bandster.core.reporting.REPORT_INTERVAL` (50 ms). A stopped job's result is marked ``"stopped_at"``.

    Faults:

    * a child that dies during a job (killed, crashed, out of memory) is replaced by a fresh process; the job is
      queued again with ``attempt + 1`` (``worker_lost`` and ``requeued`` in the journal's events, as on the
      Pyro backend) and fails after ``max_attempts``. No other child or job is affected (this is why the
      backend does not build on ``concurrent.futures.ProcessPoolExecutor``, which breaks after one death);
    * ``job_timeout``: at the limit the child is killed, the job is recorded as failed with a ``TimeoutError``
      and a fresh process takes the slot's next job.

    Parameters
    ----------
    n_workers : int
        How many child processes (jobs at once).
    objective : callable
        ``objective(config, budget, **kwargs)``, as for :class:`~bandster.backends.ThreadBackend`.
    max_attempts : int
        How often a job whose process died is tried in total.
    start_method : str
        The ``multiprocessing`` start method: ``"forkserver"`` (default; children do not inherit this process's
        threads and locks), ``"spawn"`` or ``"fork"``.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.optimizers import HyperBand
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), run_id='processes_doc',
    ...                min_budget=1, max_budget=9, eta=3, seed=0, working_directory='processes_doc',
    ...                backend=ProcessBackend(2, lambda config, budget: {'loss': config['x'] / budget, 'info': {}}))
    >>> len(hb.run(n_iterations=1, progress=False).get_all_runs())
    13
    >>> hb.shutdown()
    """

    name = "processes"
    slot_prefix = "process"

    def __init__(self, n_workers: int, objective: Callable[..., Any], max_attempts: int = 3,
                 start_method: str = "forkserver") -> None:
        super().__init__(n_workers, objective, max_attempts)
        import cloudpickle

        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(f"start_method {start_method!r} is not available here; choose one of "
                             f"{multiprocessing.get_all_start_methods()}")
        try:
            self._payload = cloudpickle.dumps(self.objective)
        except Exception as exc:
            raise TypeError(f"the objective {self.objective.describe()} cannot be sent to worker processes "
                            f"({type(exc).__name__}: {exc}); objects it uses (open files, locks, sockets) must be "
                            "created inside it") from exc
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # the fork server imports the main module and bandster once; each worker process is then a fork of it
            # (a fresh process after a death or a timeout starts in milliseconds, not in an interpreter's start-up)
            self._context.set_forkserver_preload(["__main__", "bandster.backends.processes", "cloudpickle"])
        self.start_method = start_method
        self._children: list[_Child | None] = [None] * n_workers

    @property
    def pids(self) -> list[int]:
        """The process ids of the worker processes running now."""
        return [child.process.pid for child in list(self._children) if child is not None and child.process.pid]

    def worker_name(self, slot: int) -> str:
        child = self._children[slot]
        pid = child.process.pid if child is not None else "?"
        return f"process-{slot}.{pid}"

    # ------------------------------------------------------------------ the children
    def _spawn(self, slot: int) -> _Child:
        """Start the slot's process and wait until it has loaded the objective (or failed to)."""
        receiver, sender = self._context.Pipe(duplex=True)
        process = self._context.Process(target=child_main, args=(sender, self._payload), daemon=True,
                                        name=f"bandster-process-{slot}")
        process.start()
        sender.close()
        child = _Child(process, receiver)
        self._children[slot] = child
        since = time.monotonic()
        while not self.stopped:
            ready = multiprocessing.connection.wait([receiver, process.sentinel], STARTUP_LOG_INTERVAL)
            if receiver in ready:
                try:
                    hello = receiver.recv()
                except (EOFError, OSError):
                    process.join()
                    hello = {"error": f"the worker process died while starting (exit code {process.exitcode}); "
                                      "with the 'spawn' and 'forkserver' start methods a script must start the "
                                      "optimization under `if __name__ == '__main__':`"}
                child.error = hello.get("error")
                break
            if ready:
                process.join()
                child.error = f"the worker process died while starting (exit code {process.exitcode})"
                break
            logger.warning("worker process %s has not loaded the objective after %.0f s", process.pid,
                           time.monotonic() - since)
        if child.error is not None and not self.stopped:
            logger.error("worker process %s cannot run the objective: %s", process.pid, child.error)
        self.event("worker_joined", worker=self.worker_name(slot), host="localhost", workers=self._n_slots())
        return child

    def _n_slots(self) -> int:
        return len(self._children)

    def _end(self, slot: int, kill: bool) -> None:
        child, self._children[slot] = self._children[slot], None
        if child is None:
            return
        if kill:
            child.process.kill()
        else:
            try:
                child.connection.send(None)
            except (OSError, BrokenPipeError):
                pass
            child.process.join(5.0)
            if child.process.is_alive():
                child.process.kill()
        child.process.join()
        child.connection.close()

    def slot_started(self, slot: int) -> None:
        self._spawn(slot)

    def slot_stopped(self, slot: int) -> None:
        self._end(slot, kill=False)

    def interrupt(self) -> None:
        for child in list(self._children):
            if child is not None and child.process.is_alive():
                child.process.kill()  # a slot waiting for a running job wakes up; the job is abandoned

    def execute(self, slot: int, job: Job) -> dict[str, Any]:
        child = self._children[slot]
        if child is None or not child.process.is_alive():
            self._end(slot, kill=True)
            child = self._spawn(slot)
        if child.error is not None:
            error = child.error
            self._end(slot, kill=True)
            return {"id": list(job.id), "result": None, "exception": error, "duration": 0.0}
        try:
            child.connection.send(job_message(job))
        except (OSError, BrokenPipeError):
            self._replace(slot)
            raise Lost("died before it received the job") from None
        deadline = None if job.timeout is None else time.monotonic() + job.timeout
        job_id, attempt = job.id, job.attempt
        while True:
            ready = multiprocessing.connection.wait(
                [child.connection, child.process.sentinel],
                None if deadline is None else max(0.0, deadline - time.monotonic()))
            if child.connection not in ready:
                break
            try:
                message = child.connection.recv()
            except (EOFError, OSError):
                break
            if "reports" not in message:
                return message  # the outcome
            stop = self.receive_reports(job_id, attempt, message["reports"])
            try:
                child.connection.send(stop)
            except (OSError, BrokenPipeError):
                break
        if not ready:  # the deadline passed
            logger.warning("job %s on budget %s exceeded its job_timeout of %g s; killing worker process %s",
                           job.id, job.kwargs.get("budget"), job.timeout, child.process.pid)
            self.event("worker_retired", worker=job.worker_name, reason="job_timeout", config_id=list(job.id),
                       workers=self._n_slots())
            self._replace(slot)
            return {"id": list(job.id), "result": None, "exception": timeout_error(job.timeout),
                    "duration": job.timeout}
        child.process.join()
        code = child.process.exitcode
        self._replace(slot)
        reason = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
        raise Lost(f"(process {child.process.pid}) {reason}")

    def _replace(self, slot: int) -> None:
        """Kill the slot's process and start a fresh one (unless the backend is shutting down)."""
        self._end(slot, kill=True)
        if not self.stopped:
            self._spawn(slot)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "start_method": self.start_method}


def child_main(connection: Any, payload: bytes) -> None:
    """A worker process: load the objective, then answer each job message with its outcome until told to stop.

    Ctrl-C in the terminal reaches the whole process group: the children ignore SIGINT and leave it to the
    optimizer's process (which stops starting jobs and ends them).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import cloudpickle

        objective = cloudpickle.loads(payload)
    except BaseException:  # noqa: BLE001 - reported to the parent
        connection.send({"error": "the worker process could not load the objective:\n" + traceback.format_exc()})
        return
    connection.send({"ready": True})
    accepted = {protocol.ANY}
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        reporter = JobReporter(functools.partial(_send_reports, connection), message.get("decide"), REPORT_INTERVAL)
        try:
            outcome = protocol.run_compute(objective, message, accepted, reporter)
        except BaseException:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, HandBack: a failed run
            outcome = {"id": list(message["id"]), "result": None, "exception": traceback.format_exc(),
                       "duration": 0.0}
        connection.send(outcome)


def _send_reports(connection: Any, reports: list, wait: bool) -> bool:
    """A job's reports to the slot's thread in the parent; its answer (stop?) comes back on the same pipe."""
    connection.send({"reports": reports})
    return bool(connection.recv())
