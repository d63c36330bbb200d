"""A journal read as it grows: what the dashboard serves and what the report shows.

:class:`LiveRun` keeps one journal's state in memory and, on each :meth:`~LiveRun.update`, reads only the lines
appended to ``configs.json``, ``results.json``, ``events.json`` and ``reports.json`` since the previous one
(:class:`~bandster.records.result.JournalReader`, :class:`~bandster.records.format.LineTail`). From them it keeps

- the status (:class:`~bandster.analysis.status.StatusBuilder`, the parts of ``bandster status``),
- the runs table (:class:`RunsTable`: one row per run, the user's ``info`` metrics as columns), with a version
  number per change so that a client asks only for the rows changed since the version it has,
- the :class:`~bandster.records.result.Result` of everything read, built on demand for the figures.

It only reads: it works on a run that is being written, on one that is finished, and on one written on another
machine into a shared directory.

Examples
--------
>>> import tempfile
>>> from bandster.records.journal import Journal
>>> directory = tempfile.mkdtemp()
>>> live = LiveRun(directory)
>>> with Journal(directory) as journal:
...     journal.new_config((0, 0, 0), {"x": 0.5}, {})
...     journal.event("run_started")
...     journal.event("run_finished")
...     journal.flush()
...     changed = live.update()
>>> live.version, live.status().state
(3, 'finished')
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import operator
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from bandster.analysis.status import RunStatus, StatusBuilder
from bandster.analysis.status_parts import RunRecord
from bandster.records.format import (
    CONFIGS_FILENAME,
    EVENTS_FILENAME,
    REPORTS_FILENAME,
    RESULTS_FILENAME,
    LineTail,
    ReportLine,
    journal_is_live,
    paused_gc,
    read_manifest,
)
from bandster.records.result import JournalReader, Result, flatten_info

__all__ = ["LiveRun", "RunsTable", "is_event", "row_filter", "shown"]

#: the fixed columns of the runs table, and how the page shows each (``time``: epoch seconds shown as a date)
FIXED_COLUMNS: list[tuple[str, str]] = [
    ("config_id", "text"), ("budget", "number"), ("loss", "number"), ("status", "text"), ("worker", "text"),
    ("submitted", "time"), ("started", "time"), ("finished", "time"), ("duration", "number"),
    ("attempt", "number"), ("model_based_pick", "text"),
]
_FIXED_NAMES = frozenset(name for name, _ in FIXED_COLUMNS)
_N_FIXED = len(FIXED_COLUMNS)


def is_event(value: Any) -> bool:
    """Whether a parsed ``events.json`` line is an event: a dict with a string ``event`` and a number ``time``."""
    return (isinstance(value, dict) and isinstance(value.get("event"), str)
            and isinstance(value.get("time"), int | float) and not isinstance(value.get("time"), bool))


def _cell(value: Any) -> Any:
    """A JSON-safe cell: non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    kind = type(value)
    if kind is float:
        return value if value - value == 0.0 else None  # NaN and infinities give NaN
    if kind is int:
        return float(value) if -1e308 < value < 1e308 else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def short_worker(name: Any) -> Any:
    """A worker's name without the ``bandster.run_<run_id>.worker.`` prefix."""
    marker = ".worker."
    return name.split(marker, 1)[1] if isinstance(name, str) and marker in name else name


#: the types of a cell kept as it is (numbers, strings, booleans, None)
_FLAT_TYPES = frozenset({float, int, str, bool, type(None)})


_second = operator.itemgetter(1)


