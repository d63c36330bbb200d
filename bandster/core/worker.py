"""The Worker base class: subclass it and implement ``compute``."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from typing import Any

import Pyro5.api
import Pyro5.errors

from bandster.core import credentials, protocol
from bandster.core.exchange import DispatcherLink, ReportLink
from bandster.core.names import dispatcher_name, local_dispatcher, worker_prefix
from bandster.core.nameserver import DEFAULT_PORT, describe_runs, known_runs, local_address_towards, validate_run_id
from bandster.core.reporting import REPORT_INTERVAL, JobReporter, current_reporter
from bandster.core.security import AuthDaemon, nameserver_proxy
from bandster.core.waiting import WaitWarnings

_counter = itertools.count()


class HandBack(Exception):
    """Raise from ``compute`` to give the job back unfinished: the worker leaves and the job is queued again
    (for example when the worker's node is being shut down half-way through a job)."""

#: Seconds a worker's ``next_job`` call may wait at the dispatcher before it asks again.
LONG_POLL = 2.0

#: Seconds between two attempts to reach a name server that is not up yet.
NAMESERVER_RETRY = 0.5


class Worker:
    """Evaluates configurations for an optimizer. Subclass it and implement :meth:`compute`.

    Parameters
    ----------
    run_id : str
        The run to work for; only the dispatcher of this run hands it jobs.
    nameserver : str, optional
        Address of the name server (default ``'127.0.0.1'``).
    nameserver_port : int, optional
        Its port (default 9090, Pyro's, as in HpBandSter).
    logger : logging.Logger, optional
        Unlike HpBandSter, the root logger is never configured here.
    host : str, optional
        Address this worker's daemon binds to; default: the local address on the route to the name server.
    id : object, optional
        Appended to the worker's name, ``bandster.run_<run_id>.worker.<host>.<pid>.<id>``; defaults to a
        counter unique in this process.
    timeout : float, optional
        Shut down after this many seconds without a job (None: never): counted from the last job, from
        joining a dispatcher, or from start-up while no dispatcher exists.
    nameserver_secret : str, optional
        The name server's secret; found automatically for name servers of this machine's user and read
        from the credentials file by :meth:`load_nameserver_credentials`.
    nameserver_wait : float
        How long :meth:`run` waits for a name server that is not up yet (a worker may start before its
        master), logging a warning every few seconds; then it gives up (see :meth:`run`). Default 60 s.

    Examples
    --------
    >>> class MyWorker(Worker):
    ...     def compute(self, config, budget, **kwargs):
    ...         return {'loss': (config['x'] - 0.5) ** 2 / budget, 'info': {'budget': budget}}
    """

    def __init__(
        self,
        run_id: str,
        nameserver: str | None = None,
        nameserver_port: int | None = None,
        logger: logging.Logger | None = None,
        host: str | None = None,
        id: Any = None,
        timeout: float | None = None,
        nameserver_secret: str | None = None,
        nameserver_wait: float = 60.0,
    ) -> None:
        self.run_id = validate_run_id(run_id)
        self.nameserver_wait = float(nameserver_wait)
        self._given_secret = nameserver_secret  # found again on every attempt when None (a new name server)
        #: why the worker's background thread ended early (the name server never came), else None
        self.error: str | None = None
        self.nameserver = nameserver
        self.nameserver_port = nameserver_port
        self.nameserver_secret = nameserver_secret
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.host = host
        self.id = id
        self.timeout = timeout
        suffix = id if id is not None else f"w{next(_counter)}"
        self.worker_id = f"{worker_prefix(self.run_id)}{socket.gethostname()}.{os.getpid()}.{suffix}"
        self.busy = False
        self.last_job_finished: float | None = None
        self._idle_since = time.time()
        self._cond = threading.Condition()
        self._stop = False
        self._dispatcher_uri: str | None = None
        self._daemon: AuthDaemon | None = None
        self._daemon_thread: threading.Thread | None = None
        self._thread: threading.Thread | None = None
        self._running = False
        self._accepted: set[str] | None | bool = False  # compute's keyword arguments, inspected once
        self._in_own_process = True
        self._credentials: tuple[str, float, int, float] | None = None
        self._send_reports: Any = None  # send(job_id, attempt, reports, wait) -> stop?, while serving
        self._report_interval = 0.0
        self._job_reporter: JobReporter | None = None  # the running job's, for reports from threads of compute's

    # ------------------------------------------------------------------ user API
    def compute(self, config_id: tuple, config: dict, budget: float, working_directory: str, **kwargs: Any) -> dict:
        """Evaluate ``config`` on ``budget``; return ``{'loss': float, 'info': <JSON-able>}`` (loss is minimised).

        Everything is passed as keyword arguments: ``config_id``, ``config``, ``budget`` and
        ``working_directory``, so ``compute(self, config, budget, **kwargs)`` is the usual signature.
        If the signature names them (or takes ``**kwargs``), ``compute`` also gets ``config_directory``, the
        configuration's own directory (the same on every budget and every worker: keep checkpoints there;
        created before the call when the signature names it),
        and ``previous_budget``, the budget it last finished on (None the first time), so a promoted
        configuration can resume training instead of starting over.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.compute is not implemented: subclass Worker and define "
            "compute(self, config, budget, **kwargs) returning {'loss': float, 'info': ...}"
        )

    def report(self, step: float, loss: float, info: Any = None) -> bool:
        """Record one point of the running job's learning curve; True once the job should stop.

        Call it from ``compute`` (e.g. after every epoch) with the ``step`` reached (budget units, > 0, not
        decreasing) and the ``loss`` there; ``info`` is an optional dict of builtins. When the scheduler stops the
        job (a stopping scheduler, or ``Backend.cancel``), this returns True (on the very report at which the
        scheduler decided): ``compute`` should then return its latest result as usual; the run is recorded as
        stopped at that step. Outside a job (``compute`` called directly) reports are checked and dropped. A
        compute that never reports works exactly as before.

        Examples
        --------
        >>> class Epochs(Worker):
        ...     def compute(self, config, budget, **kwargs):
        ...         for epoch in range(1, int(budget) + 1):
        ...             loss = config['x'] / epoch
        ...             if self.report(step=epoch, loss=loss):
        ...                 break
        ...         return {'loss': loss, 'info': {'epochs': epoch}}
        >>> Epochs(run_id='report_doc').compute(config={'x': 1.0}, budget=4)
        {'loss': 0.25, 'info': {'epochs': 4}}
        """
        return (self._job_reporter or current_reporter()).report(step, loss, info)

    def should_stop(self) -> bool:
        """True once the running job should stop (asked without reporting; see :meth:`report`)."""
        return (self._job_reporter or current_reporter()).should_stop()

    def load_nameserver_credentials(self, working_directory: str, num_tries: int = 60, interval: float = 1) -> None:
        """Read the name server's address and secret from the shared directory's credentials file.

        Waits up to ``num_tries * interval`` seconds for the master to write it; raises RuntimeError
        naming the file otherwise.
        """
        record = credentials.wait_for_credentials(working_directory, self.run_id, num_tries, interval)
        self.nameserver = record["host"]
        self.nameserver_port = int(record["port"])
        self.nameserver_secret = self._given_secret = record["secret"]
        # remembered so that the worker can follow a new master (and its new name server) after a crash
        self._credentials = (working_directory, float(record.get("started", 0.0)), num_tries, interval)

    def run(self, background: bool = False) -> None:
        """Serve jobs until shut down; in a named background thread (:attr:`thread`) if ``background``.

        A name server that is not up yet is waited for, up to ``nameserver_wait`` seconds (a warning every
        few seconds says what is missing), so workers and master may be started in any order. If it never
        answers, ``run(background=False)`` raises RuntimeError; ``run(background=True)`` logs the error,
        sets :attr:`error` and ends its thread (as HpBandSter did).
        """
        self._running = True
        if background:
            self._thread = threading.Thread(
                target=self._background_main, name=f"bandster-worker-{self.worker_id}", daemon=True
            )
            self._thread.start()
        else:
            self._thread = threading.current_thread()
            try:
                started = self._start_daemon()
            except BaseException:
                self._running = False
                raise
            if started:
                self._main_loop()
            self._running = False

    @property
    def thread(self) -> threading.Thread | None:
        """The thread that serves jobs (HpBandSter's ``Worker.thread``, e.g. to ``join`` it); None before
        :meth:`run`."""
        return self._thread

    def shutdown(self) -> None:
        """Stop after the current job (if any); joins the worker's threads unless called from one of them."""
        self.request_stop()
        self.wait()

    def request_stop(self) -> None:
        """Ask the worker to stop after its current job (delivered first) and return at once.

        Safe to call from a signal handler or from ``compute`` itself.
        """
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        local = self._local_dispatcher()
        if local is not None:
            local.wake(self.worker_id)

    @property
    def stopping(self) -> bool:
        """True once the worker was asked to stop."""
        return self._stop

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the worker's loop has ended (True) or ``timeout`` s passed (False)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread() and thread.is_alive():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def is_running(self) -> bool:
        """True while the worker serves jobs (used for liveness of workers in the master's process)."""
        return self._running

    # ------------------------------------------------------------------ internals
    @property
    def _ns_address(self) -> tuple[str, int]:
        return self.nameserver or "127.0.0.1", int(self.nameserver_port or DEFAULT_PORT)

    def _background_main(self) -> None:
        """The background thread: reach the name server (or log why not and end), then serve."""
        try:
            started = self._start_daemon()
        except RuntimeError as exc:
            self.error = str(exc)
            self.logger.error("%s", exc)
            self._running = False
            return
        if started:
            self._main_loop()
        self._running = False

    def _reach_nameserver(self) -> str | None:
        """Wait until the name server answers (up to ``nameserver_wait`` s); return its secret, or None if the
        worker was asked to stop meanwhile. Raises RuntimeError naming the address when it never answers."""
        host, port = self._ns_address
        deadline = time.monotonic() + self.nameserver_wait
        clock = WaitWarnings()
        while True:
            # looked up again each time: a name server started meanwhile writes its secret when it starts
            secret = credentials.find_secret(host, port, self._given_secret)
            try:
                with nameserver_proxy(host, port, secret, timeout=10) as ns:
                    ns.ping()
                self.nameserver_secret = secret
                return secret
            except Pyro5.errors.PyroError as exc:
                error = exc
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"Worker {self.worker_id} cannot reach the name server at {host}:{port} ({error}) after "
                    f"waiting {self.nameserver_wait:g} s (nameserver_wait). Start the master (or `bandster "
                    "nameserver`) for this address, pass nameserver=/nameserver_port=, or call "
                    "load_nameserver_credentials()."
                ) from error
            if clock.due():
                self.logger.warning(
                    "worker %s has waited %.0f s for the name server at %s:%s (%s); it waits up to %g s "
                    "(nameserver_wait). Start the master of run %r (or `bandster nameserver`) on that address.",
                    self.worker_id, clock.waited, host, port, error, self.nameserver_wait, self.run_id)
            with self._cond:
                if self._cond.wait_for(lambda: self._stop,
                                       min(NAMESERVER_RETRY, max(0.0, deadline - time.monotonic()))):
                    return None

    def _start_daemon(self) -> bool:
        """Reach the name server and register this worker; False if asked to stop while waiting for it."""
        host, port = self._ns_address
        secret = self._reach_nameserver()
        if secret is None and self._stop:
            return False
        bind = self.host or local_address_towards(host)
        self._daemon = AuthDaemon(host=bind, port=0, secret=secret)
        self._uri = str(self._daemon.register(WorkerService(self), objectId=self.worker_id))
        self._daemon_thread = threading.Thread(
            target=self._daemon.requestLoop, name=f"bandster-worker-pyro-{self.worker_id}", daemon=True
        )
        self._daemon_thread.start()
        with nameserver_proxy(host, port, secret) as ns:
            ns.register(self.worker_id, self._uri)
        self._running = True
        self.logger.info("worker %s registered at %s", self.worker_id, self._uri)
        return True

    def _main_loop(self) -> None:
        try:
            while not self._stop:
                uri = self._find_dispatcher()
                if uri is None:
                    break
                self._serve(uri)
        except Exception:
            self.logger.exception("worker %s stopped by an unexpected error", self.worker_id)
        finally:
            self._running = False
            self._stop_daemon()

    def _find_dispatcher(self) -> str | None:
        """Return the dispatcher's URI, waiting for a ``hello`` if it is not there yet (None: stop)."""
        while True:
            host, port = self._ns_address
            try:
                with nameserver_proxy(host, port, self.nameserver_secret) as ns:
                    found = ns.list(prefix=dispatcher_name(self.run_id))
                break
            except Pyro5.errors.PyroError as exc:
                self.logger.warning("worker %s cannot reach the name server: %s", self.worker_id, exc)
                if self._credentials is None:
                    found = {}
                    break
                if not self._follow_new_nameserver():
                    return None
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        clock = WaitWarnings()
        while True:
            with self._cond:
                if found and self._dispatcher_uri is None:
                    self._dispatcher_uri = next(iter(found.values()))
                    found = {}
                while self._dispatcher_uri is None and not self._stop:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        self.logger.info("worker %s idle for %s s: shutting down", self.worker_id, self.timeout)
                        return None
                    wait = clock.until_next() if remaining is None else min(remaining, clock.until_next())
                    self._cond.wait(wait)
                    if self._dispatcher_uri is None and not self._stop and clock.due():
                        break
                else:
                    if self._stop:
                        return None
                    uri, self._dispatcher_uri = self._dispatcher_uri, None
                    return uri
            self._warn_no_master(clock.waited)  # outside the lock: it asks the name server

    def _warn_no_master(self, waited: float) -> None:
        """A warning for a worker whose run has no master (yet), with the runs the name server does know."""
        host, port = self._ns_address
        try:
            runs = describe_runs(known_runs(host, port, self.nameserver_secret))
        except Pyro5.errors.PyroError as exc:
            runs = f"unknown (the name server did not answer: {exc})"
        self.logger.warning(
            "worker %s has waited %.0f s for a master of run %r on the name server %s:%s. The name server knows: "
            "%s. Start the master with run_id=%r on this name server, or start this worker with the master's "
            "run_id.", self.worker_id, waited, self.run_id, host, port, runs, self.run_id)

    def _follow_new_nameserver(self) -> bool:
        """The name server is gone (its master crashed): wait for a newer credentials file and re-register."""
        directory, started, num_tries, interval = self._credentials
        self.logger.info("worker %s waits for a new name server in %s", self.worker_id, directory)
        try:
            record = credentials.wait_for_credentials(directory, self.run_id, num_tries, interval,
                                                      newer_than=started + 1e-6)
        except RuntimeError as exc:
            self.logger.error("worker %s gives up: %s", self.worker_id, exc)
            return False
        self._credentials = (directory, float(record.get("started", 0.0)), num_tries, interval)
        self.nameserver, self.nameserver_port = record["host"], int(record["port"])
        self.nameserver_secret = self._given_secret = record["secret"]
        self._stop_daemon()
        try:
            return self._start_daemon()
        except RuntimeError as exc:
            self.logger.error("worker %s cannot rejoin: %s", self.worker_id, exc)
            return False

    def _local_dispatcher(self) -> Any:
        uri = getattr(self, "_serving_uri", None)
        return local_dispatcher(uri) if uri else None

    def _serve(self, uri: str) -> None:
        """Take jobs from the dispatcher at ``uri`` until it goes away or tells us to stop."""
        self._serving_uri = uri
        local = local_dispatcher(uri)
        # a worker in the master's process cannot be protected by a child process (the dispatcher retires it
        # when a job overruns); a worker in a process of its own runs timed jobs in a child it can kill
        self._in_own_process = local is None
        info = {"uri": self._uri, "host": socket.gethostname(), "pid": os.getpid()}
        if local is None:
            try:
                self._serve_remote(uri, info)
            finally:
                self._serving_uri = None
            return
        dispatcher = local
        outcome: dict | None = None

        def send(job_id: Any, attempt: int, reports: list, wait: bool) -> bool:
            return local.report(self.worker_id, job_id, attempt, reports)

        self._send_reports, self._report_interval = send, 0.0  # a direct call for every report

        def announce() -> None:
            local.announce(self.worker_id, info, local_worker=self)

        try:
            announce()
            self._idle_since = time.time()
            self.logger.info("worker %s serves dispatcher %s", self.worker_id, uri)
            while not self._stop:
                reply = dispatcher.next_job(self.worker_id, outcome, self._poll_wait())
                outcome = None
                command = reply.get("command")
                if command == protocol.JOB:
                    outcome = self._evaluate(reply["job"])
                elif command == protocol.WAIT and self._idle_too_long():
                    self.logger.info("worker %s idle for %s s: shutting down", self.worker_id, self.timeout)
                    self._stop = True
                elif command == protocol.ANNOUNCE:
                    announce()
                elif command == protocol.SHUTDOWN:
                    self.logger.info("worker %s told to shut down", self.worker_id)
                    self._stop = True
                elif command == protocol.DETACH:
                    return
            if not self._stop:
                return
            dispatcher.goodbye(self.worker_id, outcome)
        finally:
            self._serving_uri = None

    def _serve_remote(self, uri: str, info: dict) -> None:
        """Serve a dispatcher in another process through a :class:`~bandster.core.exchange.DispatcherLink`: its
        thread trades outcomes for jobs (possibly a few ahead) while this thread computes them in order."""
        link = DispatcherLink(uri, self.nameserver_secret, self.worker_id, info, self._poll_wait, self.logger)
        reports = ReportLink(uri, self.nameserver_secret, self.worker_id)
        self._send_reports, self._report_interval = reports.send, REPORT_INTERVAL
        link.start()
        self._idle_since = time.time()
        self.logger.info("worker %s serves dispatcher %s", self.worker_id, uri)
        command = None
        try:
            while not self._stop:
                command, job = link.take()
                if command == protocol.JOB:
                    link.put(job, self._evaluate(job))
                elif command == protocol.WAIT and self._idle_too_long():
                    self.logger.info("worker %s idle for %s s: shutting down", self.worker_id, self.timeout)
                    self._stop = True
                elif command == protocol.SHUTDOWN:
                    self.logger.info("worker %s told to shut down", self.worker_id)
                    self._stop = True
                elif command in (protocol.DETACH, protocol.LOST):
                    break
        finally:
            link.close(goodbye=self._stop)
            reports.close()
        if command == protocol.LOST:
            self.logger.warning("worker %s waits for the next dispatcher", self.worker_id)
        for outcome in link.undelivered:
            self.logger.warning("the result of job %s could not be delivered", outcome["id"])

    def _poll_wait(self) -> float:
        """How long a ``next_job`` call may wait at the dispatcher: the long poll, or less if the idle timeout
        falls due sooner."""
        if self.timeout is None:
            return LONG_POLL
        return max(0.0, min(LONG_POLL, self._idle_since + self.timeout - time.time()))

    def _idle_too_long(self) -> bool:
        """``Worker(timeout=)``: no job for longer than ``timeout`` since the last one, or since joining."""
        return self.timeout is not None and time.time() - self._idle_since > self.timeout

    def _evaluate(self, job: dict) -> dict | None:
        """Run one job; None when ``compute`` raised :class:`HandBack` (the worker then leaves, and the
        dispatcher queues the job again)."""
        with self._cond:
            self.busy = True
        try:
            self.logger.debug("worker %s computes %s", self.worker_id, job["id"])
            if self._accepted is False:
                self._accepted = protocol.accepted_arguments(self.compute)
            timeout = job.get("timeout")
            reporter = self._job_reporter = self._reporter(job)
            if timeout is not None and self._in_own_process:
                return protocol.run_compute_in_child(self.compute, job, self._accepted, float(timeout), reporter)
            return protocol.run_compute(self.compute, job, self._accepted, reporter)
        except HandBack as exc:
            self.logger.warning("worker %s stops in job %s, handing it back to the master: %s", self.worker_id,
                                job["id"], exc)
            self.request_stop()
            return None
        finally:
            self._job_reporter = None
            with self._cond:
                self.busy = False
                self.last_job_finished = self._idle_since = time.time()

    def _reporter(self, job: dict) -> JobReporter | None:
        """Where ``job``'s reports go: the dispatcher this worker serves (None when it serves none)."""
        send = self._send_reports
        if send is None:
            return None
        job_id, attempt = job["id"], int(job.get("attempt") or 1)
        return JobReporter(lambda reports, wait: send(job_id, attempt, reports, wait), job.get("decide"),
                           self._report_interval)

    def _stop_daemon(self) -> None:
        daemon, self._daemon = self._daemon, None
        if daemon is None:
            return
        host, port = self._ns_address
        try:
            with nameserver_proxy(host, port, self.nameserver_secret, timeout=5) as ns:
                ns.remove(self.worker_id)
        except Pyro5.errors.PyroError:
            pass
        daemon.shutdown_completely(self._daemon_thread)
        self.logger.info("worker %s shut down", self.worker_id)

    def _hello(self, dispatcher_uri: str) -> None:
        with self._cond:
            self._dispatcher_uri = dispatcher_uri
            self._cond.notify_all()


@Pyro5.api.expose
class WorkerService:
    """What a worker offers over the network: liveness, a wake-up call, shutdown."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def ping(self) -> bool:
        return True

    def is_busy(self) -> bool:
        return self._worker.busy

    @Pyro5.api.oneway
    def hello(self, dispatcher_uri: str) -> None:
        self._worker._hello(dispatcher_uri)

    @Pyro5.api.oneway
    def shutdown(self) -> None:
        with self._worker._cond:
            self._worker._stop = True
            self._worker._cond.notify_all()
