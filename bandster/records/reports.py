"""The intermediate reports of a run, as a :class:`~bandster.records.result.Result` keeps them.

Every report a running job made (``Worker.report(step, loss)``) and the runner accepted is a line of the journal's
``reports.json`` (:func:`bandster.records.format.read_reports`). A :class:`ReportTable` holds them column-wise
(about 60 bytes per report plus its ``info``), in the journal's order, which is the order in which the runner took
them and the scheduler decided; :class:`Report` is one of them as :meth:`Result.get_reports
<bandster.records.result.Result.get_reports>` hands it out.

Examples
--------
>>> from bandster.records.format import ReportLine
>>> table = ReportTable.from_lines([ReportLine((0, 0, 1), 9.0, 1, 1.0, 0.8, 101.0, None, "continue"),
...                                 ReportLine((0, 0, 1), 9.0, 1, 3.0, 0.6, 103.0, {"acc": 0.7}, "stop")],
...                                time_ref=100.0)
>>> [(r.step, r.loss, r.time, r.decision) for r in table.reports()]
[(1.0, 0.8, 1.0, 'continue'), (3.0, 0.6, 3.0, 'stop')]
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from bandster.records.format import DECISIONS, ReportLine

__all__ = ["Report", "ReportTable"]


class Report(NamedTuple):
    """One intermediate report of a running job.

    Attributes
    ----------
    config_id : tuple
    budget : float
        The budget the job was handed (a stopping scheduler hands every job ``max_budget``).
    step : float
        The step the job had reached (budget units: epochs, iterations, ...).
    loss : float
        The value reported (NaN and infinities as reported).
    time : float
        When the master took the report, in seconds after the run's ``time_ref`` (the time stamps' clock).
    info : object
        What the job reported with it (None or a dict).
    attempt : int or None
        The attempt of the job that reported (more than 1 after its worker was lost); None when not recorded.
    decision : str or None
        The scheduler's answer: ``'continue'``, ``'stop'`` or ``'pause'``.
    """

    config_id: tuple
    budget: float
    step: float
    loss: float
    time: float
    info: Any
    attempt: int | None
    decision: str | None


class ReportTable:
    """The reports of a run, column-wise, in journal order; read-only once built (:meth:`from_lines`).

    Attributes
    ----------
    config_ids : list of tuple
        Each report's config id (equal ids share one tuple).
    budget, step, loss, time : numpy.ndarray
        Floats; ``time`` relative to the Result's ``time_ref``.
    attempt : numpy.ndarray
        Integers, -1 where unknown.
    decision : numpy.ndarray
        The index of the decision in :data:`~bandster.records.format.DECISIONS`, -1 where unknown.
    info : list
    """

    def __init__(self) -> None:
        self.config_ids: list[tuple] = []
        self.budget = np.zeros(0)
        self.step = np.zeros(0)
        self.loss = np.zeros(0)
        self.time = np.zeros(0)
        self.attempt = np.zeros(0, dtype=np.int64)
        self.decision = np.zeros(0, dtype=np.int8)
        self.info: list[Any] = []
        self._by_config: dict[tuple, list[int]] | None = None

    @classmethod
    def from_lines(cls, lines: Iterable[ReportLine], time_ref: float = 0.0) -> ReportTable:
        """The table of ``reports.json``'s lines (absolute times; made relative to ``time_ref``)."""
        table = cls()
        ids: dict[tuple, tuple] = {}
        columns = {name: array("d") for name in ("budget", "step", "loss", "time")}
        attempts, decisions = array("q"), array("b")
        for line in lines:
            table.config_ids.append(ids.setdefault(line.config_id, line.config_id))
            columns["budget"].append(line.budget)
            columns["step"].append(line.step)
            columns["loss"].append(line.loss)
            columns["time"].append(line.time - time_ref)
            attempts.append(-1 if line.attempt is None else line.attempt)
            decisions.append(DECISIONS.index(line.decision) if line.decision in DECISIONS else -1)
            table.info.append(line.info)
        for name, column in columns.items():
            setattr(table, name, np.array(column, dtype=float))
        table.attempt = np.array(attempts, dtype=np.int64)
        table.decision = np.array(decisions, dtype=np.int8)
        return table

    def __len__(self) -> int:
        return len(self.config_ids)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_by_config"] = None  # rebuilt when needed
        return state

    def rows_of(self, config_id: tuple) -> list[int]:
        """The rows of one configuration's reports, in journal order."""
        if self._by_config is None:
            by_config: dict[tuple, list[int]] = {}
            for row, cid in enumerate(self.config_ids):
                by_config.setdefault(cid, []).append(row)
            self._by_config = by_config
        return self._by_config.get(tuple(config_id), [])

    def reports(self, rows: Iterable[int] | None = None) -> list[Report]:
        """The reports of ``rows`` (default: all), as :class:`Report` tuples."""
        rows = range(len(self)) if rows is None else rows
        out = []
        for row in rows:
            attempt = int(self.attempt[row])
            decision = int(self.decision[row])
            out.append(Report(self.config_ids[row], float(self.budget[row]), float(self.step[row]),
                              float(self.loss[row]), float(self.time[row]), self.info[row],
                              attempt if attempt >= 0 else None, DECISIONS[decision] if decision >= 0 else None))
        return out
