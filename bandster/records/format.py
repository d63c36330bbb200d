"""The run journal's on-disk format: its file names, where journals live, and every reader.

A journal directory ``<working_directory>/bandster_runs/<run_id>_<YYYYmmdd-HHMMSS>`` holds

``configs.json`` (:data:`CONFIGS_FILENAME`)
    one line per sampled configuration, HpBandSter's format ``[config_id, config, config_info]``;
``results.json`` (:data:`RESULTS_FILENAME`)
    one line per finished evaluation, HpBandSter's five elements plus an optional sixth with bandster's
    extras: ``[config_id, budget, time_stamps, result | null, exception | null, {"worker", "attempt",
    "status"}]``; ``status`` is ``"ok"``, ``"failed"`` or ``"stopped"``. A run stopped at an intermediate report
    is written at the step it was stopped at (its consumed budget) as ``budget``, with ``"stopped_at"`` (that
    step) and ``"requested_budget"`` (the budget the job was handed) among the extras;
``events.json`` (:data:`EVENTS_FILENAME`)
    one JSON object per line: ``{"time": ..., "event": kind, ...}`` (dispatches, worker joins and losses);
``reports.json`` (:data:`REPORTS_FILENAME`)
    one JSON object per intermediate report of a running job that the runner accepted (``Worker.report``):
    ``{"time", "config_id", "budget", "attempt", "step", "loss", "info", "decision"}``, in the order the runner
    took them, ``decision`` being the scheduler's answer (``"continue"``, ``"stop"`` or ``"pause"``); see
    :func:`read_reports`;
``run.json`` (:data:`MANIFEST_FILENAME`)
    the manifest (bandster version, optimizer arguments, ``HB_config``, ...);
``results.pkl`` (:data:`PICKLE_FILENAME`)
    a pickle of the final :class:`~bandster.records.result.Result`;
``journal.lock`` (:data:`LOCK_FILENAME`)
    held with ``fcntl.flock`` while a writer (:class:`~bandster.records.journal.Journal`) is open.

Every line is strict JSON: non-finite floats are written as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (:func:`replace_nonfinite`); the readers also accept the bare tokens HpBandSter wrote.

This module is the only one that knows these names; the writer is :mod:`bandster.records.journal`. Every
reader here only reads: it never takes the journal's lock for longer than a non-blocking probe, and a torn or
garbled line is skipped with a warning naming the file and the line, so it is safe on a run that is still
being written. For example:

>>> import os, tempfile
>>> directory = new_journal_directory(tempfile.mkdtemp(), "demo")
>>> os.path.basename(os.path.dirname(directory)) == RUNS_DIRNAME
True
>>> list(read_events(directory)), lock_holder(directory), dispatch_counts(directory)
([], None, Counter())
"""

from __future__ import annotations

import collections
import contextlib
import errno
import fcntl
import gc
import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

try:  # optional (the ``report`` extra): parses a large journal's lines in half the time of the json module
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the installation
    _orjson = None

__all__ = [
    "LineTail",
    "paused_gc",
    "is_usual_result",
    "find_journals",
    "RUNS_DIRNAME",
    "CONFIGS_FILENAME",
    "RESULTS_FILENAME",
    "EVENTS_FILENAME",
    "REPORTS_FILENAME",
    "MANIFEST_FILENAME",
    "PICKLE_FILENAME",
    "LOCK_FILENAME",
    "CONFIG_DIRECTORIES_DIRNAME",
    "config_directory",
    "NONFINITE_STRINGS",
    "NONFINITE_INFO",
    "as_id",
    "id_to_json",
    "nonfinite_paths",
    "restore_nonfinite",
    "journal_directory_prefix",
    "new_journal_directory",
    "latest_journal_directory",
    "is_journal",
    "find_journal",
    "lock_holder",
    "journal_is_live",
    "replace_nonfinite",
    "stopped_step",
    "consumed_budget",
    "is_number",
    "is_float",
    "is_finite_number",
    "json_lines",
    "read_configs",
    "read_results",
    "read_manifest",
    "read_hb_config",
    "read_events",
    "read_reports",
    "ReportLine",
    "DECISIONS",
    "RUN_STATUSES",
    "dispatch_counts",
]

#: name of the sub-directory of the working directory that holds the journals of all runs
RUNS_DIRNAME = "bandster_runs"
CONFIGS_FILENAME = "configs.json"
RESULTS_FILENAME = "results.json"
EVENTS_FILENAME = "events.json"
REPORTS_FILENAME = "reports.json"
MANIFEST_FILENAME = "run.json"
PICKLE_FILENAME = "results.pkl"
LOCK_FILENAME = "journal.lock"
#: the sub-directory of a journal that holds one directory per configuration (checkpoints)
CONFIG_DIRECTORIES_DIRNAME = "configs"

#: the strings the journal writes for non-finite floats, and their values
NONFINITE_STRINGS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: the results-line extra listing where ``info`` held non-finite floats (written as ``"NaN"`` etc.)
NONFINITE_INFO = "nonfinite_info"


def as_id(value: Any) -> Any:
    """A job or config id as given (HpBandSter accepted any id), except that a list (what JSON and serpent
    give back for a tuple) becomes a tuple, so that it can key a dict.

    Examples
    --------
    >>> as_id([0, 1, 2]), as_id((0, 1, 2)), as_id(0), as_id('12')
    ((0, 1, 2), (0, 1, 2), 0, '12')
    """
    return tuple(value) if isinstance(value, list) else value


