"""RunTable: the compact, column-wise store behind :class:`~bandster.records.result.Result`.

A Result kept as one :class:`~bandster.records.datum.Datum` per configuration, with four dicts per budget
(results, time stamps, exceptions, extras), takes about 2.7 KB of Python objects per run: 270 MB for 100,000
runs. Here a run is a row of numpy columns (configuration, budget, the three time stamps, the loss) with its
``info`` in a list; what is rare (errors, results or time stamps of an unusual shape) is kept in dicts keyed by
row, and the few distinct ``extras`` dicts (worker, attempt, status) and ``config_info`` dicts are stored once.
Read back from a 100,000-run journal, the whole Result takes about 0.8 KB per run (76 MiB), most of it the
configurations themselves (one dict each).

Rows are unique per (configuration, budget): a later run on the same budget replaces the earlier one, as a
later line of a journal does. They are ordered by configuration, then budget, so the runs of configuration
``i`` are the rows ``starts[i]:starts[i + 1]``. Time stamps are stored relative to the Result's ``time_ref``.

The table is filled once, by :class:`RunTableBuilder`, and read only afterwards; every dict it hands out
(configuration, result, time stamps, extras, Datum) is a new one, so a caller that changes it cannot change the
table (``info`` values are handed out as they are, as HpBandSter did).
"""

from __future__ import annotations

import math
import numbers
from array import array
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss
from bandster.records.datum import Datum
from bandster.records.format import is_usual_result

__all__ = ["DeferredRunTableBuilder", "RunTable", "RunTableBuilder", "copy_dict"]

#: the time stamps a run usually has, each a column of the table
STAMP_KEYS = ("submitted", "started", "finished")
_NO_RESULT, _USUAL_RESULT, _OTHER_RESULT = 0, 1, 2
_PLAIN_TYPE_SET = frozenset((str, int, bool, type(None)))
_STR_TYPE_SET = frozenset((str,))
_STAMP_KEY_SET = frozenset(STAMP_KEYS)


def _sharing_key(value: Any) -> Hashable | None:
    """A key under which equal small dicts of plain values (str, int, bool, None) can share one stored copy;
    None for anything else (floats are left out: ``-0.0 == 0.0``, and ``NaN`` equals nothing)."""
    if type(value) is not dict:
        return None
    types = tuple(map(type, value.values()))  # part of the key: 1 == True, but they are not the same value
    if not _PLAIN_TYPE_SET.issuperset(types) or not _STR_TYPE_SET.issuperset(map(type, value)):
        return None
    return tuple(value.items()), types


