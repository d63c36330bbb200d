"""Thread workers in this process: no name server, no sockets, no pickling (:class:`ThreadBackend`)."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from bandster.backends._pool import LocalBackend, job_message
from bandster.core import protocol
from bandster.core.job import Job
from bandster.core.reporting import JobReporter

logger = logging.getLogger(__name__)

__all__ = ["ThreadBackend"]


class ThreadBackend(LocalBackend):
    """Runs ``objective`` in ``n_workers`` named threads of this process.

    The computations run directly in the backend's threads (``bandster-thread-0``, ...), against the
    :class:`~bandster.backends.Backend` interface: no name server, no Pyro daemon, nothing serialized. Suited to
    objectives that release the GIL (numpy, PyTorch, subprocesses) or wait on I/O; pure-Python objectives that
    need several cores belong on :class:`~bandster.backends.ProcessBackend`.

    ``objective(config, budget, **kwargs)`` receives ``config_id``, ``working_directory``, ``config_directory``
    and ``previous_budget`` when its signature names them (or takes ``**kwargs``); ``config_directory`` is
    created first when named. What it returns is checked as a worker's ``compute`` is: a dict
    ``{'loss': float, 'info': ...}``; None, a string, a dict without ``loss`` or an exception make a failed run
    with the same error texts as on the Pyro backend.

    Reports (``Worker.report``, or the ``report``/``should_stop`` arguments an objective names) go to the runner by
    a direct call, and its answer comes back at once; a stopped job's result is marked ``"stopped_at": step``.

    ``job_timeout``: a thread cannot be killed. A job with a limit runs in a thread of its own; at the limit it
    is recorded as failed (``TimeoutError: ...``) and the slot takes its next job at once, while the overrunning
    computation is left to finish in the background (its result is discarded; the journal's events record a
    ``worker_retired``). Use :class:`~bandster.backends.ProcessBackend` to have it killed.

    Parameters
    ----------
    n_workers : int
        How many jobs run at once.
    objective : callable
        ``objective(config, budget, **kwargs)``; a bound ``compute`` of a :class:`~bandster.core.worker.Worker`
        subclass works too.
    max_attempts : int
        Kept for symmetry with the other backends (a thread does not die on its own).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.optimizers import HyperBand
    >>> def objective(config, budget):
    ...     return {'loss': (config['x'] - 0.3) ** 2 + 1 / budget, 'info': {}}
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), run_id='threads_doc',
    ...                min_budget=1, max_budget=9, eta=3, seed=0, working_directory='threads_doc',
    ...                backend=ThreadBackend(2, objective))
    >>> len(hb.run(n_iterations=1, progress=False).get_all_runs())
    13
    >>> hb.shutdown()
    """

    name = "threads"
    slot_prefix = "thread"

    def __init__(self, n_workers: int, objective: Callable[..., Any], max_attempts: int = 3) -> None:
        super().__init__(n_workers, objective, max_attempts)

    def execute(self, slot: int, job: Job) -> dict[str, Any]:
        message = job_message(job)
        job_id, attempt = job.id, job.attempt

        def send(reports: list, wait: bool) -> bool:
            return self.receive_reports(job_id, attempt, reports)

        # a direct call for every report (no batching: the runner's answer costs no more than a buffer would)
        reporter = JobReporter(send, None)
        if job.timeout is None:
            return _run(self.objective, message, reporter)
        box: list[dict] = []
        done = threading.Event()

        def target() -> None:
            box.append(_run(self.objective, message, reporter))
            done.set()

        name = f"bandster-thread-{slot}-job-{'-'.join(map(str, job.id))}"
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        if done.wait(job.timeout):
            thread.join()
            return box[0]
        logger.warning("job %s on budget %s exceeded its job_timeout of %g s; its thread %s is left to finish",
                       job.id, job.kwargs.get("budget"), job.timeout, name)
        self.event("worker_retired", worker=job.worker_name, reason="job_timeout", config_id=list(job.id),
                   workers=self.n_workers)
        return {"id": list(job.id), "result": None, "duration": job.timeout,
                "exception": f"TimeoutError: the job exceeded its job_timeout of {job.timeout:g} s; its thread "
                             "cannot be killed and was left to finish (its result is discarded)"}


def _run(objective: Callable[..., Any], message: dict[str, Any], reporter: JobReporter) -> dict[str, Any]:
    """:func:`bandster.core.protocol.run_compute`, with ``SystemExit``/``KeyboardInterrupt`` raised by the
    objective recorded as a failure (they must not end a slot's thread)."""
    try:
        return protocol.run_compute(objective, message, {protocol.ANY}, reporter)
    except BaseException:  # noqa: BLE001 - the objective's, recorded
        return {"id": list(message["id"]), "result": None, "exception": traceback.format_exc(), "duration": 0.0}