def id_to_json(value: Any) -> Any:
    """An id as JSON holds it: a tuple as a list, anything else as it is.

    Examples
    --------
    >>> id_to_json((0, 1, 2)), id_to_json('12')
    ([0, 1, 2], '12')
    """
    return list(value) if isinstance(value, tuple) else value


def nonfinite_paths(value: Any) -> list[list]:
    """Where ``value`` holds non-finite floats (numpy ones included): each place as the list of keys and
    indices leading to it, keys as JSON writes them.

    Examples
    --------
    >>> nonfinite_paths({'a': [1.0, float('nan')], 'b': {'c': float('inf')}, 'd': 'NaN'})
    [['a', 1], ['b', 'c']]
    """
    import numpy as np

    found: list[list] = []

    def walk(item: Any, path: list) -> None:
        if isinstance(item, np.ndarray):
            item = item.tolist()
        if isinstance(item, float | np.floating):
            if not math.isfinite(float(item)):
                found.append(list(path))
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):  # as JSON writes an object key: 1 -> "1", True -> "true"
                    key = json.dumps(key.item() if hasattr(key, "item") else key, default=str)
                walk(sub, [*path, key])
        elif isinstance(item, list | tuple):
            for i, sub in enumerate(item):
                walk(sub, [*path, i])

    walk(value, [])
    return found


def restore_nonfinite(info: Any, paths: Any) -> Any:
    """``info`` read back with the strings at ``paths`` (the ``nonfinite_info`` extra: where ``compute``
    returned non-finite floats) turned back into floats, in place; other strings stay strings.

    Examples
    --------
    >>> restore_nonfinite({'curve': [0.5, 'NaN'], 'name': 'NaN'}, [['curve', 1]])
    {'curve': [0.5, nan], 'name': 'NaN'}
    """
    if not isinstance(paths, list):
        return info
    for path in paths:
        if not isinstance(path, list) or not path:
            continue
        parent = info
        try:
            for step in path[:-1]:
                parent = parent[step]
            value = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(value, str) and value in NONFINITE_STRINGS:
            parent[path[-1]] = NONFINITE_STRINGS[value]
    return info

_STAMP_FORMAT = "%Y%m%d-%H%M%S"


# --------------------------------------------------------------------------------------------------------
# directories


def journal_directory_prefix(run_id: Any) -> str:
    """``run_id`` as the single path component that starts its journal directories' names.

    Path separators and NUL are replaced by ``_``; ``""``, ``.`` and ``..`` get a ``run`` prefix.

    Examples
    --------
    >>> journal_directory_prefix("a/b"), journal_directory_prefix("..")
    ('a_b', 'run..')
    """
    name = re.sub(r"[/\\\x00]", "_", str(run_id))
    return name if name not in ("", ".", "..") else f"run{name}"


def new_journal_directory(working_directory: str | os.PathLike, run_id: Any) -> str:
    """Create and return a fresh journal directory for a run.

    The directory is ``<working_directory>/bandster_runs/<run_id>_<YYYYmmdd-HHMMSS>`` (local time). If that
    exists already (two runs started in the same second), ``_2``, ``_3``, ... is appended: an existing
    directory is never returned. Creation uses ``mkdir``, so two processes cannot get the same directory.

    Parameters
    ----------
    working_directory : str or path-like
        The run's working directory; ``bandster_runs`` is created inside it if needed.
    run_id : str
        The run's id; path separators in it are replaced by ``_``.

    Returns
    -------
    str
        The absolute path of the new, empty directory.
    """
    parent = os.path.join(os.path.abspath(os.fspath(working_directory)), RUNS_DIRNAME)
    os.makedirs(parent, exist_ok=True)
    base = os.path.join(parent, f"{journal_directory_prefix(run_id)}_{time.strftime(_STAMP_FORMAT)}")
    candidate, n = base, 1
    while True:
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            n += 1
            candidate = f"{base}_{n}"


def latest_journal_directory(working_directory: str | os.PathLike, run_id: Any) -> str | None:
    """The newest journal directory of ``run_id`` under ``working_directory``, or None if there is none.

    "Newest" is by the start time in the directory name, then by the ``_2``, ``_3`` suffix.

    Parameters
    ----------
    working_directory : str or path-like
        The working directory given to :func:`new_journal_directory`.
    run_id : str
        The run's id.

    Returns
    -------
    str or None
        An absolute path.
    """
    parent = os.path.join(os.path.abspath(os.fspath(working_directory)), RUNS_DIRNAME)
    pattern = re.compile(re.escape(journal_directory_prefix(run_id)) + r"_(\d{8}-\d{6})(?:_(\d+))?")
    best: tuple[str, int] | None = None
    best_path = None
    try:
        entries = list(os.scandir(parent))
    except FileNotFoundError:
        return None
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_dir():
            continue
        key = (match.group(1), int(match.group(2) or 1))
        if best is None or key > best:
            best, best_path = key, entry.path
    return best_path