def copy_dict(value: Any) -> Any:
    """A fresh dict for a mapping (so that callers cannot change what is stored, nor the table what they hold),
    other values as they are."""
    return dict(value) if isinstance(value, Mapping) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class RunTableBuilder:
    """Collects configurations and runs, then :meth:`finish` turns them into a :class:`RunTable`.

    Examples
    --------
    >>> builder = RunTableBuilder()
    >>> i = builder.add_config((0, 0, 0), {"x": 0.5}, {"model_based_pick": False})
    >>> builder.add_run(i, 1.0, {"submitted": 10.0, "finished": 11.0}, {"loss": 0.3, "info": None}, None,
    ...                 {"worker": "w0", "attempt": 1, "status": "ok"})
    >>> builder.add_run(i, 1.0, {"submitted": 12.0, "finished": 13.0}, {"loss": 0.2, "info": None}, None, None)
    >>> table = builder.finish(time_ref=10.0)
    >>> len(table), table.result_at(0), table.stamps_at(0), table.extras_at(0)
    (1, {'loss': 0.2, 'info': None}, {'submitted': 2.0, 'finished': 3.0}, None)
    """

    def __init__(self) -> None:
        self._index: dict[tuple, int] = {}
        self._config_ids: list[tuple] = []
        self._configs: list[Any] = []
        self._config_infos: list[Any] = []
        self._statuses: list[Any] = []
        self._datum_budgets: list[Any] = []
        self._shared: dict[Hashable, Any] = {}  # equal config_info and extras dicts, stored once
        self._row_config = array("q")
        self._budget = array("d")
        self._stamps = tuple(array("d") for _ in STAMP_KEYS)
        self._loss = array("d")
        self._kind = array("b")
        self._info: list[Any] = []
        self._other_results: dict[int, Any] = {}
        self._other_stamps: dict[int, Any] = {}
        self._exceptions: dict[int, Any] = {}
        self._extras = array("q")
        self._extras_values: list[Any] = []
        self._extras_index: dict[Hashable, int] = {}

    def index_of(self, config_id: tuple) -> int | None:
        """The index of configuration ``config_id``; None if it has not been added."""
        return self._index.get(config_id)

    def _share(self, value: Any) -> Any:
        key = _sharing_key(value)
        return value if key is None else self._shared.setdefault(key, value)

    def add_config(
        self, config_id: tuple, config: Any, config_info: Any, status: Any = "QUEUED", budget: Any = None
    ) -> int:
        """Add a configuration, or replace the one with this id where it stands; return its index.

        ``budget`` is the Datum's ``budget``; None: the largest budget of its runs (0 without runs).
        """
        config_info = self._share(config_info)
        index = self._index.get(config_id)
        if index is None:
            index = self._index[config_id] = len(self._config_ids)
            self._config_ids.append(config_id)
            self._configs.append(config)
            self._config_infos.append(config_info)
            self._statuses.append(status)
            self._datum_budgets.append(budget)
        else:
            self._configs[index] = config
            self._config_infos[index] = config_info
            self._statuses[index] = status
            self._datum_budgets[index] = budget
        return index

    def add_run(self, config: int, budget: float, stamps: Any, result: Any, exception: Any, extras: Any) -> None:
        """Add the run of configuration index ``config`` on ``budget`` (a later one on the same budget wins).

        ``stamps`` is the dict of time stamps (absolute), ``result`` the worker's result dict (or None),
        ``extras`` bandster's ``{'worker', 'attempt', 'status'}`` (or None when unknown).
        """
        if not _is_number(budget):
            raise ValueError(f"the budget of a run must be a number, not {budget!r}")
        row = len(self._budget)
        self._row_config.append(config)
        self._budget.append(float(budget))
        if (
            type(stamps) is dict
            and stamps.keys() <= _STAMP_KEY_SET
            and all(type(v) is float and math.isfinite(v) for v in stamps.values())
        ):
            for key, column in zip(STAMP_KEYS, self._stamps, strict=True):
                column.append(stamps.get(key, math.nan))
        else:  # unusual keys or values: kept as they are
            for column in self._stamps:
                column.append(math.nan)
            self._other_stamps[row] = stamps
        if is_usual_result(result):
            self._kind.append(_USUAL_RESULT)
            self._loss.append(result["loss"])
            self._info.append(result["info"])
        else:
            self._kind.append(_NO_RESULT if result is None else _OTHER_RESULT)
            self._loss.append(math.nan)
            self._info.append(None)
            if result is not None:
                self._other_results[row] = result
        if exception is not None:
            self._exceptions[row] = exception
        self._extras.append(self._extras_slot(extras))

    def _extras_slot(self, extras: Any) -> int:
        if extras is None:
            return -1
        key = _sharing_key(extras)
        if key is not None and key in self._extras_index:
            return self._extras_index[key]
        self._extras_values.append(extras)
        if key is not None:
            self._extras_index[key] = len(self._extras_values) - 1
        return len(self._extras_values) - 1

    def finish(self, time_ref: float = 0.0, order_by_iteration: bool = False) -> RunTable:
        """The table: duplicate (configuration, budget) runs resolved (the last wins), time stamps made
        relative to ``time_ref``, configurations ordered by iteration (stable) if asked."""
        n_configs = len(self._config_ids)
        row_config = np.frombuffer(self._row_config, dtype=np.int64) if len(self._row_config) else np.zeros(0, np.int64)
        budget = np.array(self._budget, dtype=float)
        rows = np.arange(len(budget))
        # the last run of every (configuration, budget)
        order = np.lexsort((rows, budget, row_config))
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (row_config[order][1:] != row_config[order][:-1]) | (budget[order][1:] != budget[order][:-1])
        kept = order[last]
        # configurations in their final order, and the rows by (configuration, budget)
        config_order = list(range(n_configs))
        if order_by_iteration:
            config_order.sort(key=lambda i: self._config_ids[i][0])
        position = np.empty(n_configs, dtype=np.int64)
        position[config_order] = np.arange(n_configs)
        new_config = position[row_config[kept]] if len(kept) else np.zeros(0, np.int64)
        final = kept[np.lexsort((budget[kept], new_config))]
        new_config = position[row_config[final]] if len(final) else np.zeros(0, np.int64)
        new_row = {int(old): new for new, old in enumerate(final.tolist())}

        def remap(sparse: dict[int, Any]) -> dict[int, Any]:
            return {new_row[old]: value for old, value in sparse.items() if old in new_row}

        stamps = np.column_stack([np.array(column, dtype=float) for column in self._stamps]) if len(final) else None
        table = RunTable.__new__(RunTable)
        table.config_ids = [self._config_ids[i] for i in config_order]
        table.configs = [self._configs[i] for i in config_order]
        table.config_infos = [self._config_infos[i] for i in config_order]
        table.statuses = [self._statuses[i] for i in config_order]
        table.starts = np.searchsorted(new_config, np.arange(n_configs + 1)).astype(np.int64)
        table.row_config = new_config.astype(np.int64)
        table.budget = budget[final]
        table.stamps = (stamps[final] - time_ref) if stamps is not None else np.zeros((0, len(STAMP_KEYS)))
        table.loss = np.array(self._loss, dtype=float)[final]
        table.kind = np.array(self._kind, dtype=np.int8)[final]
        table.info = [self._info[i] for i in final.tolist()]
        table.other_results = remap(self._other_results)
        table.other_stamps = {row: _shift(value, time_ref) for row, value in remap(self._other_stamps).items()}
        table.exceptions = remap(self._exceptions)
        table.extras = np.array(self._extras, dtype=np.int64)[final]
        table.extras_values = list(self._extras_values)
        budgets = []
        for position_, i in enumerate(config_order):
            given = self._datum_budgets[i]
            if given is None:  # the largest budget of its runs, as the journal reader always did
                start, end = table.starts[position_], table.starts[position_ + 1]
                given = max([0, *table.budget[start:end].tolist()])
            budgets.append(given)
        table.datum_budgets = budgets
        table._lookup = None
        return table