def _sort_key(value: Any) -> tuple:
    """How the table sorts a non-empty cell: numbers, then config ids (lists, element by element), then text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, list | tuple):
        return (1, tuple(value))
    return (2, str(value))


def shown(value: Any, kind: str) -> str:
    """A cell as the page shows it (``runs_table.js``'s ``formatCell``): times as local dates, config ids as
    ``(0, 0, 1)``, floats to six significant digits."""
    if value is None:
        return ""
    if kind == "time" and isinstance(value, int | float) and not isinstance(value, bool):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
    if isinstance(value, list | tuple):
        return "(" + ", ".join(shown(v, "") for v in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        rounded = float(f"{value:.6g}") if math.isfinite(value) else value
        return str(int(rounded)) if rounded.is_integer() and abs(rounded) < 1e21 else repr(rounded)
    return str(value)


def row_filter(text: str, kind: str) -> Callable[[Any], bool]:
    """The test of a filter box of the runs table on a cell: text (contains, any case), ``>0.5``, ``<=3``,
    ``>=``, ``<``, ``=ok`` (equal: numerically for numbers) and ``!failed`` (does not contain).

    Examples
    --------
    >>> [row_filter(">0.5", "number")(v) for v in (0.7, 0.2, None, "x")]
    [True, False, False, False]
    >>> row_filter("fail", "text")("FAILED"), row_filter("!fail", "text")("ok")
    (True, True)
    """
    text = text.strip()
    match = re.match(r"^(<=|>=|<|>|=|!)\s*(.*)$", text, re.S)
    if match is None:
        needle = text.lower()
        return lambda value: needle in shown(value, kind).lower()
    op, operand = match.group(1), match.group(2)
    try:
        number = float(operand) if operand.strip() else None
    except ValueError:
        number = None
    if op == "!":
        needle = operand.lower()
        return lambda value: needle not in shown(value, kind).lower()

    def is_number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    if op == "=":
        return lambda value: (value == number if number is not None and is_number(value)
                              else shown(value, kind) == operand)
    if number is None:
        return lambda value: False
    compare = {"<": float.__lt__, ">": float.__gt__, "<=": float.__le__, ">=": float.__ge__}[op]
    return lambda value: is_number(value) and compare(float(value), number)


class RunsTable:
    """Every run of a journal as a row: configuration, budget, loss, status, worker, times and ``info`` metrics.

    Rows are tuples aligned with :attr:`columns` (``(name, kind)`` pairs; the list grows as new hyperparameters or
    metrics appear, and older rows are then shorter: a missing cell is empty), the config id a tuple too (tuples
    of plain values: the garbage collector stops looking at them); :meth:`query`, :meth:`row` and
    :meth:`changed_since` give them as lists, full width, the config id a list. A later result of the same
    configuration and budget replaces the row where it stands. Every change bumps :attr:`version`, and
    :meth:`changed_since` gives the rows changed after a version, so a page only fetches what is new.

    Examples
    --------
    >>> table = RunsTable()
    >>> table.add_config((0, 0, 0), {"x": 0.5}, {"model_based_pick": False})
    >>> row = table.add_run((0, 0, 0), 1.0, {"started": 10.0, "finished": 12.0}, {"loss": 0.3, "info": {"acc": 0.9}},
    ...                     None, {"worker": "w", "attempt": 1, "status": "ok"})
    >>> [name for name, _ in table.columns][-2:], row[2], row[-1], row is table.rows[0]
    (['x', 'info.acc'], 0.3, 0.9, True)
    """

    def __init__(self) -> None:
        self.columns: list[tuple[str, str]] = list(FIXED_COLUMNS)
        self._position: dict[str, int] = {name: i for i, (name, _) in enumerate(self.columns)}
        self.rows: list[tuple] = []
        self._row_of: dict[tuple, int] = {}
        self._configs: dict[tuple, tuple] = {}  # config id -> its cells after the fixed columns
        self._picks: dict[tuple, Any] = {}
        self._workers: dict[str, str] = {}
        self._changes: list[int] = []  # the row index of every change, in order: version = len(self._changes)
        self._order: tuple[tuple, list[int]] | None = None  # the last query's key and its rows, in order
        # the keys of a flat info dict -> their columns, and whether they follow each other
        self._info_columns: dict[tuple, tuple[list[int], bool]] = {}
        # the keys of a configuration -> their columns, and whether they follow the fixed ones in order
        self._config_columns: dict[tuple, tuple[list[int], bool]] = {}

    @property
    def version(self) -> int:
        return len(self._changes)

    def _worker(self, name: Any) -> Any:
        short = self._workers.get(name) if isinstance(name, str) else name
        if short is None and isinstance(name, str):
            short = self._workers[name] = short_worker(name)
        return short

    def _column(self, name: str, kind: str) -> int:
        index = self._position.get(name)
        if index is None:
            index = self._position[name] = len(self.columns)
            self.columns.append((name, kind))
        return index

    def _info_cells(self, info: Any) -> list[tuple[int, Any]]:
        """``(column, cell)`` of a run's ``info`` metrics (flattened: ``info.<key>`` columns)."""
        cells = [(self._column(name, "number" if _number(value) is not None else "text"), _cell(value))
                 for name, value in flatten_info(info).items()]
        if type(info) is dict and all(type(v) in _FLAT_TYPES for v in info.values()):
            columns = [i for i, _ in cells]
            self._info_columns[tuple(info)] = (columns, columns == list(range(columns[0], columns[0] + len(columns)))
                                               if columns else True)
        return cells

    def _add_info(self, row: list[Any], info: Any) -> None:
        """Put a run's ``info`` metrics in its row. The usual ``info``, a flat dict of numbers and strings with the
        keys of an earlier one, takes the columns found then (one lookup instead of a flattening), and, when they
        follow each other at the row's end, is appended."""
        known = self._info_columns.get(tuple(info)) if type(info) is dict else None
        if known is not None and all(type(v) in _FLAT_TYPES for v in info.values()):
            columns, contiguous = known
            values = [v if type(v) is not float or v - v == 0.0 else None for v in info.values()]  # NaN unless finite
            if not columns:
                return
            if contiguous and columns[0] == len(row):
                row += values
                return
            cells = list(zip(columns, values, strict=True))
        else:
            cells = self._info_cells(info)
            if not cells:
                return
        width = max(i for i, _ in cells) + 1
        if width > len(row):
            row.extend([None] * (width - len(row)))
        for i, value in cells:
            row[i] = value

    def add_config(self, config_id: tuple, config: Any, config_info: Any) -> None:
        keys = tuple(config) if type(config) is dict else ()
        known = self._config_columns.get(keys)  # configurations share their keys: columns found once
        if known is None:
            columns = []
            for name, value in (config.items() if isinstance(config, dict) else ()):
                column = f"config.{name}" if name in _FIXED_NAMES else name
                columns.append(self._column(column, "number" if _number(value) is not None else "text"))
            known = self._config_columns[keys] = (columns, columns == list(range(_N_FIXED, _N_FIXED + len(columns))))
        columns, usual = known
        values = [v if type(v) is not float or v - v == 0.0 else None for v in config.values()] if keys else []
        # the configuration's cells, computed once for all its runs: the row's part after the fixed columns
        if usual:  # right after the fixed columns, in order
            tail = values
        else:
            tail = [None] * (max(columns, default=_N_FIXED - 1) + 1 - _N_FIXED)
            for i, value in zip(columns, values, strict=True):
                tail[i - _N_FIXED] = value
        self._configs[config_id] = tuple(tail)  # a tuple: the garbage collector stops looking at it
        self._picks[config_id] = config_info.get("model_based_pick") if isinstance(config_info, dict) else None

    def add_run(self, config_id: tuple, budget: float, stamps: Any, result: Any, exception: Any,
                extras: Any, key: tuple | None = None) -> tuple:
        """Add a run (a later one of the same configuration and budget replaces its row); returns its row:
        the loss a finite float (None without one, the text of a non-finite one), the status ``ok``, ``failed``
        or ``stopped``, the time stamps finite floats or None. ``key``: ``(config_id, budget)`` when the caller
        has it (shared with its own structures, not made again)."""
        stamps = stamps if type(stamps) is dict else {}
        extras = extras if type(extras) is dict else {}
        loss = result.get("loss") if type(result) is dict else None
        finite = loss if type(loss) is float and loss - loss == 0.0 else _number(loss)
        status = extras.get("status")
        if status != "ok" and status != "failed" and status != "stopped":
            status = "ok" if finite is not None else "failed"
        submitted, started, finished = stamps.get("submitted"), stamps.get("started"), stamps.get("finished")
        started = started if type(started) is float else _number(started)
        finished = finished if type(finished) is float else _number(finished)
        worker = extras.get("worker")
        short = self._workers.get(worker) if type(worker) is str else None
        row: list[Any] = [
            config_id if type(config_id) is tuple else tuple(config_id), budget,
            finite if finite is not None else (None if loss is None else str(loss)),
            status, short if short is not None else self._worker(worker),
            submitted if type(submitted) is float else _number(submitted),
            started, finished, None if started is None or finished is None else round(
                0.0 if finished - started < 0.0 else finished - started, 6),
            extras.get("attempt", 1), self._picks.get(config_id),
        ]
        tail = self._configs.get(config_id)
        if tail:
            row += tail
        info = result.get("info") if type(result) is dict else None
        if info is not None:
            self._add_info(row, info)
        key = (config_id, budget) if key is None else key
        index = self._row_of.get(key)
        stored = tuple(row)
        if index is None:
            index = self._row_of[key] = len(self.rows)
            self.rows.append(stored)
        else:
            self.rows[index] = stored
        self._changes.append(index)
        return stored

    def _full(self, row: tuple) -> list[Any]:
        """A row as a list, full width, its config id a list."""
        return [list(row[0]), *row[1:], *([None] * (len(self.columns) - len(row)))]

    def row(self, config_id: tuple, budget: float) -> dict[str, Any]:
        """The row of a run as ``{column: value}`` (empty when there is no such run)."""
        index = self._row_of.get((tuple(config_id), float(budget)))
        if index is None:
            return {}
        return {name: value for (name, _), value in zip(self.columns, self._full(self.rows[index]), strict=True)}

    def changed_since(self, version: int) -> list[tuple[int, list]]:
        """``(row_index, row)`` of every row changed after ``version`` (all rows for 0), by row index, each row
        a list of full width."""
        if version <= 0:
            return [(i, self._full(row)) for i, row in enumerate(self.rows)]
        indices = sorted(set(self._changes[version:]))
        return [(i, self._full(self.rows[i])) for i in indices]

    def query(self, sort: str | None = "loss", descending: bool = False, filters: dict[str, str] | None = None,
              page: int = 0, size: int | None = 50) -> dict[str, Any]:
        """One page of the rows, sorted and filtered here (what the dashboard's table shows: a page of a
        100,000-run table is a few KiB, where every row is about 20 MiB of JSON).

        Parameters
        ----------
        sort : str, optional
            The column to sort by (an unknown one leaves the rows in journal order); empty cells always last.
        descending : bool
        filters : dict, optional
            ``{column: filter}``, the filters of the report's table: text (contains, any case), ``>0.5``,
            ``<=3``, ``=ok`` (equal), ``!failed`` (does not contain). Cells are matched as the page shows
            them (times as local dates of the server).
        page, size : int
            The page (from 0; past the last one gives the last) and its number of rows (None: all).

        Returns
        -------
        dict
            ``columns``, ``kinds``, ``version``, ``total`` (rows), ``matched`` (rows passing the filters),
            ``page``, ``size`` and ``rows`` (the page's rows, full width).

        Examples
        --------
        >>> table = RunsTable()
        >>> for k, loss in enumerate([0.5, 0.1, None]):
        ...     row = table.add_run((0, 0, k), 1.0, {}, None if loss is None else {"loss": loss, "info": None}, None,
        ...                         {})
        >>> answer = table.query(sort="loss", filters={"status": "=ok"})
        >>> answer["matched"], [row[0] for row in answer["rows"]]
        (2, [[0, 0, 1], [0, 0, 0]])
        """
        filters = {name: text for name, text in (filters or {}).items() if text and text.strip()}
        key = (self.version, len(self.columns), sort, bool(descending), tuple(sorted(filters.items())))
        cached = self._order
        if cached is not None and cached[0] == key:
            order = cached[1]
        else:
            order = self._ordered(sort, bool(descending), filters)
            self._order = (key, order)
        if size is None or size <= 0:
            page, chosen = 0, order
        else:
            pages = max((len(order) + size - 1) // size, 1)
            page = min(max(int(page), 0), pages - 1)
            chosen = order[page * size:(page + 1) * size]
        rows = [self._full(self.rows[i]) for i in chosen]
        return {"columns": [name for name, _ in self.columns], "kinds": [kind for _, kind in self.columns],
                "version": self.version, "total": len(self.rows), "matched": len(order), "page": page,
                "size": size, "rows": rows}

    def _ordered(self, sort: str | None, descending: bool, filters: dict[str, str]) -> list[int]:
        """The indices of the rows passing ``filters``, sorted by ``sort`` (empty cells last, ties in journal
        order)."""
        indices = list(range(len(self.rows)))
        for name, text in filters.items():
            column = self._position.get(name)
            if column is None:
                continue
            keep = row_filter(text, self.columns[column][1])
            rows = self.rows
            indices = [i for i in indices if keep(rows[i][column] if column < len(rows[i]) else None)]
        column = self._position.get(sort) if sort else None
        if column is None:
            return indices
        rows = self.rows
        cells = [(i, rows[i][column] if column < len(rows[i]) else None) for i in indices]
        # numbers, then config ids (element by element), then text (_sort_key's order), each group sorted on its
        # own with a plain key (no Python call per cell)
        numbers, ids, texts = [], [], []
        for pair in cells:
            kind = type(pair[1])
            if kind is float or kind is int:
                numbers.append(pair)
            elif pair[1] is not None:
                key = _sort_key(pair[1])
                (ids if key[0] == 1 else numbers if key[0] == 0 else texts).append((pair[0], key[1]))
        groups = [numbers, ids, texts]
        for group in groups:
            group.sort(key=_second, reverse=descending)
        if descending:
            groups.reverse()
        return [i for group in groups for i, _ in group] + [i for i, v in cells if v is None]

    def to_dict(self, since: int = 0) -> dict[str, Any]:
        """What the page gets: ``columns`` (names), ``kinds``, ``version``, ``total`` and ``rows`` (``[index, row]``
        pairs changed after ``since``)."""
        return {"columns": [name for name, _ in self.columns], "kinds": [kind for _, kind in self.columns],
                "version": self.version, "total": len(self.rows),
                "rows": [[i, row] for i, row in self.changed_since(since)]}


class LiveRun:
    """One journal, read incrementally; see the module's description.

    Parameters
    ----------
    directory : str or path-like
        The journal directory.

    Attributes
    ----------
    version : int
        Bumped by every line read that changed something; equal versions mean equal states.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = os.path.abspath(os.fspath(directory))
        self._lock = threading.RLock()  # guards everything below: update() and the readers of the state
        # readers waiting for the lock: a first read in parts lets them in between its parts (a lock is not fair:
        # the reading thread would take it again at once)
        self._waiting_cond = threading.Condition()  # guards _waiting
        self._waiting = 0
        self._loaded = threading.Event()  # set once the first update is done
        self._bytes_before = 0
        self._start()

    def _start(self) -> None:
        self.table = RunsTable()
        self._builder = StatusBuilder()
        self._configs: dict[tuple, dict] = {}
        self._ids: dict[tuple, tuple] = {}  # each config id as one tuple, that of its configuration's line
        if hasattr(self, "_reader"):
            self._bytes_before += self._reader.bytes_read + self._events.bytes_read
        self._reader = JournalReader(self.directory, on_config=self._on_config, on_run=self._on_run,
                                     on_report=self._on_report)
        self._events = LineTail(os.path.join(self.directory, EVENTS_FILENAME))
        self.version = 0
        self._result: tuple[int, Result] | None = None

    # --- reading ------------------------------------------------------------------------------------

    def _on_config(self, config_id: tuple, config: Any, config_info: Any) -> None:
        config_id = self._ids.setdefault(config_id, config_id)
        self._configs[config_id] = config
        self.table.add_config(config_id, config, config_info)
        self.version += 1

    def _on_run(self, config_id: tuple, budget: float, stamps: Any, result: Any, exception: Any,
                extras: Any) -> None:
        config_id = self._ids.get(config_id, config_id)  # the runs' rows and records share their config's id
        key = (config_id, budget)  # one key for the table and the status
        row = self.table.add_run(config_id, budget, stamps, result, exception, extras, key)
        # the status's record of the run from the row (its loss, status and time stamps checked there once)
        loss = row[2] if type(row[2]) is float else None
        stopped = row[3] == "stopped"
        worker = extras.get("worker") if type(extras) is dict else None
        self._builder.add_run(RunRecord(config_id, budget, row[3] == "ok" or (stopped and loss is not None), loss,
                                        row[5], row[6], row[7], worker if type(worker) is str else None, stopped,
                                        _number(extras.get("requested_budget")) if stopped else None), key)
        self.version += 1

    def _on_report(self, line: ReportLine) -> None:
        self._builder.add_report(line)
        self.version += 1

    @property
    def loaded(self) -> bool:
        """Whether the journal has been read once (the first read of a large journal takes a while)."""
        return self._loaded.is_set()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def journal_bytes(self) -> int:
        """The size of the journal's files now."""
        total = 0
        for name in (CONFIGS_FILENAME, RESULTS_FILENAME, EVENTS_FILENAME, REPORTS_FILENAME):
            try:
                total += os.path.getsize(os.path.join(self.directory, name))
            except OSError:
                pass
        return total

    def update(self, max_bytes: int | None = None) -> bool:
        """Read the lines appended since the last update; True when anything changed.

        With ``max_bytes``, read only a part of about that many bytes of each file (:attr:`at_end` says when
        all was read): the first read of a large journal in parts, the state of the part read so far being
        available between them (:attr:`loaded` is set once all was read)."""
        try:
            return self._update(max_bytes)
        finally:
            if max_bytes is None or self.at_end:
                self._loaded.set()

    @property
    def at_end(self) -> bool:
        """Whether the last update read everything there was."""
        return self._events.at_end and self._reader.at_end

    @contextlib.contextmanager
    def _reading_state(self) -> Iterator[None]:
        """The lock, for a reader of the state (counted as waiting meanwhile, see :meth:`_update`)."""
        with self._waiting_cond:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._waiting_cond:
                self._waiting -= 1
                self._waiting_cond.notify_all()
        try:
            yield
        finally:
            self._lock.release()

    def _update(self, max_bytes: int | None = None) -> bool:
        if max_bytes is not None:  # a part: the readers waiting for the state go first (at most a second)
            with self._waiting_cond:
                self._waiting_cond.wait_for(lambda: self._waiting == 0, timeout=1.0)
        # the first read's objects are the long-lived state: moved to the collector's oldest generation at once
        with self._lock, paused_gc(long_lived=not self._loaded.is_set()):
            before = self.version
            # events first: a result written meanwhile then has its dispatch (in parts, events come a little behind
            # the results: a run finished counts as finished, not in flight, whenever its dispatch is read)
            events = self._events.read(max_bytes)
            if self._events.restarted:
                self._start()
                return self._update(max_bytes) or True
            add_event = self._builder.add_event
            added = 0
            for _, event in events:  # in the journal's order: an event before the results read after it
                when = event.get("time") if type(event) is dict else None
                if ((type(when) is float or type(when) is int) and type(event.get("event")) is str) or is_event(event):
                    add_event(event)
                    added += 1
            self.version += added
            if self._reader.read(max_bytes):  # restarted: the journal was written over
                self._start()
                return self._update(max_bytes) or True
            return self.version != before

    @property
    def bytes_read(self) -> int:
        """Bytes read from the journal's files so far (every update adds only what was appended)."""
        return self._bytes_before + self._reader.bytes_read + self._events.bytes_read

    @property
    def n_runs(self) -> int:
        return len(self.table.rows)

    # --- what was read ------------------------------------------------------------------------------

    def manifest(self) -> dict:
        return read_manifest(self.directory) or {}

    def status(self, now: float | None = None, top: int = 10) -> RunStatus:
        """The run's status as ``bandster status`` reports it, from what was read so far."""
        with self._reading_state():
            hb = self._reader.hb_config()
            configs = self._configs
            return self._builder.status(self.directory, self.manifest(), hb, live=journal_is_live(self.directory),
                                        now=time.time() if now is None else float(now), top=top,
                                        config_of=lambda cid: dict(configs.get(cid) or {}))

    def result(self) -> Result:
        """The :class:`~bandster.records.result.Result` of everything read so far (built once per version)."""
        with self._reading_state():
            if self._result is None or self._result[0] != self.version:
                self._result = (self.version, self._reader.result())
            return self._result[1]

    def query_table(self, **query: Any) -> dict[str, Any]:
        """A page of the runs table as :meth:`RunsTable.query` gives it, from what was read so far."""
        with self._reading_state():
            return self.table.query(**query)

    def table_csv(self, **query: Any) -> str:
        """The rows :meth:`query_table` selects (all its pages) as CSV: times as dates, numbers in full."""
        query = dict(query, page=0, size=None)
        with self._reading_state():
            answer = self.table.query(**query)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(answer["columns"])
        kinds = answer["kinds"]
        for row in answer["rows"]:
            writer.writerow([repr(v) if type(v) is float and kinds[i] != "time" else
                             str(v) if type(v) is int and kinds[i] != "time" else shown(v, kinds[i])
                             for i, v in enumerate(row)])
        return out.getvalue()

    def running_jobs(self) -> dict[tuple, dict]:
        """``{(config_id, budget): dispatch event}`` of the jobs in flight."""
        with self._reading_state():
            return dict(self._builder.in_flight.jobs)

    def n_configs(self) -> int:
        """Configurations read so far, warm-start ones (iteration -1) left out."""
        with self._reading_state():
            return sum(1 for cid in self._configs if not (cid and cid[0] == -1))

    def configs(self) -> dict[tuple, Any]:
        """``{config_id: configuration}`` of every configuration read (a copy of the mapping; the configurations
        themselves are shared: do not change them)."""
        with self._reading_state():
            return dict(self._configs)

    def config(self, config_id: tuple) -> dict:
        with self._reading_state():
            return dict(self._configs.get(tuple(config_id)) or {})
