"""A worker process's link to its dispatcher: outcomes go back and new jobs come in while the worker computes.

A worker in another process than the master's does not call the dispatcher between two jobs. A named thread
of the link does: whenever outcomes are finished it sends all of them in one ``exchange`` call, and the reply
brings the jobs the dispatcher hands over (it may hand a worker whose jobs are short a few jobs ahead, see
:class:`bandster.core.dispatcher.Dispatcher`). The worker's own thread only takes jobs from the link and
gives their outcomes back, so with jobs that return at once several outcomes share one round trip, and a
long job's outcome leaves the moment it is finished. The messages are described in
:mod:`bandster.core.protocol`.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import Pyro5.errors

from bandster.core import protocol
from bandster.core.security import make_proxy

__all__ = ["DispatcherLink", "MAX_DELAY", "ReportLink"]

#: Seconds a finished outcome may wait for others to share its ``exchange`` call (only while the worker still
#: holds jobs it has not started, i.e. while its jobs are short).
MAX_DELAY = 0.002


class DispatcherLink:
    """The connection of one worker process to a dispatcher in another process.

    Parameters
    ----------
    uri : str
        The dispatcher's Pyro URI.
    secret : str or None
        The name server's secret (the dispatcher's daemon checks it).
    worker_name : str
        The worker's name at the dispatcher.
    info : dict
        What the worker announces about itself (``uri``, ``host``, ``pid``).
    poll_wait : callable
        Seconds an ``exchange`` call of an idle worker may wait at the dispatcher for a job.
    logger : logging.Logger, optional

    Examples
    --------
    What a worker process's thread does with it (``Worker`` does this for you): take a job, give its outcome.

    >>> from bandster.core.dispatcher import Dispatcher
    >>> from bandster.core.nameserver import NameServer
    >>> ns = NameServer(run_id='link_doc'); host, port = ns.start()
    >>> finished = []
    >>> dispatcher = Dispatcher(finished.append, run_id='link_doc', nameserver=host, nameserver_port=port,
    ...                         nameserver_secret=ns.secret)
    >>> dispatcher.start()
    >>> queued = dispatcher.submit_job((0, 0, 0), config={'x': 0.5}, budget=1.0)
    >>> link = DispatcherLink(dispatcher.uri, ns.secret, 'doc-worker', {}, poll_wait=lambda: 0.1)
    >>> link.start()
    >>> command, job = link.take()
    >>> command, job['id'], job['kwargs']
    ('job', [0, 0, 0], {'config': {'x': 0.5}, 'budget': 1.0})
    >>> link.put(job, {'id': job['id'], 'result': {'loss': 0.25, 'info': None}, 'exception': None,
    ...                'duration': 0.001})
    >>> link.close(goodbye=True)
    >>> [(j.id, j.result['loss'], j.worker_name) for j in finished]
    [((0, 0, 0), 0.25, 'doc-worker')]
    >>> dispatcher.shutdown(); ns.shutdown()
    """

    def __init__(self, uri: str, secret: str | None, worker_name: str, info: dict,
                 poll_wait: Callable[[], float], logger: logging.Logger | None = None) -> None:
        self.uri = uri
        self.secret = secret
        self.worker_name = worker_name
        self.info = info
        self.poll_wait = poll_wait
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self._cond = threading.Condition()  # guards everything below
        self._inbox: collections.deque[dict] = collections.deque()  # jobs received, not started
        self._outbox: list[tuple[dict, float]] = []  # (outcome, time.monotonic() when its job ended)
        self._assigned = 0  # jobs received and not yet reported: held, running or in the outbox
        self._news: str | None = None  # WAIT for the worker's thread (an idle worker's long poll ended)
        self._end: str | None = None  # SHUTDOWN, DETACH or LOST: no more jobs
        self._closing = False
        self._goodbye = False
        self._thread: threading.Thread | None = None
        #: outcomes that could not be delivered because the connection broke
        self.undelivered: list[dict] = []

    # ------------------------------------------------------------------ the worker's side
    def start(self) -> None:
        """Start the link's thread (it announces the worker, then trades outcomes for jobs)."""
        self._thread = threading.Thread(target=self._run, name=f"bandster-link-{self.worker_name}", daemon=True)
        self._thread.start()

    def take(self) -> tuple[str, dict | None]:
        """Wait for the next job, ``(protocol.JOB, job)``, or news: ``(protocol.WAIT, None)`` when an idle
        worker's wait at the dispatcher ended without a job, or the end of the link, ``(protocol.SHUTDOWN |
        protocol.DETACH | protocol.LOST, None)`` (jobs still held are then not started)."""
        with self._cond:
            while not (self._end or self._inbox or self._news):
                self._cond.wait()
            if self._end is not None:
                return self._end, None
            if self._inbox:
                return protocol.JOB, self._inbox.popleft()
            news, self._news = self._news, None
            return news, None

    def put(self, job: dict, outcome: dict | None) -> None:
        """The outcome of ``job`` (None: handed back unfinished; the dispatcher then queues it again)."""
        with self._cond:
            # a job handed back stays assigned: the goodbye that follows reports it as neither finished nor
            # returned, and the dispatcher queues it again as a job whose worker stopped in it
            if outcome is not None:
                self._outbox.append((outcome, time.monotonic()))
                if len(self._outbox) == 1 or len(self._inbox) <= 1:  # the link's thread waits for no other change
                    self._cond.notify_all()

    def close(self, goodbye: bool) -> None:
        """End the link and join its thread. With ``goodbye`` the worker leaves the dispatcher: the outcomes
        not yet sent are delivered and the jobs held but not started are handed back."""
        with self._cond:
            self._closing = True
            self._goodbye = goodbye
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._cond:
            self.undelivered.extend(outcome for outcome, _ in self._outbox)
            self._outbox.clear()

    # ------------------------------------------------------------------ the link's thread
    def _run(self) -> None:
        proxy = make_proxy(self.uri, self.secret)
        try:
            proxy.announce(self.worker_name, self.info)
            while self._trade(proxy):
                pass
            with self._cond:
                self._cond.wait_for(lambda: self._closing)
                goodbye = self._goodbye and self._end != protocol.DETACH
                outcomes = self._take_outbox()
                returned = [job["id"] for job in self._inbox]
                self._inbox.clear()
            if goodbye:
                try:
                    proxy.goodbye(self.worker_name, protocol.pack(outcomes), returned)
                except Pyro5.errors.PyroError:
                    self.undelivered.extend(outcomes)
                    raise
        except Exception as exc:  # noqa: BLE001 - whatever ends the link, the worker's thread must hear of it
            if not isinstance(exc, Pyro5.errors.PyroError):
                self.logger.exception("worker %s: the link to its dispatcher failed", self.worker_name)
            with self._cond:
                lost = [outcome for outcome, _ in self._outbox]
                self._outbox.clear()
                self._inbox.clear()
                self.undelivered.extend(lost)
                if self._end is None:
                    self._end = protocol.LOST
                self._cond.notify_all()
            if not self._closing:
                self.logger.warning("worker %s lost its dispatcher (%s)", self.worker_name, exc)
        finally:
            proxy._pyroRelease()

    def _trade(self, proxy: Any) -> bool:
        """One ``exchange`` call (when outcomes are due, or the worker has nothing to do); False when the link
        ends."""
        with self._cond:
            while not self._closing and self._assigned > 0:
                wait = self._until_due()
                if wait is not None and wait <= 0:
                    break
                self._cond.wait(wait)
            if self._closing:
                return False
            outcomes = self._take_outbox()
            idle = self._assigned == 0
        reply = proxy.exchange(self.worker_name, protocol.pack(outcomes), self.poll_wait() if idle else 0.0)
        command = reply.get("command")
        if command == protocol.ANNOUNCE:
            proxy.announce(self.worker_name, self.info)
            return True
        with self._cond:
            if command == protocol.JOBS:
                jobs = protocol.unpack(reply["jobs"])
                self._inbox.extend(jobs)
                self._assigned += len(jobs)
            elif command == protocol.WAIT:
                if idle:
                    self._news = protocol.WAIT
            else:  # SHUTDOWN or DETACH
                self._end = command
            self._cond.notify_all()
            return self._end is None

    def _until_due(self) -> float | None:
        """Seconds until the outcomes must be sent (<= 0: now; None: none to send). They are due when at most
        one job is left to compute (its successors should arrive before it ends) or when the oldest has waited
        :data:`MAX_DELAY`: while held jobs are computed, outcomes gather and share one call."""
        if not self._outbox:
            return None
        if len(self._inbox) <= 1:
            return 0.0
        return self._outbox[0][1] + MAX_DELAY - time.monotonic()

    def _take_outbox(self) -> list[dict]:
        """The outcomes to send now, each with its ``finished_ago`` (called with the lock held)."""
        now = time.monotonic()
        outcomes = [dict(outcome, finished_ago=now - ended) for outcome, ended in self._outbox]
        self._assigned -= len(self._outbox)
        self._outbox.clear()
        return outcomes