def config_directory(journal_directory: str | os.PathLike, config_id: tuple) -> str:
    """The directory of one configuration, for its checkpoints: ``<journal>/configs/config_<i>_<j>_<k>``.

    Examples
    --------
    >>> config_directory("/runs/r", (0, 2, 1))
    '/runs/r/configs/config_0_2_1'
    """
    name = "config_" + "_".join(str(int(i)) for i in config_id)
    return os.path.join(os.fspath(journal_directory), CONFIG_DIRECTORIES_DIRNAME, name)


def is_journal(directory: str | os.PathLike) -> bool:
    """True when ``directory`` holds a run journal (``configs.json``, ``results.json`` or ``run.json``)."""
    directory = os.fspath(directory)
    return any(os.path.isfile(os.path.join(directory, name))
               for name in (CONFIGS_FILENAME, RESULTS_FILENAME, MANIFEST_FILENAME))


def find_journal(path: str | os.PathLike, run_id: str | None = None) -> str:
    """The journal directory that ``path`` names.

    Parameters
    ----------
    path : str or path-like
        A journal directory; or a working directory (or its ``bandster_runs`` folder), in which case the
        newest journal in it is taken (of ``run_id`` when given).
    run_id : str, optional
        Only consider journals of this run.

    Returns
    -------
    str
        An absolute path.

    Raises
    ------
    FileNotFoundError
        When there is no journal there, with what was looked for.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} is not a directory; pass a run's journal directory "
                                f"(<working_directory>/{RUNS_DIRNAME}/<run_id>_<time>) or its working directory")
    if is_journal(path):
        return path
    parent = path if os.path.basename(path) == RUNS_DIRNAME else os.path.join(path, RUNS_DIRNAME)
    candidates = []
    if os.path.isdir(parent):
        for entry in os.scandir(parent):
            if not entry.is_dir() or not is_journal(entry.path):
                continue
            if run_id is not None and not entry.name.startswith(f"{run_id}_"):
                continue
            manifest = os.path.join(entry.path, MANIFEST_FILENAME)
            created = None
            if os.path.exists(manifest):
                created = (read_manifest(entry.path) or {}).get("created")
            if not isinstance(created, int | float):
                created = entry.stat().st_mtime
            candidates.append((created, entry.name, entry.path))
    if not candidates:
        which = f" of run {run_id!r}" if run_id is not None else ""
        raise FileNotFoundError(
            f"no run journal{which} in {path}: it holds neither {CONFIGS_FILENAME}/{RESULTS_FILENAME} nor a "
            f"{RUNS_DIRNAME}/ folder with journals"
        )
    return max(candidates)[2]


def find_journals(path: str | os.PathLike, depth: int = 3) -> dict[str, str]:
    """``{name: journal directory}`` of the journals at or below ``path`` (``depth`` levels at most).

    A journal's name is its path relative to ``path`` (its directory's name when ``path`` is the journal).

    Raises
    ------
    FileNotFoundError
        When ``path`` is not a directory.
    """
    root = os.path.abspath(os.fspath(path))
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root} is not a directory; pass a run's journal directory, a working directory "
                                f"(with {RUNS_DIRNAME}/) or a folder of them")
    if is_journal(root):
        return {os.path.basename(root): root}
    found: dict[str, str] = {}
    level = [root]
    for _ in range(depth):
        below = []
        for directory in level:
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir() and not entry.name.startswith("."):
                    if is_journal(entry.path):
                        found[os.path.relpath(entry.path, root)] = entry.path
                    else:
                        below.append(entry.path)
        level = below
    return found


def lock_holder(directory: str | os.PathLike) -> tuple[int, str] | None:
    """``(pid, hostname)`` of the process holding the journal's lock, or None if no writer holds it.

    A non-blocking shared ``flock`` is tried and released at once: it fails only while a
    :class:`~bandster.records.journal.Journal` holds the exclusive lock. A journal without a lock file (e.g.
    HpBandSter's) has no holder.
    """
    path = os.path.join(os.fspath(directory), LOCK_FILENAME)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            fields = os.pread(fd, 300, 0).decode("utf-8", "replace").split()
            try:
                return int(fields[0]), fields[1] if len(fields) > 1 else ""
            except (IndexError, ValueError):
                return 0, ""  # held, by a writer that had not yet written its pid
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def journal_is_live(directory: str | os.PathLike) -> bool:
    """True while a writer (a :class:`~bandster.records.journal.Journal`) holds the journal's lock
    (:func:`lock_holder`)."""
    return lock_holder(directory) is not None


# --------------------------------------------------------------------------------------------------------
# values


def replace_nonfinite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.

    Dicts, lists and tuples are copied (tuples become lists), other values are returned as they are.

    Examples
    --------
    >>> replace_nonfinite({"loss": float("inf"), "curve": (1.0, float("nan"))})
    {'loss': 'Infinity', 'curve': [1.0, 'NaN']}
    """
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: replace_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [replace_nonfinite(v) for v in value]
    return value


def stopped_step(result: Any) -> float | None:
    """The step a job was stopped at: its result's ``"stopped_at"`` (the marker a backend adds when the scheduler
    stopped the job at an intermediate report), as a float; None for a job that was not stopped, failed (no
    result), or whose marker is not a finite number.

    Examples
    --------
    >>> stopped_step({"loss": 0.4, "info": {}, "stopped_at": 3}), stopped_step({"loss": 0.4}), stopped_step(None)
    (3.0, None, None)
    """
    if not isinstance(result, dict):
        return None
    value = result.get("stopped_at")
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value) if value is not None and not isinstance(value, bool) else None
        except (TypeError, ValueError):
            value = None
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def consumed_budget(budget: Any, stopped_at: float | None) -> Any:
    """The budget a job consumed: ``budget`` when it was not stopped, else the step it was stopped at (at most
    ``budget``).

    Examples
    --------
    >>> consumed_budget(9.0, 3.0), consumed_budget(9.0, None), consumed_budget(9.0, 12.0)
    (3.0, 9.0, 9.0)
    """
    if stopped_at is None:
        return budget
    try:
        return min(float(budget), float(stopped_at))
    except (TypeError, ValueError):
        return float(stopped_at)


