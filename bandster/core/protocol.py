"""The messages that cross between dispatcher and workers (plain dicts of builtins, serpent-safe).

Workers in the master's process (threads) call ``next_job(worker_name, finished)``, where ``finished`` is
the outcome of the previous job (or None). The reply is one of::

    {"command": "job", "job": {"id": [i, j, k], "kwargs": {"config": {...}, "budget": 9.0, ...},
                               "attempt": 1, "timeout": seconds or None}}
    {"command": "wait"}       # nothing to do yet: ask again
    {"command": "announce"}   # the dispatcher does not know this worker: announce, then ask again
    {"command": "detach"}     # this dispatcher is going away: wait for the next one
    {"command": "shutdown"}   # shut down

Worker processes call ``exchange(worker_name, outcomes, wait)`` instead (see
:class:`bandster.core.exchange.DispatcherLink`): ``outcomes`` are the outcomes finished since the last call
(any number), and the reply hands over any number of jobs, ``{"command": "jobs", "jobs": [job, ...]}``, or
one of the other commands. A worker process may so hold jobs it has not started yet (the dispatcher decides
how many; it runs them in the order received). Lists of jobs and of outcomes travel as :func:`pack` made
them: JSON text inside the serpent message when JSON gives them back exactly (decoding serpent costs about
five times what encoding does; JSON text is one string to serpent), else as they are.
When it leaves, a worker process calls ``goodbye(worker_name, outcomes, returned)``: its last outcomes,
and the ids of the jobs it held and never started (queued again as they were).

An outcome is ``{"id": [...], "result": {"loss": float, "info": ...} | None, "exception": str | None,
"duration": seconds spent in compute, on the worker's clock}``; in an ``exchange`` or ``goodbye`` call it
also carries ``"finished_ago"``: seconds between the end of the job and the call, on the worker's clock
(the dispatcher stamps ``finished`` and ``started`` on its own clock from these two figures).
"""

from __future__ import annotations

import inspect
import json
import os
import time
import traceback
from collections.abc import Mapping
from typing import Any

from bandster.core._convert import UnserializableValue, to_builtin
from bandster.core.job import as_id, id_to_json
from bandster.core.reporting import JobReporter, reporting_arguments, reporting_to

JOB = "job"
WAIT = "wait"
ANNOUNCE = "announce"
DETACH = "detach"
SHUTDOWN = "shutdown"
JOBS = "jobs"
#: not sent by the dispatcher: what a worker process's link reports when the connection to its dispatcher broke
LOST = "lost"


def job_message(job_id: tuple, kwargs: dict[str, Any], attempt: int, timeout: float | None = None,
                decision_steps: list[float] | None = None) -> dict[str, Any]:
    """The reply that hands a job to a worker (``decide``: the steps at which a report waits for the
    scheduler's answer, None: every step; see :class:`bandster.core.reporting.JobReporter`)."""
    return {"command": JOB, "job": {"id": id_to_json(job_id), "kwargs": kwargs, "attempt": attempt, "timeout": timeout,
                                    "decide": decision_steps}}


def pack(value: Any) -> Any:
    """``value`` as compact JSON text if :func:`unpack` gives it back exactly, else ``value`` itself.

    Examples
    --------
    >>> pack([{"id": [1, 0, 2], "loss": 0.5}])
    '[{"id":[1,0,2],"loss":0.5}]'
    >>> pack([{1: "int keys stay as they are"}])
    [{1: 'int keys stay as they are'}]
    >>> unpack(pack([{"a": None}]))
    [{'a': None}]
    """
    if isinstance(value, list) and _json_exact(value):
        return json.dumps(value, separators=(",", ":"))
    return value


def unpack(value: Any) -> Any:
    """The inverse of :func:`pack`."""
    return json.loads(value) if isinstance(value, str) else value


def _json_exact(value: Any) -> bool:
    """True if ``value`` comes back from a JSON round trip as it is (no tuples, only str keys)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _json_exact(v) for k, v in value.items())
    if kind is list:
        return all(_json_exact(v) for v in value)
    return kind in (str, int, float, bool) or value is None


def check_result(value: Any) -> tuple[dict | None, str | None]:
    """Validate what ``compute`` returned: ``(result, None)`` if usable, else ``(None, error text)``.

    A usable result is a mapping with a numeric ``loss`` (NaN and inf are kept: such a run is recorded with
    its loss and counts as failed for promotion and modelling). ``info`` is converted to builtins; values
    with no JSON form are kept as their ``repr`` with a warning naming the key.
    """
    if not isinstance(value, Mapping):
        return None, (
            f"compute() returned {type(value).__name__} ({_short(value)}); it must return a dict "
            "{'loss': float, 'info': ...}"
        )
    if "loss" not in value:
        return None, f"compute() returned a dict without 'loss' (keys: {sorted(map(str, value))}); add a 'loss'"
    loss = value["loss"]
    try:
        loss_value = to_builtin(loss, strict=True)
    except UnserializableValue:
        loss_value = None
    if isinstance(loss_value, list) and len(loss_value) == 1:  # a 1-element array
        loss_value = loss_value[0]
    if isinstance(loss_value, bool) or not isinstance(loss_value, int | float):
        return None, f"compute() returned a non-numeric loss {_short(loss)} of type {type(loss).__name__}"
    info = to_builtin(value.get("info"), path="info")
    result = {"loss": float(loss_value), "info": info}
    for key, extra in value.items():
        if key not in ("loss", "info"):
            result[str(key)] = to_builtin(extra, path=str(key))
    return result, None


#: job arguments a ``compute`` gets only if its signature names them or takes ``**kwargs``
OPTIONAL_ARGUMENTS = ("config_directory", "previous_budget")


#: in :func:`accepted_arguments`' answer: the signature takes ``**kwargs``
ANY = "**"


def accepted_arguments(compute: Any) -> set[str] | None:
    """The parameter names of ``compute`` (with :data:`ANY` if it takes ``**kwargs``); None if unknown."""
    try:
        parameters = inspect.signature(compute).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        names.add(ANY)
    return names


def compute_kwargs(job: Mapping[str, Any], accepted: set[str] | None) -> dict[str, Any]:
    """The keyword arguments for ``compute``: HpBandSter's four, plus the optional ones it can take."""
    kwargs = dict(job["kwargs"], config_id=as_id(job["id"]))
    if accepted is not None and ANY not in accepted:
        for name in OPTIONAL_ARGUMENTS:
            if name not in accepted:
                kwargs.pop(name, None)
    kwargs.update(reporting_arguments(accepted))
    return kwargs


