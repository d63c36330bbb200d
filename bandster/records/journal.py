"""The run journal's writer: the always-on, append-only record of a run on disk.

:class:`Journal` appends configurations, results, events and intermediate reports to a journal directory, writes
its manifest and the final pickle atomically, and holds the directory's lock while it is open, so two masters
never write one journal. The files, their names and their readers are described in :mod:`bandster.records.format`.

Every line is strict JSON (``allow_nan=False``): non-finite floats are written as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``. :func:`bandster.records.result.logged_results_to_HBS_result` reads them
back (and also reads the bare ``NaN``/``Infinity`` tokens that HpBandSter wrote).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import pickle
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from bandster.core._convert import is_finite_loss, to_builtin
from bandster.records.format import (
    CONFIGS_FILENAME,
    EVENTS_FILENAME,
    LOCK_FILENAME,
    MANIFEST_FILENAME,
    NONFINITE_INFO,
    PICKLE_FILENAME,
    REPORTS_FILENAME,
    RESULTS_FILENAME,
    as_id,
    consumed_budget,
    id_to_json,
    nonfinite_paths,
    replace_nonfinite,
    stopped_step,
)

logger = logging.getLogger(__name__)

__all__ = ["Journal", "json_result_logger", "encode_line", "WRITER_THREAD_NAME"]

WRITER_THREAD_NAME = "bandster-journal-writer"

_CONFIGS, _RESULTS, _EVENTS, _REPORTS = 0, 1, 2, 3
#: one shared strict encoder (``json.dumps`` with any keyword builds a new encoder per call)
_ENCODER = json.JSONEncoder(allow_nan=False)


# --------------------------------------------------------------------------------------------------------
# encoding


def encode_line(obj: Any) -> str:
    """One strict JSON line (without the newline) for ``obj``.

    The fast path is a single ``json.dumps(allow_nan=False)``. Only if that fails are
    numpy and other non-builtin values converted with ``to_builtin`` and
    non-finite floats replaced by strings.

    Parameters
    ----------
    obj : object
        The value to encode.

    Returns
    -------
    str
        ASCII-only JSON text.
    """
    try:
        return _ENCODER.encode(obj)
    except (ValueError, TypeError):  # a non-finite float or a non-builtin value somewhere
        pass
    return _ENCODER.encode(replace_nonfinite(to_builtin(obj, path="journal value")))


def _encode_with_info(entry: Any, info: Any, extras: dict) -> str:
    """``entry`` (a result or report line holding ``info``) as one strict JSON line.

    The fast path is one strict encode; only when it fails are the places of the non-finite floats in ``info``
    listed in ``extras[NONFINITE_INFO]`` (written as strings, the readers turn exactly these back into floats)
    and everything converted by :func:`encode_line`, which raises when a value has no JSON form.
    """
    try:
        return _ENCODER.encode(entry)  # the common case: builtins only, all finite
    except (ValueError, TypeError):
        pass
    paths = nonfinite_paths(info)
    if paths:
        extras[NONFINITE_INFO] = paths
    return encode_line(entry)


def _repr_values(mapping: Any) -> dict:
    """The last resort for an unencodable mapping: its values as their ``repr``."""
    try:
        return {str(k): repr(v) for k, v in dict(mapping).items()}
    except Exception:
        return {"repr": repr(mapping)}


# --------------------------------------------------------------------------------------------------------
# file helpers


def _fsync_directory(directory: str) -> None:
    """fsync a directory so that new, renamed or removed entries in it are durable (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, data: bytes | Callable[[Any], None]) -> None:
    """Replace ``path`` by ``data`` atomically: write a temporary file, fsync it, ``os.replace`` it.

    ``data`` is the bytes, or a function that writes them to the open (binary) file.
    """
    directory = os.path.dirname(path)
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _acquire_lock(directory: str) -> int:
    """Take the journal's exclusive lock; return the lock file's descriptor."""
    path = os.path.join(directory, LOCK_FILENAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        holder = ""
        try:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip().replace("\n", " on ")
        except OSError:
            pass
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise RuntimeError(
                f"the journal in {directory} is already open for writing"
                + (f" (lock held by pid {holder})" if holder else "")
                + ": two masters cannot write one journal. Close the other Journal (journal.close()) or stop "
                "the process holding it, or write this run's journal to a new directory."
            ) from None
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{socket.gethostname()}\n".encode(), 0)
    except OSError:  # the lock itself is what matters
        pass
    return fd


def _release_lock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------------------
# the writer


class _Writer:
    """The writer thread and the state it shares with callers (kept apart from :class:`Journal` so that a
    journal that is dropped without ``close()`` can still be finalized).

    Callers hand over ready-made lines with :meth:`put`; the thread writes every pending line at once and
    fsyncs the files it wrote at most ``fsync_interval`` seconds after the write.
    """

    def __init__(self, fds: list[int], fsync_interval: float, lock_fd: int, directory: str) -> None:
        self._fds = fds
        self._fsync_interval = max(0.0, float(fsync_interval))
        self._lock_fd: int | None = lock_fd
        self._directory = directory
        self._cond = threading.Condition()  # guards everything below
        self._pending: list[tuple[int, str]] = []
        self._enqueued = 0  # number of lines accepted so far
        self._synced = 0  # lines [0, _synced) are written and fsynced (or failed and reported)
        self._flush_target = 0  # a flush() waits for _synced >= this
        self._idle = False  # the thread is waiting for work
        self._closing = False
        self._dead = False
        self._error: BaseException | None = None
        self._closed = False
        self.thread = threading.Thread(target=self._run, name=WRITER_THREAD_NAME, daemon=True)
        self.thread.start()

    # caller side ------------------------------------------------------------------------------------

    def put(self, which: int, line: str) -> bool:
        """Queue one line for file ``which``; False when the journal is closed."""
        with self._cond:
            if self._closing:
                return False
            self._pending.append((which, line))
            self._enqueued += 1
            if self._idle:
                self._cond.notify()
            return True

    def flush(self, timeout: float | None = None) -> None:
        """Block until every line queued so far is written and fsynced."""
        with self._cond:
            target = self._enqueued
            if self._synced < target and not self._dead:
                self._flush_target = max(self._flush_target, target)
                self._cond.notify_all()
                if not self._cond.wait_for(lambda: self._synced >= target or self._dead, timeout):
                    raise TimeoutError(f"journal in {self._directory} not flushed within {timeout} s")
            error, self._error = self._error, None
            dead = self._dead and self._synced < target
        if error is not None:
            raise OSError(f"writing the journal in {self._directory} failed: {error!r}") from error
        if dead:
            raise RuntimeError(f"the journal writer thread of {self._directory} has stopped; lines were lost")

    def close(self) -> None:
        """Flush, stop and join the thread, close the files and release the lock (idempotent)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        try:
            self.flush()
        except (OSError, RuntimeError):
            logger.exception("closing the journal in %s", self._directory)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self.thread is not threading.current_thread():
            self.thread.join()
        if self._lock_fd is not None:
            _release_lock(self._lock_fd)
            self._lock_fd = None

    # thread side ------------------------------------------------------------------------------------

    def _next_batch(self, dirty: bool, last_sync: float) -> tuple[list[tuple[int, str]], int, bool, bool]:
        """Wait for work; return (lines, sequence number after them, sync now?, closing?)."""
        with self._cond:
            while True:
                sync_now = dirty and (
                    self._closing
                    or self._flush_target > self._synced
                    or time.monotonic() - last_sync >= self._fsync_interval
                )
                if self._pending or self._closing or sync_now:
                    break
                timeout = None
                if dirty:
                    timeout = max(0.0, last_sync + self._fsync_interval - time.monotonic())
                self._idle = True
                self._cond.wait(timeout)
                self._idle = False
            batch, self._pending = self._pending, []
            return batch, self._enqueued, sync_now or self._flush_target > self._synced, self._closing

    def _run(self) -> None:
        dirty: set[int] = set()
        last_sync = time.monotonic()
        try:
            while True:
                batch, upto, sync_now, closing = self._next_batch(bool(dirty), last_sync)
                try:
                    if batch:
                        chunks: dict[int, list[str]] = {}
                        for which, line in batch:
                            chunks.setdefault(which, []).append(line)
                        for which, lines in chunks.items():
                            lines.append("")
                            _write_all(self._fds[which], "\n".join(lines).encode())
                            dirty.add(which)
                    now = time.monotonic()
                    if dirty and (sync_now or closing or now - last_sync >= self._fsync_interval):
                        for which in sorted(dirty):
                            os.fsync(self._fds[which])
                        dirty.clear()
                        last_sync = now
                except OSError as err:
                    logger.exception("could not write the journal in %s", self._directory)
                    dirty.clear()
                    with self._cond:
                        self._error = err
                if not dirty:
                    with self._cond:
                        self._synced = max(self._synced, upto)
                        self._cond.notify_all()
                if closing and not batch and not dirty:
                    with self._cond:
                        if not self._pending:
                            break
        except BaseException:
            logger.exception("the journal writer of %s stopped", self._directory)
        finally:
            with self._cond:
                self._dead = True
                self._cond.notify_all()
            for fd in self._fds:
                try:
                    os.close(fd)
                except OSError:
                    pass


# --------------------------------------------------------------------------------------------------------
# the journal


class Journal:
    """The run journal: configs, results and events appended to a directory, plus manifest and pickle.

    Callers encode their line in their own thread (tens of microseconds) and hand it to a named writer
    thread (``bandster-journal-writer``), which owns the file handles. The writer writes every pending
    line as soon as it is queued (so a crash of the master process loses at most the lines still in the
    queue, i.e. microseconds' worth) and fsyncs in batches at most ``fsync_interval`` seconds apart: an
    operating-system crash or power loss loses at most the last ``fsync_interval`` seconds (50 ms by
    default) of results. Whatever is lost is simply run again on resume. :meth:`flush` waits until
    everything queued so far is on disk.

    Parameters
    ----------
    directory : str or path-like
        Where to write; created if needed.
    overwrite : bool
        Replace an existing journal in ``directory`` (its ``configs.json``, ``results.json``,
        ``events.json`` and ``reports.json`` are truncated, a stale ``run.json`` and ``results.pkl`` removed).
        Without it an existing ``configs.json`` or ``results.json`` raises ``FileExistsError``.
    fsync_interval : float
        The longest time, in seconds, between writing a line and fsyncing it.
    append : bool
        Continue an existing journal (for resuming a run): open the files for appending and read the
        known config ids back from ``configs.json``. Takes precedence over ``overwrite``.

    Attributes
    ----------
    directory : str
        The absolute path of the journal directory.
    config_fn, results_fn, events_fn, reports_fn : str
        The paths of ``configs.json``, ``results.json``, ``events.json`` and ``reports.json``.
    config_ids : set of tuple
        The config ids written to ``configs.json`` so far (lines are deduplicated on these).

    Raises
    ------
    FileExistsError
        If ``directory`` already holds a journal and neither ``overwrite`` nor ``append`` is set.
    RuntimeError
        If another open :class:`Journal` (in this or another process) holds the directory's lock.

    Examples
    --------
    >>> import tempfile
    >>> with Journal(tempfile.mkdtemp()) as journal:
    ...     journal.new_config((0, 0, 0), {"x": 0.5}, {"model_based_pick": False})
    ...     journal.event("run_started")
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        overwrite: bool = False,
        fsync_interval: float = 0.05,
        *,
        append: bool = False,
    ) -> None:
        self.directory = os.path.abspath(os.fspath(directory))
        os.makedirs(self.directory, exist_ok=True)
        self.config_fn = os.path.join(self.directory, CONFIGS_FILENAME)
        self.results_fn = os.path.join(self.directory, RESULTS_FILENAME)
        self.events_fn = os.path.join(self.directory, EVENTS_FILENAME)
        self.reports_fn = os.path.join(self.directory, REPORTS_FILENAME)
        self.manifest_fn = os.path.join(self.directory, MANIFEST_FILENAME)
        self.pickle_fn = os.path.join(self.directory, PICKLE_FILENAME)
        self.config_ids: set[tuple] = set()
        self._ids_lock = threading.Lock()  # guards config_ids
        self._manifest: dict | None = None
        self._manifest_lock = threading.Lock()
        self._closed_warned = False

        lock_fd = _acquire_lock(self.directory)
        try:
            fds = self._open_files(overwrite=overwrite, append=append)
        except BaseException:
            _release_lock(lock_fd)
            raise
        self._writer = _Writer(fds, fsync_interval, lock_fd, self.directory)
        self._finalizer = weakref.finalize(self, self._writer.close)
        logger.debug("journal opened in %s", self.directory)

    def _open_files(self, overwrite: bool, append: bool) -> list[int]:
        paths = [self.config_fn, self.results_fn, self.events_fn, self.reports_fn]
        if append:
            self._load_config_ids()
            mode = os.O_RDWR | os.O_CREAT | os.O_APPEND  # readable, to check for a torn last line
        else:
            existing = [p for p in (self.config_fn, self.results_fn) if os.path.exists(p)]
            if existing and not overwrite:
                raise FileExistsError(
                    errno.EEXIST,
                    f"{' and '.join(existing)} already exist(s): {self.directory} holds an earlier run's "
                    "journal. Use a new directory (e.g. bandster.records.format.new_journal_directory()), or pass "
                    "overwrite=True to replace it (its results are lost)",
                    existing[0],
                )
            mode = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if overwrite else os.O_EXCL)
            if overwrite:
                for stale in (self.manifest_fn, self.pickle_fn):
                    try:
                        os.unlink(stale)
                    except FileNotFoundError:
                        pass
        fds: list[int] = []
        try:
            for path in paths:
                flags = mode
                if path in (self.events_fn, self.reports_fn):  # always appended to (truncated on overwrite)
                    flags = (mode & ~os.O_EXCL) | os.O_CREAT
                fds.append(os.open(path, flags, 0o644))
            if append:
                for fd in fds:
                    self._terminate_torn_line(fd)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        _fsync_directory(self.directory)
        return fds

    @staticmethod
    def _terminate_torn_line(fd: int) -> None:
        """Make sure an appended line starts on a line of its own after a torn last line."""
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            _write_all(fd, b"\n")

    def _load_config_ids(self) -> None:
        try:
            with open(self.config_fn, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    try:
                        self.config_ids.add(tuple(json.loads(line)[0]))
                    except (ValueError, TypeError, IndexError, KeyError):
                        continue
        except FileNotFoundError:
            pass

    # --- writing lines ------------------------------------------------------------------------------

    def _put(self, which: int, line: str) -> None:
        if not self._writer.put(which, line):
            if not self._closed_warned:
                self._closed_warned = True
                logger.warning("the journal in %s is closed; lines written after close() are dropped", self.directory)

    def new_config(self, config_id: tuple, config: dict, config_info: dict) -> None:
        """Append ``[config_id, config, config_info]`` to ``configs.json``, once per config id.

        Parameters
        ----------
        config_id : tuple
            ``(iteration, stage_sampled, n)``.
        config : dict
            The configuration (builtins; numpy values are converted).
        config_info : dict
            How the configuration was chosen, e.g. ``{"model_based_pick": True}``.
        """
        key = as_id(config_id)  # kept as given: HpBandSter wrote '12' as "12", not ["1", "2"]
        if key in self.config_ids:
            return
        try:
            line = encode_line([id_to_json(key), config, config_info])
        except Exception:
            logger.exception("config %s cannot be journaled as JSON; its values are kept as repr()", key)
            line = encode_line([id_to_json(key), _repr_values(config), _repr_values(config_info)])
        with self._ids_lock:
            if key in self.config_ids:
                return
            self.config_ids.add(key)
        self._put(_CONFIGS, line)

    def __call__(self, job: Any) -> None:
        """Append the result of a finished :class:`~bandster.core.job.Job` to ``results.json``.

        The line is ``[config_id, budget, timestamps, result | null, exception | null, {"worker",
        "attempt", "status"}]``. A job stopped at an intermediate report (its result carries ``"stopped_at"``,
        the step of the report that stopped it) is written with status ``"stopped"`` at its consumed budget
        (:func:`~bandster.records.format.consumed_budget`), ``stopped_at`` and ``requested_budget`` moving to the
        extras. A result for a config id never passed to :meth:`new_config` also writes a config line with the
        job's config and ``{}`` as config_info. Never raises for odd values: they are
        converted, or replaced by their ``repr`` with a logged error.

        Parameters
        ----------
        job : Job
            The finished job.
        """
        key = as_id(job.id)
        if key not in self.config_ids:
            self.new_config(key, job.kwargs.get("config", {}), {})
        result = job.result
        budget = job.kwargs.get("budget")
        stopped_at = stopped_step(result)
        if stopped_at is not None:  # recorded at the step it was stopped at: the budget it consumed
            status = "stopped"
            result = {k: v for k, v in result.items() if k != "stopped_at"}
            extras = {"worker": job.worker_name, "attempt": job.attempt, "status": status, "stopped_at": stopped_at,
                      "requested_budget": budget}
            budget = consumed_budget(budget, stopped_at)
        else:
            status = "ok" if isinstance(result, dict) and is_finite_loss(result.get("loss")) else "failed"
            extras = {"worker": job.worker_name, "attempt": job.attempt, "status": status}
        entry = [id_to_json(key), budget, job.timestamps, result, job.exception, extras]
        try:
            line = _encode_with_info(entry, result.get("info") if isinstance(result, dict) else None, extras)
        except Exception:
            logger.exception("the result of job %s cannot be journaled as JSON; its info is kept as repr()", key)
            if isinstance(result, dict):
                result = {"loss": to_builtin(result.get("loss")), "info": repr(result.get("info"))}
            else:
                result = None if result is None else repr(result)
            entry[3] = result
            entry[4] = None if job.exception is None else str(job.exception)
            line = encode_line(entry)
        self._put(_RESULTS, line)

    def event(self, kind: str, **fields: Any) -> None:
        """Append ``{"time": time.time(), "event": kind, **fields}`` to ``events.json``.

        Parameters
        ----------
        kind : str
            What happened: ``dispatch``, ``worker_joined``, ``worker_lost``, ``requeued``, ``run_started``,
            ``run_finished``, ``interrupted``, ...
        **fields
            Facts about it (JSON-able; numpy values are converted).
        """
        record = {"time": time.time(), "event": kind}
        record.update(fields)
        try:
            line = encode_line(record)
        except Exception:
            logger.exception("event %r cannot be journaled as JSON; its fields are kept as repr()", kind)
            line = encode_line({"time": record["time"], "event": str(kind), "fields": repr(fields)})
        self._put(_EVENTS, line)

    def report(self, config_id: Any, budget: Any, attempt: Any, step: float, loss: Any, info: Any = None,
               decision: str | None = None, time_stamp: float | None = None) -> None:
        """Append one intermediate report of a running job to ``reports.json``.

        The line is ``{"time", "config_id", "budget", "attempt", "step", "loss", "info", "decision"}``
        (:func:`bandster.records.format.read_reports` reads it back). Non-finite losses are written as
        ``"NaN"``/``"Infinity"``/``"-Infinity"``, non-finite floats in ``info`` too (listed in
        ``nonfinite_info``); an ``info`` that cannot be encoded is kept as its ``repr`` (logged).

        Parameters
        ----------
        config_id : tuple
        budget : float
            The budget the job was handed.
        attempt : int or None
        step : float
            The step reached (budget units).
        loss : float
        info : dict, optional
        decision : str, optional
            The scheduler's answer: ``"continue"``, ``"stop"`` or ``"pause"``.
        time_stamp : float, optional
            When the runner took the report (its backend's clock); default ``time.time()``.
        """
        record = {"time": time.time() if time_stamp is None else time_stamp, "config_id": id_to_json(as_id(config_id)),
                  "budget": budget, "attempt": attempt, "step": step, "loss": loss, "info": info,
                  "decision": decision}
        try:
            line = _encode_with_info(record, info, record)
        except Exception:
            logger.exception("the info of a report of job %s cannot be journaled as JSON; it is kept as repr()",
                             config_id)
            record["info"] = repr(info)
            record.pop(NONFINITE_INFO, None)
            line = encode_line(record)
        self._put(_REPORTS, line)

    def flush(self, timeout: float | None = None) -> None:
        """Block until every line queued so far is written and fsynced.

        Parameters
        ----------
        timeout : float, optional
            Give up after this many seconds with ``TimeoutError``.

        Raises
        ------
        OSError
            If a write failed since the last flush (the error is also logged when it happens).
        """
        self._writer.flush(timeout)

    # --- whole files --------------------------------------------------------------------------------

    def write_manifest(self, manifest: dict) -> None:
        """Write ``run.json`` atomically (temporary file, fsync, ``os.replace``); may be called again.

        Parameters
        ----------
        manifest : dict
            bandster version, optimizer and arguments, ``HB_config``, config space JSON, seed, ...
        """
        data = to_builtin(manifest, path="manifest")
        try:
            text = json.dumps(data, allow_nan=False, indent=2, sort_keys=False)
        except ValueError:
            text = json.dumps(replace_nonfinite(data), allow_nan=False, indent=2)
        with self._manifest_lock:
            _atomic_write(self.manifest_fn, (text + "\n").encode())
            self._manifest = data

    @property
    def manifest(self) -> dict | None:
        """The manifest last written with :meth:`write_manifest` (None before)."""
        with self._manifest_lock:
            return self._manifest

    def write_result_pickle(self, result: Any) -> None:
        """Pickle ``result`` to ``results.pkl`` atomically (temporary file, fsync, ``os.replace``).

        Parameters
        ----------
        result : Result
            The run's result.
        """
        # streamed to the file: no second copy of a large Result in memory
        _atomic_write(self.pickle_fn, lambda fh: pickle.dump(result, fh, protocol=pickle.DEFAULT_PROTOCOL))

    # --- life cycle ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return not self._finalizer.alive

    def close(self) -> None:
        """Flush, stop and join the writer thread, and release the lock. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.directory!r}{', closed' if self.closed else ''})"


class json_result_logger(Journal):  # noqa: N801 - HpBandSter's public name
    """HpBandSter's result logger: a :class:`Journal` in ``directory``.

    Pass it as ``result_logger=`` to an optimizer to choose where the run is journaled.

    Unlike the journal a master opens by itself (which fsyncs in batches, at most 50 ms apart), each
    :meth:`new_config` and each call returns only once its line is in the file (written and fsynced), as
    HpBandSter's logger, which reopened the file for every line, did: a reader sees every line logged so far.

    Parameters
    ----------
    directory : str or path-like
        Where to write ``configs.json`` and ``results.json``; created if needed.
    overwrite : bool
        Replace an existing journal there (see :class:`Journal`).

    Examples
    --------
    >>> import os, tempfile
    >>> logger = json_result_logger(tempfile.mkdtemp(), overwrite=True)
    >>> os.path.basename(logger.results_fn), isinstance(logger, Journal)
    ('results.json', True)
    >>> logger.close()
    """

    def __init__(self, directory: str | os.PathLike, overwrite: bool = False) -> None:
        super().__init__(directory, overwrite=overwrite)

    def new_config(self, config_id: Any, config: dict, config_info: dict) -> None:
        """Append ``[config_id, config, config_info]`` to ``configs.json`` (once per id); returns once it is there."""
        super().new_config(config_id, config, config_info)
        self.flush()

    def __call__(self, job: Any) -> None:
        """Append the result of a finished job to ``results.json``; returns once it is there."""
        super().__call__(job)
        self.flush()