def is_number(value: Any) -> bool:
    """An int or float that is not a bool (NaN and infinities included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_float(value: Any) -> bool:
    """A number (NaN and infinities included) that ``float()`` can convert (a 400-digit integer cannot)."""
    if not is_number(value):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def is_finite_number(value: Any) -> bool:
    """A number, not a bool, that converts to a finite float."""
    if type(value) is float:  # the common case, first
        return math.isfinite(value)
    return is_float(value) and math.isfinite(value)


def _compact(value: dict) -> dict:
    """``value`` with its keys interned: json makes new key strings on every line, and 100,000 runs of
    ``{"submitted": ..., "started": ..., "finished": ...}`` would otherwise hold 300,000 copies of them."""
    return {sys.intern(key): item for key, item in value.items()}


def _as_config_id(value: Any) -> tuple | None:
    """``value`` as a config id ``(iteration, stage, n)``, or None when it is not a list of three integers."""
    if not isinstance(value, list) or len(value) != 3:
        return None
    return tuple(value) if all(isinstance(v, int) and not isinstance(v, bool) for v in value) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------------------------
# the JSON-lines files
#
# The readers never trust a line: a line they cannot parse, or whose config id or budget they cannot use, is
# skipped; a line whose other fields have the wrong type is kept with those fields replaced by "unknown"
# (no result, no time stamp, no extras). Both are logged as warnings naming the file and the line.


def json_lines(path: str | os.PathLike, *, missing_ok: bool = False, containing: bytes | None = None
               ) -> Iterator[tuple[int, Any]]:
    """``(line_number, value)`` for every parseable line of ``path``, read as a stream.

    Lines are split on ``\\n`` only (a stray ``\\r`` cannot shift the line numbers). A line that is not valid
    UTF-8 or not valid JSON (torn, garbled, nested too deeply) is skipped with a warning; a file that cannot
    be opened is skipped with a warning.

    Parameters
    ----------
    path : str or path-like
        The file.
    missing_ok : bool
        A missing file yields nothing, without a warning.
    containing : bytes, optional
        Only parse the lines that contain these bytes (the others are skipped silently, unparsed).
    """
    try:
        fh = open(path, "rb")
    except FileNotFoundError as err:
        if not missing_ok:
            logger.warning("%s cannot be read (%s); it is skipped", path, err)
        return
    except OSError as err:
        logger.warning("%s cannot be read (%s); it is skipped", path, err)
        return
    with fh:
        number = 0
        while True:
            try:
                raw = fh.readline()
            except OSError as err:  # e.g. a directory where the file should be, or an I/O error
                logger.warning("%s cannot be read after line %d (%s); the rest is skipped", path, number, err)
                return
            if not raw:
                return
            number += 1
            if containing is not None and containing not in raw:
                continue
            if not raw.strip(b" \t\r\n"):
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
                if not raw.endswith(b"\n"):  # the last line, unfinished: the writer was interrupted mid-line
                    logger.warning(
                        "%s: skipping the torn last line %d (the run stopped while writing it)", path, number
                    )
                else:
                    reason = "not valid UTF-8" if isinstance(err, UnicodeDecodeError) else "not valid JSON"
                    logger.warning("%s: skipping garbled line %d (%s): %.80r", path, number, reason, raw)
                continue
            yield number, value


def _entry_config_id(path: str | os.PathLike, number: int, entry: Any, min_length: int, shape: str
                     ) -> tuple | None:
    """The config id of a parsed line that is a list of at least ``min_length`` elements starting with one;
    None, with a warning (``shape`` names the expected line), for any other line."""
    if not isinstance(entry, list) or len(entry) < min_length:
        logger.warning("%s: line %d is not %s; skipped", path, number, shape)
        return None
    config_id = _as_config_id(entry[0])
    if config_id is None:
        logger.warning("%s: line %d: config id %s is not three integers; skipped", path, number, _short(entry[0]))
    return config_id


def _plain_config_id(value: Any) -> tuple | None:
    """A config id ``[i, j, k]`` of exact ints as a tuple (the usual line's check, a few type tests); None for
    anything else, which the full checks then look at."""
    if type(value) is list and len(value) == 3:
        a, b, c = value
        if type(a) is int and type(b) is int and type(c) is int:
            return a, b, c
    return None


def read_configs(path: str | os.PathLike, lines: Iterable[tuple[int, Any]] | None = None
                 ) -> Iterator[tuple[tuple, dict, Any]]:
    """``(config_id, config, config_info)`` for every usable line of a ``configs.json`` (or of its ``lines``
    already parsed, as :class:`LineTail` gives them).

    ``config_info`` is ``"N/A"`` for HpBandSter's two-element lines, ``{}`` when it is not a JSON object
    (with a warning). Short string values of the configuration are interned (and its keys, but on bandster's
    usual line, whose keys the JSON parser already shares).
    """
    intern = sys.intern
    for number, entry in json_lines(path) if lines is None else lines:
        if type(entry) is list and len(entry) == 3:  # bandster's line: [config_id, {config}, {config_info}]
            config_id = _plain_config_id(entry[0])
            config, config_info = entry[1], entry[2]
            if config_id is not None and type(config) is dict and type(config_info) is dict:
                for key, value in config.items():
                    if type(value) is str and len(value) <= 64:
                        config[key] = intern(value)
                yield config_id, config, config_info
                continue
        config_id = _entry_config_id(path, number, entry, 2, "[config_id, config, config_info]")
        if config_id is None:
            continue
        if not isinstance(entry[1], dict):
            logger.warning("%s: line %d: the configuration is not a JSON object; skipped", path, number)
            continue
        config_info: Any = "N/A"  # HpBandSter's value for its 2-element lines
        if len(entry) >= 3:
            config_info = entry[2]
            if not isinstance(config_info, dict):
                logger.warning("%s: line %d: config_info %s is not a JSON object; left empty", path, number,
                               _short(config_info))
                config_info = {}
        config = {
            intern(key): intern(value) if type(value) is str and len(value) <= 64 else value
            for key, value in entry[1].items()
        }
        if isinstance(config_info, dict):
            config_info = _compact(config_info)
        yield config_id, config, config_info


def _read_stamps(value: Any, problems: list[str]) -> dict:
    if not isinstance(value, dict):
        problems.append(f"time stamps {_short(value)} are not a JSON object")
        return {}
    bad = [key for key, stamp in value.items() if not is_finite_number(stamp)]
    if bad:
        problems.append(f"time stamps {', '.join(map(repr, bad))} are not finite numbers")
    return {sys.intern(key): stamp for key, stamp in value.items() if key not in bad}


def _read_result(value: Any, problems: list[str]) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f"the result {_short(value)} is neither a JSON object nor null")
        return None
    loss = value.get("loss")
    if isinstance(loss, str) and loss in NONFINITE_STRINGS:
        loss = NONFINITE_STRINGS[loss]
    elif not (loss is None or is_float(loss)):
        problems.append(f"the loss {_short(loss)} is not a number")
        return None
    if len(value) == 2 and "loss" in value and "info" in value:  # the usual one
        return {"loss": loss, "info": value["info"]}
    result = _compact(value)
    if "loss" in result:
        result["loss"] = loss
    return result


#: the statuses of a finished run: a finite loss, a failure (no loss, or a NaN or infinite one), or stopped at an
#: intermediate report by the scheduler (its loss is the last reported one)
RUN_STATUSES = ("ok", "failed", "stopped")
#: the decisions a scheduler can answer a report with (``bandster.schedulers.Decision`` values)
DECISIONS = ("continue", "stop", "pause")

#: what a usable value of each of bandster's extras looks like
_EXTRAS_CHECKS: dict[str, Callable[[Any], bool]] = {
    "worker": lambda v: v is None or isinstance(v, str),
    "attempt": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "status": lambda v: v in RUN_STATUSES,
    "stopped_at": lambda v: is_finite_number(v),
    "requested_budget": lambda v: is_finite_number(v),
}


def _read_extras(value: Any, problems: list[str]) -> dict | None:
    if not isinstance(value, dict):
        problems.append(f"the extras {_short(value)} are not a JSON object")
        return None
    bad = [key for key, check in _EXTRAS_CHECKS.items() if key in value and not check(value[key])]
    if bad:
        problems.append(", ".join(f"{key} {_short(value[key])}" for key in bad) + " not valid")
    extras = {sys.intern(key): extra for key, extra in value.items() if key not in bad}
    for key in ("worker", "status"):  # a few distinct values, repeated on every line
        if isinstance(extras.get(key), str):
            extras[key] = sys.intern(extras[key])
    return extras


#: the statuses, as a set
_RUN_STATUS_SET = frozenset(RUN_STATUSES)


def is_usual_result(result: Any) -> bool:
    """Whether ``result`` is bandster's usual result ``{"loss": float, "info": ...}`` (a few type tests; the
    readers and run tables keep such a result as its loss and info).

    Examples
    --------
    >>> is_usual_result({"loss": 0.5, "info": None}), is_usual_result({"loss": 1, "info": {}})
    (True, False)
    """
    return type(result) is dict and len(result) == 2 and "info" in result and type(result.get("loss")) is float


def _usual_result_line(entry: Any) -> tuple | None:
    """``(config_id, budget, stamps, result, exception, extras)`` of bandster's usual ``results.json`` line,
    checked with a few type tests and passed on as parsed: three finite float time stamps, a result
    ``{"loss": float, "info": ...}`` or null, an exception string or null, and extras of a worker name, an
    attempt and a status. None for any other line (:func:`read_results` then applies every check)."""
    if type(entry) is not list or len(entry) != 6:
        return None
    config_id, budget, stamps, result, exception, extras = entry
    if (type(budget) is not float or budget - budget != 0.0
            or type(stamps) is not dict or len(stamps) != 3 or type(extras) is not dict or len(extras) != 3):
        return None
    config_id = _plain_config_id(config_id)
    submitted, started, finished = stamps.get("submitted"), stamps.get("started"), stamps.get("finished")
    worker, attempt, status = extras.get("worker"), extras.get("attempt"), extras.get("status")
    if (config_id is not None
            and type(submitted) is float and type(started) is float and type(finished) is float
            and submitted - submitted == 0.0 and started - started == 0.0 and finished - finished == 0.0
            and (result is None or is_usual_result(result))
            and (exception is None or type(exception) is str)
            and type(worker) is str and type(attempt) is int and attempt >= 1
            and type(status) is str and status in _RUN_STATUS_SET):
        extras["worker"], extras["status"] = sys.intern(worker), sys.intern(status)  # few values, on every line
        return config_id, budget, stamps, result, exception, extras
    return None


def read_results(path: str | os.PathLike, lines: Iterable[tuple[int, Any]] | None = None
                 ) -> Iterator[tuple[tuple, float, dict, dict | None, str | None, dict | None]]:
    """``(config_id, budget, time_stamps, result, exception, extras)`` for every usable line of a
    ``results.json`` (or of its ``lines`` already parsed, as :class:`LineTail` gives them).

    The loss strings ``"NaN"``/``"Infinity"``/``"-Infinity"`` are read as floats; ``extras`` is None for
    HpBandSter's five-element lines. Fields of the wrong type are replaced by "unknown" (``{}`` stamps, None
    result or extras) with a warning; lines without a usable config id or budget are skipped. Equal budgets
    are one shared float object.
    """
    budgets: dict[float, float] = {}  # each budget value as one shared float object
    for number, entry in json_lines(path) if lines is None else lines:
        usual = _usual_result_line(entry)  # most lines: a few type tests, nothing copied
        if usual is not None:
            budget = usual[1]
            shared = budgets.setdefault(budget, budget)
            yield usual if shared is budget else (usual[0], shared, *usual[2:])
            continue
        config_id = _entry_config_id(path, number, entry, 5, "a result line")
        if config_id is None:
            continue
        if not is_finite_number(entry[1]):
            logger.warning("%s: line %d: budget %s is not a finite number; skipped", path, number, _short(entry[1]))
            continue
        budget = budgets.setdefault(float(entry[1]), float(entry[1]))
        problems: list[str] = []
        stamps = _read_stamps(entry[2], problems)
        result = _read_result(entry[3], problems)
        exception = entry[4]
        if exception is not None and not isinstance(exception, str):
            problems.append("the exception is not a string")
            exception = json.dumps(exception)
        extras = _read_extras(entry[5], problems) if len(entry) >= 6 else None
        if extras is not None and NONFINITE_INFO in extras:
            paths = extras.pop(NONFINITE_INFO)
            if isinstance(result, dict):
                result["info"] = restore_nonfinite(result.get("info"), paths)
        if problems:
            logger.warning("%s: line %d: %s; kept without them", path, number, "; ".join(problems))
        yield config_id, budget, stamps, result, exception, extras


class ReportLine(collections.namedtuple(
        "ReportLine", ["config_id", "budget", "attempt", "step", "loss", "time", "info", "decision"])):
    """One line of ``reports.json`` as :func:`read_reports` gives it (``time`` absolute: epoch seconds, or a
    simulated backend's virtual seconds; ``attempt`` and ``decision`` None when the line lacks them)."""

    __slots__ = ()


def _report_line(value: Any, problems: list[str]) -> ReportLine | None:
    """A parsed ``reports.json`` line as a :class:`ReportLine`; None (with the reason in ``problems``) when its
    config id, budget, step or time is unusable."""
    if not isinstance(value, dict):
        problems.append("not a JSON object")
        return None
    config_id = _as_config_id(value.get("config_id"))
    if config_id is None:
        problems.append(f"config id {_short(value.get('config_id'))} is not three integers")
        return None
    bad = [key for key in ("budget", "step", "time") if not is_finite_number(value.get(key))]
    if bad:
        problems.append(", ".join(f"{key} {_short(value.get(key))}" for key in bad) + " not a finite number")
        return None
    loss = value.get("loss")
    if isinstance(loss, str) and loss in NONFINITE_STRINGS:
        loss = NONFINITE_STRINGS[loss]
    elif not is_float(loss):
        problems.append(f"the loss {_short(loss)} is not a number; kept as NaN")
        loss = math.nan
    attempt = value.get("attempt")
    if not (attempt is None or _EXTRAS_CHECKS["attempt"](attempt)):
        problems.append(f"attempt {_short(attempt)} is not an integer >= 1; left unknown")
        attempt = None
    decision = value.get("decision")
    if not (decision is None or decision in DECISIONS):
        problems.append(f"decision {_short(decision)} is not one of {', '.join(DECISIONS)}; left unknown")
        decision = None
    info = value.get("info")
    if NONFINITE_INFO in value:
        info = restore_nonfinite(info, value[NONFINITE_INFO])
    return ReportLine(config_id, float(value["budget"]), attempt, float(value["step"]), float(loss),
                      float(value["time"]), info, sys.intern(decision) if decision is not None else None)


def read_reports(path: str | os.PathLike, lines: Iterable[tuple[int, Any]] | None = None) -> Iterator[ReportLine]:
    """A :class:`ReportLine` for every usable line of a ``reports.json`` (or of its ``lines`` already parsed, as
    :class:`LineTail` gives them), in file order: the order in which the runner accepted the reports.

    ``path`` may be the file or its journal directory. A journal without the file (written before bandster
    journaled reports, or by HpBandSter) has no reports. A torn or garbled line, or one without a usable config
    id, budget, step or time, is skipped with a warning; a loss that is not a number is kept as NaN, an unusable
    attempt or decision as None (with a warning). ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` losses are read
    as floats, and so are the non-finite floats of ``info`` listed in the line's ``nonfinite_info``.

    Examples
    --------
    >>> import os, tempfile
    >>> directory = tempfile.mkdtemp()
    >>> with open(os.path.join(directory, REPORTS_FILENAME), "w") as fh:
    ...     _ = fh.write('{"time": 5.0, "config_id": [0, 0, 1], "budget": 9, "attempt": 1, "step": 3, '
    ...                  '"loss": "NaN", "info": null, "decision": "stop"}\\n')
    >>> [tuple(line) for line in read_reports(directory)]
    [((0, 0, 1), 9.0, 1, 3.0, nan, 5.0, None, 'stop')]
    """
    path = os.fspath(path)
    if lines is None and os.path.isdir(path):
        path = os.path.join(path, REPORTS_FILENAME)
    for number, value in json_lines(path, missing_ok=True) if lines is None else lines:
        problems: list[str] = []
        line = _report_line(value, problems)
        if problems:
            logger.warning("%s: line %d: %s%s", path, number, "; ".join(problems),
                           "; skipped" if line is None else "")
        if line is not None:
            yield line


def read_events(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """The events of a journal (``events.json``), in file order.

    Each is a dict with at least ``time`` (epoch seconds) and ``event`` (its kind). A torn last line (a run
    being written, or one that was killed) or a garbled line is skipped with a warning; lines that are not
    such objects are skipped silently. A journal without ``events.json`` (HpBandSter's) has no events.
    """
    path = os.path.join(os.fspath(directory), EVENTS_FILENAME)
    return [
        event
        for _, event in json_lines(path, missing_ok=True)
        if isinstance(event, dict) and isinstance(event.get("event"), str) and is_number(event.get("time"))
    ]


def dispatch_counts(directory: str | os.PathLike) -> collections.Counter:
    """How often each ``(config_id, budget)`` was dispatched, from ``events.json`` (empty without one)."""
    counts: collections.Counter = collections.Counter()
    path = os.path.join(os.fspath(directory), EVENTS_FILENAME)
    for _, event in json_lines(path, missing_ok=True, containing=b'"dispatch"'):
        try:
            if event["event"] == "dispatch":
                counts[(tuple(event["config_id"]), float(event["budget"]))] += 1
        except (KeyError, TypeError, ValueError):
            continue
    return counts


# --------------------------------------------------------------------------------------------------------
# the manifest


def read_manifest(directory: str | os.PathLike) -> dict | None:
    """``run.json`` of a journal as a dict, or None when it is missing or unreadable (logged)."""
    path = os.path.join(os.fspath(directory), MANIFEST_FILENAME)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as err:
        logger.warning("%s cannot be read: %.80s", path, err)
        return None
    return manifest if isinstance(manifest, dict) else None


#: what a usable value of each HB_config entry looks like (None is accepted for all of them)
_HB_CONFIG_CHECKS: dict[str, Callable[[Any], bool]] = {
    "eta": is_finite_number,
    "min_budget": is_finite_number,
    "max_budget": is_finite_number,
    "time_ref": is_finite_number,
    "budgets": lambda v: isinstance(v, list) and all(is_finite_number(b) for b in v),
    "max_SH_iter": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def read_hb_config(directory: str | os.PathLike) -> dict | None:
    """``HB_config`` from ``run.json``, entries of the wrong type left out (with a warning); None without a
    usable one (a missing, unreadable or HpBandSter journal)."""
    path = os.path.join(os.fspath(directory), MANIFEST_FILENAME)
    try:
        with open(path, "rb") as fh:
            manifest = json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as err:
        logger.warning("%s cannot be read (%.80s); HB_config is inferred from the results", path, err)
        return None
    hb_config = manifest.get("HB_config") if isinstance(manifest, dict) else None
    if not isinstance(hb_config, dict):
        logger.warning("%s has no HB_config; it is inferred from the results", path)
        return None
    hb_config = dict(hb_config)
    bad = [k for k, check in _HB_CONFIG_CHECKS.items() if hb_config.get(k) is not None and not check(hb_config[k])]
    if bad:
        logger.warning("%s: HB_config entries %s are not valid; left out", path, ", ".join(bad))
        for key in bad:
            del hb_config[key]
    return hb_config


_gc_lock = threading.Lock()  # guards _gc_pauses, _gc_was_enabled
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def paused_gc(long_lived: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a journal is read in bulk (re-entrant, thread-safe).

    Reading a large journal allocates millions of small, long-lived objects (the parsed lines and what is built
    from them) and no reference cycles; every allocation burst triggers collections that walk all of them again,
    which made up about 40 % of the time of a first read of 100,000 runs. Objects are still freed by reference
    counting meanwhile; the collector is switched back on when the last of the overlapping pauses ends (if it was
    on when the first began).

    Parameters
    ----------
    long_lived : bool
        What was built during the pause is kept for long (the dashboard's state of a journal): when the last pause
        ends, every tracked object is moved to the collector's oldest generation at once (``gc.freeze()`` then
        ``gc.unfreeze()``: a list splice), instead of being walked by a young collection and by a middle one
        first, which took about half a second per 100,000 runs. Cyclic garbage of other threads that was young
        then is collected by the next full collection instead of a young one. Not done while objects are frozen
        (:func:`gc.freeze`, e.g. by the dashboard), since unfreezing would move those back too.

    Examples
    --------
    >>> import gc
    >>> with paused_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                if long_lived and gc.get_freeze_count() == 0:  # unfreeze() would undo someone else's freeze()
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


class LineTail:
    """The complete lines appended to a file since the last :meth:`read`: a journal file being written.

    A line without its newline yet (the writer is in the middle of it) is left for the next read. When the file
    shrinks or is replaced (a new journal written over the old one), :attr:`restarted` is set and reading starts
    over from its beginning.

    Parameters
    ----------
    path : str

    Attributes
    ----------
    offset : int
        Bytes consumed so far (up to the end of the last complete line).
    bytes_read : int
        Bytes read from the file in total (what an update costs).
    restarted : bool
        Whether the last read found the file truncated or replaced.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "events.json")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write('{"a": 1}\\n{"b"')
    >>> tail = LineTail(path)
    >>> tail.read(), tail.read()
    ([(1, {'a': 1})], [])
    >>> with open(path, "a") as fh:
    ...     _ = fh.write(': 2}\\n')
    >>> tail.read()
    [(2, {'b': 2})]
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.line_number = 0
        self.bytes_read = 0
        self.restarted = False
        self._inode: int | None = None
        #: whether the last read went to the end of the file (False when ``max_bytes`` left lines for the next)
        self.at_end = True

    def read(self, max_bytes: int | None = None) -> list[tuple[int, Any]]:
        """``(line_number, value)`` of every complete line appended since the last read that parses as JSON
        (others are skipped with a warning, as the journal reader does); with ``max_bytes``, only the complete
        lines within the next ``max_bytes`` bytes (at least one line), the rest being left for the next read
        (see :attr:`at_end`)."""
        self.restarted = False
        self.at_end = True
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        except OSError as err:
            logger.warning("%s cannot be read (%s); it is skipped", self.path, err)
            return []
        if self._inode is not None and (stat.st_ino != self._inode or stat.st_size < self.offset):
            logger.info("%s was truncated or replaced: reading it again from the start", self.path)
            self.offset, self.line_number, self.restarted = 0, 0, True
        self._inode = stat.st_ino
        if stat.st_size <= self.offset:
            return []
        want = stat.st_size - self.offset
        if max_bytes is not None and max_bytes < want:
            want = max(int(max_bytes), 1)
            self.at_end = False
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read(want)
                while b"\n" not in data and self.offset + len(data) < stat.st_size:  # a line longer than asked
                    more = fh.read(max(len(data), 1 << 16))
                    if not more:
                        break
                    data += more
                if self.offset + len(data) >= stat.st_size:
                    self.at_end = True
        except OSError as err:
            logger.warning("%s cannot be read (%s); it is skipped", self.path, err)
            return []
        self.bytes_read += len(data)
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        if _orjson is not None:  # the usual lines, every one a JSON value: parsed as one array, lines not split
            n_lines = data.count(b"\n", 0, end + 1)
            try:
                values = _orjson.loads(b"[" + data[:end].replace(b"\n", b",") + b"]")
            except (ValueError, RecursionError):  # a blank or garbled line, NaN tokens: line by line below
                values = None
            if values is not None and len(values) == n_lines:  # a line of two values ("1, 2") would add one
                first = self.line_number + 1
                self.line_number += n_lines
                return list(zip(range(first, first + n_lines), values, strict=True))
        return list(self._parse(data[: end + 1].split(b"\n")[:-1]))

    def _parse(self, lines: list[bytes]) -> Iterator[tuple[int, Any]]:
        first = self.line_number + 1
        self.line_number += len(lines)
        kept = [(n, line) for n, line in enumerate(lines, start=first) if line.strip(b" \t\r")]
        batch = b"[" + b",".join(line for _, line in kept) + b"]"
        values = None
        if _orjson is not None:  # strict JSON only: HpBandSter's bare NaN tokens fall back to the json module
            try:
                values = _orjson.loads(batch)
            except (ValueError, RecursionError):
                values = None
        if values is None:
            try:  # one call for the whole batch: much faster than one per line
                values = json.loads(batch)
            except (ValueError, RecursionError):
                values = None
        if values is not None and len(values) == len(kept):
            yield from zip((n for n, _ in kept), values, strict=True)
            return
        for number, line in kept:  # a garbled line among them: find it
            try:
                yield number, json.loads(line.decode("utf-8"))
            except (ValueError, RecursionError) as err:
                reason = "not valid UTF-8" if isinstance(err, UnicodeDecodeError) else "not valid JSON"
                logger.warning("%s: skipping garbled line %d (%s): %.80r", self.path, number, reason, line)
