"""bandster's own runtime as a backend: a Pyro5 dispatcher that workers (threads, processes, cluster nodes) pull
jobs from. The name server, the workers and the wire protocol are in :mod:`bandster.core` (``nameserver``,
``worker``, ``dispatcher``, ``protocol``, ``credentials``, ``security``); docs/architecture.md describes them."""

from __future__ import annotations

import logging
from typing import Any

from bandster.backends._base import Backend, BackendListener
from bandster.core import credentials
from bandster.core.dispatcher import Dispatcher
from bandster.core.job import Job
from bandster.core.nameserver import describe_runs, known_runs, validate_run_id

__all__ = ["PyroBackend"]


class PyroBackend(Backend):
    """Jobs run on bandster workers that join through a Pyro5 name server (HpBandSter's model).

    Workers pull: each asks the dispatcher for its next job and hands in its previous result in the same call.
    Liveness checks, re-queueing a dead worker's job (``max_attempts``), ``job_timeout`` and checkpoint hand-off
    work as in HpBandSter's runtime (see docs/fault_tolerance.md).

    Parameters
    ----------
    run_id : str
        Workers of this run_id serve it.
    nameserver, nameserver_port : str, int
        The name server (port None: 9090).
    host : str, optional
        Address the dispatcher binds to.
    ping_interval : float
        Seconds between liveness checks of workers.
    nameserver_secret : str, optional
        The name server's secret; found automatically for name servers started by this user.
    max_attempts : int
        How often a job whose worker died is tried in total.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.core.nameserver import NameServer
    >>> from bandster.core.worker import Worker
    >>> from bandster.optimizers import HyperBand
    >>> class W(Worker):
    ...     def compute(self, config, budget, **kwargs):
    ...         return {'loss': config['x'], 'info': {}}
    >>> ns = NameServer(run_id='pyro_doc'); host, port = ns.start()
    >>> W(run_id='pyro_doc', nameserver=host, nameserver_port=port).run(background=True)
    >>> backend = PyroBackend('pyro_doc', nameserver=host, nameserver_port=port)
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}), run_id='pyro_doc', min_budget=1,
    ...                max_budget=3, backend=backend, working_directory='pyro_doc')
    >>> len(hb.run(n_iterations=1, progress=False).get_all_runs())
    4
    >>> hb.shutdown(shutdown_workers=True); ns.shutdown()
    """

    name = "pyro"

    def __init__(
        self,
        run_id: str,
        nameserver: str = "127.0.0.1",
        nameserver_port: int | None = None,
        host: str | None = None,
        ping_interval: float = 5,
        nameserver_secret: str | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.run_id = validate_run_id(run_id)
        self.nameserver = nameserver
        self.nameserver_port = nameserver_port
        self.host = host
        self.ping_interval = ping_interval
        self.max_attempts = max_attempts
        self.secret = credentials.find_secret(nameserver, nameserver_port or 9090, nameserver_secret)
        self.dispatcher: Dispatcher | None = None
        self._listener: BackendListener | None = None

    def start(self, listener: BackendListener) -> None:
        if self.dispatcher is not None:
            if listener is not self._listener:
                raise RuntimeError("this PyroBackend already serves another runner; make one backend per optimizer")
            return
        self._listener = listener
        self.dispatcher = Dispatcher(
            listener.job_finished,
            run_id=self.run_id,
            ping_interval=self.ping_interval,
            nameserver=self.nameserver,
            nameserver_port=self.nameserver_port,
            host=self.host,
            logger=logging.getLogger("bandster.core.dispatcher"),
            queue_callback=listener.workers_changed,
            nameserver_secret=self.secret,
            max_attempts=self.max_attempts,
            event_callback=listener.backend_event,
            report_callback=listener.job_report,
        )
        self.dispatcher.start()

    def _require_started(self) -> Dispatcher:
        if self.dispatcher is None:
            raise RuntimeError("the PyroBackend is not started: the runner starts it (Runner.attach)")
        return self.dispatcher

    def submit(self, job: Job) -> None:
        self._require_started().submit_job(job.id, job_timeout=job.timeout, attempt=job.attempt,
                                           decision_steps=job.decision_steps, **job.kwargs)

    def cancel(self, job: Job) -> bool:
        """Stop a running job at its next report (False if no worker runs it)."""
        return self._require_started().cancel(job.id)

    def withdraw_queued(self) -> list[Job]:
        return self._require_started().withdraw_queued()

    @property
    def n_workers(self) -> int:
        return 0 if self.dispatcher is None else self.dispatcher.number_of_workers()

    @property
    def capacity(self) -> int:
        return 0 if self.dispatcher is None else self.dispatcher.capacity()

    def shutdown(self, shutdown_workers: bool = False) -> None:
        if self.dispatcher is not None:
            self.dispatcher.shutdown(shutdown_workers)

    def how_to_add_workers(self) -> str:
        """How to start workers, and the other runs the name server knows (a worker started with another
        run_id is the usual reason why none comes)."""
        text = super().how_to_add_workers()
        host, port = self.nameserver, self.nameserver_port or 9090
        try:
            others = {k: v for k, v in known_runs(host, port, self.secret, timeout=2.0).items() if k != self.run_id}
        except Exception as exc:  # noqa: BLE001 - only for the message
            return f"{text}; the name server {host}:{port} did not answer ({exc})"
        return f"{text}; workers or masters of other runs on the name server {host}:{port}: {describe_runs(others)}"

    def describe(self) -> dict[str, Any]:
        port = self.nameserver_port or 9090
        return {"name": self.name, "nameserver": f"{self.nameserver}:{port}",
                "how_to_join": f"e.g. bandster worker --nameserver {self.nameserver} --nameserver-port {port} "
                               f"--run-id {self.run_id} MODULE:CLASS, or Worker(run_id={self.run_id!r}, "
                               f"nameserver={self.nameserver!r}, nameserver_port={port}).run()"}