#: a deferred run's result kept whole (not the usual ``{"loss": float, "info": ...}``)
_WHOLE_RESULT = object()
#: the slots of a deferred call
_CALL_WIDTH = 7


class DeferredRunTableBuilder:
    """A :class:`RunTableBuilder` filled only when it is needed: :meth:`add_config` and :meth:`add_run` are
    recorded (with the indices the builder would give) and replayed, in their order, by :meth:`built`.

    A journal read as it grows (the dashboard's) needs the Result, hence the builder, only for its figures;
    recording a run costs a tenth of storing it column-wise, and a journal whose figures are never asked for
    never pays for them. Each :meth:`built` replays only what was added since the previous one. The calls are
    kept in one flat list, the usual result as its loss and ``info``: no object per call for the garbage
    collector to go through again and again while a large journal is read.

    Examples
    --------
    >>> deferred = DeferredRunTableBuilder()
    >>> i = deferred.add_config((0, 0, 0), {"x": 0.5}, {})
    >>> deferred.add_run(i, 1.0, {"finished": 11.0}, {"loss": 0.3, "info": None}, None, None)
    >>> deferred.pending, deferred.index_of((0, 0, 0))
    (2, 0)
    >>> builder = deferred.built()
    >>> deferred.pending, len(builder.finish(time_ref=10.0))
    (0, 1)
    """

    def __init__(self) -> None:
        self._builder = RunTableBuilder()
        self._index: dict[tuple, int] = {}  # what the builder's will be once the calls are replayed
        # _CALL_WIDTH slots per call: None, config_id, config, config_info, status, budget, None for add_config;
        # index, budget, stamps, loss (or _WHOLE_RESULT), info (or the whole result), exception, extras for add_run
        self._calls: list[Any] = []

    @property
    def pending(self) -> int:
        """Calls recorded and not replayed yet."""
        return len(self._calls) // _CALL_WIDTH

    def index_of(self, config_id: tuple) -> int | None:
        """As :meth:`RunTableBuilder.index_of` (the calls recorded included)."""
        return self._index.get(config_id)

    def add_config(
        self, config_id: tuple, config: Any, config_info: Any, status: Any = "QUEUED", budget: Any = None
    ) -> int:
        """As :meth:`RunTableBuilder.add_config`: recorded; returns the index the builder gives it."""
        self._calls += (None, config_id, config, config_info, status, budget, None)
        index = self._index.get(config_id)
        if index is None:
            index = self._index[config_id] = len(self._index)
        return index

    def add_run(self, config: int, budget: float, stamps: Any, result: Any, exception: Any, extras: Any) -> None:
        """As :meth:`RunTableBuilder.add_run`: recorded (a budget that is not a number is refused at once)."""
        if type(budget) is not float and not _is_number(budget):
            raise ValueError(f"the budget of a run must be a number, not {budget!r}")
        if is_usual_result(result):
            self._calls += (config, budget, stamps, result["loss"], result["info"], exception, extras)
        else:
            self._calls += (config, budget, stamps, _WHOLE_RESULT, result, exception, extras)

    def built(self) -> RunTableBuilder:
        """The builder, with every call recorded so far replayed into it."""
        calls, self._calls = self._calls, []
        builder = self._builder
        add_config, add_run = builder.add_config, builder.add_run
        for k in range(0, len(calls), _CALL_WIDTH):
            index, first, second, third, fourth, fifth, sixth = calls[k:k + _CALL_WIDTH]
            if index is None:
                add_config(first, second, third, fourth, fifth)
            else:
                add_run(index, first, second, fourth if third is _WHOLE_RESULT else {"loss": third, "info": fourth},
                        fifth, sixth)
        return builder