def run_compute(compute: Any, job: Mapping[str, Any], accepted: set[str] | None = None,
                reporter: JobReporter | None = None) -> dict[str, Any]:
    """Call ``compute`` for a job message and return its outcome message.

    ``accepted`` is :func:`accepted_arguments` of ``compute`` (computed once by the caller). ``reporter`` is
    where the job's reports go (installed for the call, and closed after it, so that every report leaves before
    the outcome); None: reports are checked and dropped.
    """
    start = time.monotonic()
    try:
        directory = job["kwargs"].get("config_directory")
        if directory and (accepted is None or "config_directory" in accepted):
            # created only for a compute that names it: a run of many short jobs that never checkpoint gets no
            # empty directory per configuration (a **kwargs compute gets the path and creates it if it uses it)
            os.makedirs(directory, exist_ok=True)
        if reporter is None:
            value = compute(**compute_kwargs(job, accepted))
        else:
            with reporting_to(reporter):
                try:
                    value = compute(**compute_kwargs(job, accepted))
                finally:
                    reporter.close()  # the reports leave before the outcome
        result, error = check_result(value)
    except BaseException as exc:  # noqa: BLE001 - everything a user's compute raises is recorded
        if isinstance(exc, KeyboardInterrupt | SystemExit) or type(exc).__name__ == "HandBack":
            raise
        result, error = None, traceback.format_exc()
    return {
        "id": id_to_json(job["id"]),
        "result": result,
        "exception": error,
        "duration": time.monotonic() - start,
    }


_CHAINED = ("During handling of the above exception, another exception occurred:",
            "The above exception was the direct cause of the following exception:")


def error_summary(text: Any) -> str:
    """The line of a failed run's error text that says what went wrong, for a log line.

    For a Python traceback: its last exception's ``Type: message`` line (the first line of the message, not
    the end of a long message such as a command's output). For other text: its first non-empty line.

    Examples
    --------
    >>> error_summary('Traceback (most recent call last):\\n  File "w.py", line 3, in compute\\n'
    ...               "CommandFailed: the result holds neither a number nor JSON: 'abc'.\\noutput:\\n<no output>")
    "CommandFailed: the result holds neither a number nor JSON: 'abc'."
    """
    lines = str(text).strip().splitlines()
    start = None
    for i, line in enumerate(lines):
        if line == "Traceback (most recent call last):":
            before = [x for x in lines[:i] if x.strip()]
            if not before or before[-1] in _CHAINED:
                start = i
    if start is not None:
        for line in lines[start + 1:]:
            if line.strip() and not line.startswith(" "):
                return line
    return next((line for line in lines if line.strip()), "")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_compute_in_child(compute: Any, job: Mapping[str, Any], accepted: set[str] | None, timeout: float,
                         reporter: JobReporter | None = None) -> dict:
    """Run :func:`run_compute` in a forked child process, killed if it takes longer than ``timeout`` s.

    Used by worker processes when the master sets ``job_timeout``, so that even a computation stuck in C code
    cannot block the worker. The outcome comes back over a pipe as JSON. The child reports through ``reporter``
    (its ``send`` must open its own connection in the child).
    """
    import json
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child_main, args=(compute, job, accepted, sender, reporter), daemon=True,
                        name=f"bandster-job-{'-'.join(map(str, job['id']))}")
    start = time.monotonic()
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                return json.loads(receiver.recv_bytes().decode())
            except (EOFError, OSError, ValueError):
                child.join(5)
                error = f"the job's child process died (exit code {child.exitcode}) without a result"
        else:
            error = f"TimeoutError: the job exceeded its job_timeout of {timeout:g} s and was killed"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    return {"id": id_to_json(job["id"]), "result": None, "exception": error, "duration": time.monotonic() - start}


def _child_main(compute: Any, job: Mapping[str, Any], accepted: set[str] | None, sender: Any,
                reporter: JobReporter | None = None) -> None:
    import json

    outcome = run_compute(compute, job, accepted, reporter)
    sender.send_bytes(json.dumps(outcome).encode())
    sender.close()