class ReportLink:
    """How the computing thread of a worker process sends its job's reports to the dispatcher: a Pyro call of its
    own (the link's thread may be waiting in ``exchange``), answered with whether the job must stop.

    The proxy belongs to the thread and process that use it: a job run in a forked child (``job_timeout``)
    opens its own connection. Serpent only: the reports travel as :func:`bandster.core.protocol.pack`'s JSON text.
    """

    def __init__(self, uri: str, secret: str | None, worker_name: str) -> None:
        self.uri = uri
        self.secret = secret
        self.worker_name = worker_name
        self._proxy: Any = None
        self._owner: tuple[int, int] | None = None

    def send(self, job_id: Any, attempt: int, reports: list, wait: bool) -> bool:
        """Deliver ``reports`` of attempt ``attempt`` of job ``job_id``; True if the job must stop. Every call
        waits for its answer (Pyro's one-way calls may overtake each other: reports must arrive in order)."""
        owner = (os.getpid(), threading.get_ident())
        if self._owner != owner:
            self._proxy = make_proxy(self.uri, self.secret)  # a forked child never touches its parent's socket
            self._owner = owner
        try:
            return bool(self._proxy.report(self.worker_name, job_id, attempt, protocol.pack(reports)))
        except Pyro5.errors.PyroError as exc:
            # the master is gone or unreachable: the job goes on (its outcome meets the same fate); a later report
            # connects again
            logging.getLogger(__name__).warning(
                "worker %s: %d report(s) of job %s could not reach the dispatcher (%s); the job continues",
                self.worker_name, len(reports), job_id, exc)
            self.close()
            return False

    def close(self) -> None:
        """Close the connection (of the process that opened it)."""
        proxy, self._proxy = self._proxy, None
        if proxy is not None and self._owner is not None and self._owner[0] == os.getpid():
            proxy._pyroRelease()
        self._owner = None