def _shift(stamps: Any, time_ref: float) -> Any:
    """Time stamps made relative to ``time_ref`` (the numbers in them; anything else as it is)."""
    if not isinstance(stamps, Mapping):
        return stamps
    return {key: value - time_ref if _is_number(value) else value for key, value in stamps.items()}


class RunTable:
    """Configurations and their runs, column-wise; built by :class:`RunTableBuilder`, read-only after.

    Attributes
    ----------
    config_ids, configs, config_infos, statuses, datum_budgets : list
        One entry per configuration, in the Result's order.
    starts : numpy.ndarray
        The runs of configuration ``i`` are the rows ``starts[i]:starts[i + 1]``, sorted by budget.
    row_config, budget, loss, kind, extras : numpy.ndarray
        One entry per run: its configuration's index, budget, loss (when ``kind`` is the usual
        ``{'loss': float, 'info': ...}``), the kind of its result, and the index of its extras (-1: none).
    stamps : numpy.ndarray
        ``(runs, 3)``: submitted, started, finished; NaN where the run has no such stamp.
    info : list
        Each run's ``info``.
    other_results, other_stamps, exceptions : dict
        ``{row: value}`` for rows whose result or stamps are unusual, and for errors.
    extras_values : list
        The distinct extras dicts.

    Examples
    --------
    >>> builder = RunTableBuilder()
    >>> i = builder.add_config((0, 0, 0), {"x": 0.5}, {})
    >>> builder.add_run(i, 3.0, {"finished": 5.0}, {"loss": 0.1, "info": None}, None, None)
    >>> builder.add_run(i, 1.0, {"finished": 2.0}, {"loss": 0.4, "info": None}, None, None)
    >>> table = builder.finish()
    >>> list(table.rows_of(table.index((0, 0, 0)))), table.budget.tolist(), table.datum(0).results[3.0]
    ([0, 1], [1.0, 3.0], {'loss': 0.1, 'info': None})
    """

    config_ids: list[tuple]
    configs: list[Any]
    config_infos: list[Any]
    statuses: list[Any]
    datum_budgets: list[Any]
    starts: np.ndarray
    row_config: np.ndarray
    budget: np.ndarray
    stamps: np.ndarray
    loss: np.ndarray
    kind: np.ndarray
    info: list[Any]
    other_results: dict[int, Any]
    other_stamps: dict[int, Any]
    exceptions: dict[int, Any]
    extras: np.ndarray
    extras_values: list[Any]
    _lookup: dict[tuple, int] | None

    def __len__(self) -> int:
        return len(self.budget)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lookup"] = None  # rebuilt when needed
        return state

    @property
    def num_configs(self) -> int:
        return len(self.config_ids)

    def index(self, config_id: tuple) -> int:
        """The index of a configuration; KeyError if the table has none with this id."""
        if self._lookup is None:
            self._lookup = {cid: i for i, cid in enumerate(self.config_ids)}
        return self._lookup[config_id]

    def rows_of(self, config: int) -> range:
        """The rows of configuration index ``config``, by budget."""
        return range(int(self.starts[config]), int(self.starts[config + 1]))

    # --- one row ------------------------------------------------------------------------------------
    def result_at(self, row: int) -> Any:
        """The run's result: ``{'loss': ..., 'info': ...}`` (a new dict), or what else it was (None: none)."""
        kind = self.kind[row]
        if kind == _USUAL_RESULT:
            return {"loss": float(self.loss[row]), "info": self.info[row]}
        return copy_dict(self.other_results.get(row)) if kind == _OTHER_RESULT else None

    def stamps_at(self, row: int) -> Any:
        """The run's time stamps, relative to the table's ``time_ref`` (a new dict)."""
        if row in self.other_stamps:
            return copy_dict(self.other_stamps[row])
        return {key: float(v) for key, v in zip(STAMP_KEYS, self.stamps[row], strict=True) if not math.isnan(v)}

    def extras_at(self, row: int) -> Any:
        """The run's extras (a new dict), or None when they are not known."""
        slot = int(self.extras[row])
        return None if slot < 0 else copy_dict(self.extras_values[slot])

    def datum(self, config: int) -> Datum:
        """Configuration ``config`` as a :class:`~bandster.records.datum.Datum` (a new one; changing it
        changes nothing here), its per-budget dicts ordered by budget."""
        datum = Datum(
            config=copy_dict(self.configs[config]),
            config_info=copy_dict(self.config_infos[config]),
            status=self.statuses[config],
            budget=self.datum_budgets[config],
        )
        for row in self.rows_of(config):
            budget = float(self.budget[row])
            datum.results[budget] = self.result_at(row)
            datum.time_stamps[budget] = self.stamps_at(row)
            datum.exceptions[budget] = self.exceptions.get(row)
            extras = self.extras_at(row)
            if extras is not None:
                datum.extras[budget] = extras
        return datum

    # --- many rows at once --------------------------------------------------------------------------
    def run_fields(self, rows: Iterable[int]) -> list[tuple]:
        """``(config_id, budget, loss, info, stamps, exception, extras)`` for each of ``rows``, in their order.

        ``loss`` and ``info`` are None when the result is missing or not a dict; ``extras`` is a dict
        (empty when unknown)."""
        rows = np.fromiter(rows, dtype=np.int64) if not isinstance(rows, np.ndarray) else rows
        budgets = self.budget[rows].tolist()
        losses = self.loss[rows].tolist()
        kinds = self.kind[rows].tolist()
        configs = self.row_config[rows].tolist()
        stamps = self.stamps[rows].tolist()
        slots = self.extras[rows].tolist()
        out = []
        for row, budget, loss, kind, config, stamp, slot in zip(
            rows.tolist(), budgets, losses, kinds, configs, stamps, slots, strict=True
        ):
            if kind == _USUAL_RESULT:
                info = self.info[row]
            else:
                result = self.other_results.get(row)
                loss, info = (result.get("loss"), result.get("info")) if isinstance(result, Mapping) else (None, None)
            if row in self.other_stamps:
                when = copy_dict(self.other_stamps[row])
            else:
                when = {key: v for key, v in zip(STAMP_KEYS, stamp, strict=True) if v == v}  # v == v: not NaN
            extras = self.extras_values[slot] if slot >= 0 else None
            extras = dict(extras) if isinstance(extras, Mapping) else {}
            out.append((self.config_ids[config], budget, loss, info, when, self.exceptions.get(row), extras))
        return out

    def ranking_losses(self) -> np.ndarray:
        """Each run's loss as a float where it is a finite number, NaN where it is not (failures)."""
        losses = np.where((self.kind == _USUAL_RESULT) & np.isfinite(self.loss), self.loss, np.nan)
        for row, result in self.other_results.items():
            if isinstance(result, Mapping) and is_finite_loss(result.get("loss")):
                losses[row] = float(result["loss"])
        return losses

    def finish_order(self, rows: np.ndarray | None = None) -> np.ndarray:
        """``rows`` (default: all) ordered by their ``finished`` stamp; runs without one last, in their order."""
        rows = np.arange(len(self)) if rows is None else rows
        finished = self.stamps[rows, STAMP_KEYS.index("finished")] if len(self) else np.zeros(0)
        finished = finished.copy()
        if self.other_stamps:  # rare: stamps of an unusual shape
            for position, row in enumerate(rows.tolist()):
                if row in self.other_stamps:
                    stamps = self.other_stamps[row]
                    value = stamps.get("finished") if isinstance(stamps, Mapping) else None
                    finished[position] = float(value) if _is_number(value) else math.nan
        absent = np.isnan(finished)
        return rows[np.lexsort((np.where(absent, 0.0, finished), absent))]
