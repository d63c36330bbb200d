"""What a run produced: :class:`Run`, :class:`Result`, and reading a run journal back.

``Result`` keeps HpBandSter's method names and return shapes, with its known bugs fixed:
``get_incumbent_trajectory(all_budgets=False)`` works, NaN/inf losses never become incumbents,
``get_all_runs`` is ordered by finish time, ``get_fANOVA_data`` leaves its argument alone,
``get_pandas_dataframe`` honours ``loss_fn``, and :func:`logged_results_to_HBS_result` survives torn lines
and results for unknown config ids.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss, to_builtin
from bandster.records import lineage
from bandster.records.datum import Datum
from bandster.records.format import (
    CONFIGS_FILENAME,
    REPORTS_FILENAME,
    RESULTS_FILENAME,
    LineTail,
    ReportLine,
    as_id,
    is_float,
    paused_gc,
    read_configs,
    read_hb_config,
    read_reports,
    read_results,
    replace_nonfinite,
)
from bandster.records.journal import json_result_logger  # re-exported: HpBandSter users import it from here
from bandster.records.reports import Report, ReportTable
from bandster.records.run_table import DeferredRunTableBuilder, RunTable, RunTableBuilder, copy_dict

logger = logging.getLogger(__name__)

__all__ = [
    "Run",
    "Result",
    "Report",
    "extract_HBS_learning_curves",
    "logged_results_to_HBS_result",
    "json_result_logger",
    "JournalReader",
    "flatten_info",
]

_TIME_KEYS = ("submitted", "started", "finished")


def _canonical(value: Any) -> Any:
    """``value`` as it reads back from the journal: builtins, lists for tuples, non-finite floats as strings."""
    return replace_nonfinite(to_builtin(value, path="compared value"))


def _same_loss(a: Any, b: Any) -> bool:
    """Loss equality in which NaN equals NaN."""
    if a is None or b is None:
        return a is None and b is None
    try:
        if math.isnan(a) and math.isnan(b):
            return True
    except TypeError:
        pass
    return bool(a == b)


def _finished(run: Run) -> float | None:
    stamp = run.time_stamps.get("finished") if isinstance(run.time_stamps, Mapping) else None
    return stamp if isinstance(stamp, int | float) and not isinstance(stamp, bool) else None


class Run:
    """One evaluation of one configuration on one budget.

    Parameters
    ----------
    config_id : tuple
        ``(iteration, stage_sampled, n)``.
    budget : float
        The budget it ran on.
    loss : float or None
        The loss; None when the evaluation failed without one. NaN or inf losses are kept as they are.
    info : object
        What the worker returned as ``info`` (None on failure).
    time_stamps : dict
        ``submitted``, ``started``, ``finished`` (relative to the run's ``time_ref`` in a :class:`Result`).
    error_logs : str or None
        The traceback of a failed evaluation.
    worker_name : str, optional
        The worker that ran it.
    attempt : int
        1 for the first try, more when the job was re-queued after its worker died.
    status : {'ok', 'failed', 'stopped'}, optional
        Derived when not given: ``'stopped'`` with ``stopped_at``, else ``'ok'`` for a finite loss, else
        ``'failed'``.
    stopped_at : float, optional
        The step at which the scheduler stopped the job at an intermediate report (a stopping scheduler such as
        ``ASHA(type="stopping")``); None for a run that was not stopped. A stopped run's ``budget`` is the budget
        it consumed, ``min(stopped_at, the budget it was handed)``, and its loss the last one it reported or
        returned.
    requested_budget : float, optional
        The budget a stopped run's job was handed (None for a run that was not stopped: its ``budget``).

    Examples
    --------
    >>> r = Run((0, 0, 0), 1.0, 0.5, {}, {"finished": 2.0}, None)
    >>> r["loss"], r.status
    (0.5, 'ok')
    >>> Run((0, 0, 1), 3.0, 0.7, {}, {}, None, stopped_at=3.0).status
    'stopped'
    """

    #: for Runs pickled before bandster recorded stopped runs
    stopped_at: float | None = None
    requested_budget: float | None = None

    def __init__(
        self,
        config_id: tuple,
        budget: float,
        loss: float | None,
        info: Any,
        time_stamps: dict | None,
        error_logs: str | None,
        worker_name: str | None = None,
        attempt: int = 1,
        status: str | None = None,
        stopped_at: float | None = None,
        requested_budget: float | None = None,
    ) -> None:
        self.config_id = config_id
        self.budget = budget
        self.loss = loss
        self.info = info
        self.time_stamps = time_stamps if time_stamps is not None else {}
        self.error_logs = error_logs
        self.worker_name = worker_name
        self.attempt = attempt
        self.stopped_at = stopped_at
        self.requested_budget = requested_budget
        if status is None:
            status = "stopped" if stopped_at is not None else ("ok" if is_finite_loss(loss) else "failed")
        self.status = status

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        return (
            tuple(self.config_id) == tuple(other.config_id)
            and self.budget == other.budget
            and _same_loss(self.loss, other.loss)
            and self.time_stamps == other.time_stamps
            and self.error_logs == other.error_logs
            and self.worker_name == other.worker_name
            and self.attempt == other.attempt
            and self.status == other.status
            and self.stopped_at == other.stopped_at
            and self.requested_budget == other.requested_budget
            and _canonical(self.info) == _canonical(other.info)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        stamps = self.time_stamps if isinstance(self.time_stamps, Mapping) else {}
        when = ", ".join(f"{key}={stamps.get(key, '?')}" for key in _TIME_KEYS)
        text = (
            f"Run(config_id={self.config_id}, budget={self.budget}, loss={self.loss}, status={self.status}, "
            f"{when}, worker={self.worker_name}, attempt={self.attempt}, info={self.info!r}"
        )
        if self.stopped_at is not None:
            text += f", stopped_at={self.stopped_at}"
        if self.error_logs:
            text += f", error_logs={self.error_logs!r}"
        return text + ")"


def extract_HBS_learning_curves(runs: Iterable[Run]) -> list[list[tuple[float, float]]]:  # noqa: N802 - HpBandSter's name
    """The learning curve of one configuration's runs: ``[[(budget, loss), ...]]``.

    Parameters
    ----------
    runs : iterable of Run
        The runs of one configuration.

    Returns
    -------
    list
        A list holding one curve, sorted by budget, runs without a loss (None) left out.
    """
    ordered = sorted(runs, key=lambda r: r.budget)
    return [[(r.budget, r.loss) for r in ordered if r.loss is not None]]


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - pandas is installed in the test environment
        raise ImportError("this needs pandas, which is not installed: pip install bandster[plots]") from err
    return pandas


class _Configurations(Mapping):
    """``Result.data``: ``{config_id: Datum}``, read-only. Each Datum is built when it is asked for, and is a
    copy: changing it does not change the Result."""

    def __init__(self, table: RunTable) -> None:
        self._table = table

    def __getitem__(self, config_id: tuple) -> Datum:
        return self._table.datum(self._table.index(tuple(config_id)))

    def __contains__(self, config_id: object) -> bool:
        try:
            self._table.index(tuple(config_id))  # type: ignore[arg-type]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._table.config_ids)

    def __len__(self) -> int:
        return self._table.num_configs

    def __repr__(self) -> str:
        return f"<{len(self)} configurations of a Result>"


class Result:
    """Everything a run found: configurations, their runs on each budget, and the run's ``HB_config``.

    Parameters
    ----------
    HB_iteration_data : list of dict
        One dict ``{config_id: Datum}`` per iteration (a single dict is accepted too). The dicts are merged;
        the Datums are copied, never changed.
    HB_config : dict
        ``eta``, ``min_budget``, ``max_budget``, ``budgets``, ``max_SH_iter``, ``time_ref``, ... All time
        stamps in the Result are relative to ``time_ref``.
    reports : iterable of ReportLine, optional
        The intermediate reports of the run, as :func:`~bandster.records.format.read_reports` reads them from
        ``reports.json`` (absolute times); see :meth:`get_reports`.

    Attributes
    ----------
    data : Mapping
        ``{config_id: Datum}`` over all iterations, read-only: a Datum taken from it is a copy.
    HB_config : dict
        As given.

    Notes
    -----
    The runs are kept column-wise (:class:`~bandster.records.run_table.RunTable`, about 0.8 KB per run with its
    configuration, instead of 2-3 KB for a Datum per configuration), so a Result of 100,000 runs takes about
    80 MB; ``data`` builds the Datums of HpBandSter's layout on demand. A later run of the same configuration
    on the same budget replaces the earlier one; budgets are floats.

    Examples
    --------
    >>> from bandster.records.datum import Datum
    >>> datum = Datum({"x": 0.5}, {"model_based_pick": False}, results={1.0: {"loss": 0.3, "info": None}},
    ...               time_stamps={1.0: {"submitted": 0.0, "started": 0.1, "finished": 1.0}})
    >>> result = Result([{(0, 0, 0): datum}], {"time_ref": 0.0, "budgets": [1.0], "max_budget": 1.0})
    >>> result.get_incumbent_id(), [run.loss for run in result.get_all_runs()]
    ((0, 0, 0), [0.3])
    """

    def __init__(self, HB_iteration_data: list[dict] | dict, HB_config: dict,  # noqa: N803
                 reports: Iterable[ReportLine] | None = None) -> None:
        self.HB_config = dict(HB_config) if HB_config is not None else {}
        if isinstance(HB_iteration_data, Mapping):
            HB_iteration_data = [HB_iteration_data]
        self._table = _table_from_datums(HB_iteration_data, self._time_ref())
        self._reports = ReportTable.from_lines(reports or (), self._time_ref())

    def _time_ref(self) -> float:
        """``HB_config['time_ref']`` when it is a finite number, else 0."""
        time_ref = self.HB_config.get("time_ref")
        if not isinstance(time_ref, int | float) or isinstance(time_ref, bool):
            return 0.0
        try:
            return time_ref if math.isfinite(time_ref) else 0.0
        except OverflowError:  # an integer too large for a float
            return 0.0

    @classmethod
    def _from_builder(cls, builder: RunTableBuilder, HB_config: dict,  # noqa: N803
                      reports: Iterable[ReportLine] = ()) -> Result:
        """A Result of the journal reader's runs, configurations ordered by iteration (stable), as the
        constructor orders them."""
        self = cls.__new__(cls)
        self.HB_config = dict(HB_config) if HB_config is not None else {}
        self._table = builder.finish(self._time_ref(), order_by_iteration=True)
        self._reports = ReportTable.from_lines(reports, self._time_ref())
        return self

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if not len(state.get("_reports") or ()):  # a run without reports pickles as before bandster had them
            state.pop("_reports", None)
        return state

    def __setstate__(self, state: dict) -> None:
        if "data" in state and "_table" not in state:  # pickled by bandster 0.1 (a dict of Datums)
            state = dict(state)
            state["_table"] = _table_from_datums([state.pop("data")], 0.0)  # its stamps are relative already
        if "_reports" not in state:  # pickled before bandster journaled reports
            state = dict(state)
            state["_reports"] = ReportTable()
        self.__dict__.update(state)

    # --- access -------------------------------------------------------------------------------------

    @property
    def data(self) -> Mapping[tuple, Datum]:
        return _Configurations(self._table)

    def __getitem__(self, config_id: tuple) -> Datum:
        return self.data[config_id]

    def _budgets_present(self) -> list[float]:
        return sorted(set(self._table.budget.tolist()))

    def _budgets(self, budgets: Iterable[float] | None) -> list[float]:
        if budgets is None:
            budgets = self.HB_config.get("budgets")
        if budgets is None:  # e.g. a RandomSearch HB_config without "budgets"
            return self._budgets_present()
        return list(budgets)

    def _max_budget(self) -> float | None:
        max_budget = self.HB_config.get("max_budget")
        if max_budget is None:
            present = self._budgets_present()
            max_budget = present[-1] if present else None
        return max_budget

    def _runs(self, rows: Iterable[int]) -> list[Run]:
        runs = []
        for config_id, budget, loss, info, stamps, error, extras in self._table.run_fields(rows):
            runs.append(
                Run(
                    config_id,
                    budget,
                    loss,
                    info,
                    stamps,
                    error,
                    worker_name=extras.get("worker"),
                    attempt=extras.get("attempt", 1),
                    status=extras.get("status"),
                    stopped_at=extras.get("stopped_at"),
                    requested_budget=extras.get("requested_budget"),
                )
            )
        return runs

    def _config(self, config_id: tuple) -> Any:
        """The stored configuration of ``config_id`` (not a copy: callers must not change it)."""
        return self._table.configs[self._table.index(tuple(config_id))]

    def get_runs_by_id(self, config_id: tuple) -> list[Run]:
        """The runs of one configuration, sorted by budget.

        Parameters
        ----------
        config_id : tuple
            The configuration's id.

        Returns
        -------
        list of Run
            Failed runs have ``loss=None``, ``info=None`` and the traceback in ``error_logs``; runs that
            returned a NaN or infinite loss keep that loss (status ``'failed'``).
        """
        return self._runs(self._table.rows_of(self._table.index(tuple(config_id))))

    def get_all_runs(self, only_largest_budget: bool = False) -> list[Run]:
        """All runs, ordered by the time they finished.

        Parameters
        ----------
        only_largest_budget : bool
            Keep only each configuration's run on its largest budget.

        Returns
        -------
        list of Run
            Runs without a ``finished`` time stamp come last.
        """
        table = self._table
        rows = None
        if only_largest_budget:
            has_runs = table.starts[1:] > table.starts[:-1]
            rows = table.starts[1:][has_runs] - 1
        return self._runs(table.finish_order(rows))

    def get_id2config_mapping(self) -> dict[tuple, dict[str, Any]]:
        """``{config_id: {'config': dict, 'config_info': dict}}``, deep copies."""
        table = self._table
        return {
            config_id: {"config": _deep_copy(config), "config_info": _deep_copy(info)}
            for config_id, config, info in zip(table.config_ids, table.configs, table.config_infos, strict=True)
        }

    def num_iterations(self) -> int:
        """The number of iterations (brackets): the largest iteration index plus one."""
        return max(config_id[0] for config_id in self._table.config_ids) + 1 if self._table.num_configs else 0

    def get_learning_curves(
        self,
        lc_extractor: Callable[[list[Run]], Any] = extract_HBS_learning_curves,
        config_ids: Iterable[tuple] | None = None,
    ) -> dict[tuple, Any]:
        """``{config_id: lc_extractor(runs)}`` for the given (default: all) configurations.

        HpBandSter's learning curves: one point per *finished run* (each budget a configuration was evaluated
        on, with the loss it returned there; a stopped run gives one point at the step it was stopped at). The
        intermediate values a job reported while it ran (``Worker.report``) are not in them: they are in
        :meth:`get_reports`.
        """
        table = self._table
        if config_ids is None:  # every configuration: all runs built at once, then split by configuration
            runs = self._runs(np.arange(len(table)))
            starts = table.starts.tolist()
            return {cid: lc_extractor(runs[starts[i]:starts[i + 1]]) for i, cid in enumerate(table.config_ids)}
        return {tuple(cid): lc_extractor(self.get_runs_by_id(cid)) for cid in config_ids}

    def get_reports(self, config_id: tuple | None = None) -> list[Report]:
        """The intermediate reports of the run's jobs (``Worker.report(step, loss)``), in the order the master
        took them.

        Parameters
        ----------
        config_id : tuple, optional
            Only this configuration's reports.

        Returns
        -------
        list of Report
            Named tuples ``(config_id, budget, step, loss, time, info, attempt, decision)``: ``budget`` the
            budget the job was handed, ``time`` when the master took the report (seconds after ``time_ref``, as
            the runs' time stamps), ``decision`` the scheduler's answer (``'continue'``, ``'stop'``,
            ``'pause'``). Reports of a job that ran more than once (a worker lost, a resumed run) are all there,
            told apart by ``attempt``. Empty for a run without reports (or a journal written before bandster
            journaled them).

        Examples
        --------
        >>> from bandster.records.format import ReportLine
        >>> result = Result({}, {"time_ref": 100.0},
        ...                 reports=[ReportLine((0, 0, 0), 9.0, 1, 1.0, 0.5, 101.5, None, "continue")])
        >>> [(r.config_id, r.step, r.loss, r.time, r.decision) for r in result.get_reports()]
        [((0, 0, 0), 1.0, 0.5, 1.5, 'continue')]
        """
        if config_id is None:
            return self._reports.reports()
        return self._reports.reports(self._reports.rows_of(tuple(config_id)))

    # --- incumbents ---------------------------------------------------------------------------------

    def _best_rows(self, mask: np.ndarray) -> dict[float, tuple]:
        """``{budget: config_id}``: among the rows in ``mask`` with a finite loss, the lowest loss on each
        budget (ties to the smaller config id)."""
        table = self._table
        losses = table.ranking_losses()
        usable = mask & ~np.isnan(losses)
        best: dict[float, tuple] = {}
        for budget in sorted(set(table.budget[usable].tolist())):
            here = usable & (table.budget == budget)
            lowest = losses[here].min()
            rows = np.flatnonzero(here & (losses == lowest))
            best[budget] = min(table.config_ids[table.row_config[row]] for row in rows.tolist())
        return best

    def get_incumbent_id(self) -> tuple | None:
        """The id of the configuration with the lowest finite loss on exactly ``HB_config['max_budget']``.

        Returns
        -------
        tuple or None
            None when no run on the largest budget has a finite loss. Ties go to the smaller id.
        """
        max_budget = self._max_budget()
        if not is_float(max_budget):
            return None
        return self._best_rows(self._table.budget == float(max_budget)).get(float(max_budget))

    def get_incumbent_per_budget(self) -> dict[float, tuple]:
        """``{budget: config_id}``: the configuration with the lowest finite loss on each budget."""
        return self._best_rows(np.ones(len(self._table), dtype=bool))

    def get_incumbent_trajectory(
        self, all_budgets: bool = True, bigger_is_better: bool = True, non_decreasing_budget: bool = True
    ) -> dict[str, list]:
        """How the incumbent changed over time.

        Runs are visited in order of their finish time; only finite losses can become incumbents. A run
        becomes the incumbent when its loss is lower than the incumbent's, or (with ``bigger_is_better``)
        when its budget is larger; with ``non_decreasing_budget`` a run on a smaller budget never does.
        If runs finished after the last change, the last incumbent is repeated at the last finish time.

        Parameters
        ----------
        all_budgets : bool
            Consider runs on all budgets; when False, only runs on ``HB_config['max_budget']``.
        bigger_is_better : bool
            A run on a larger budget replaces the incumbent even with a higher loss.
        non_decreasing_budget : bool
            The incumbent's budget never decreases.

        Returns
        -------
        dict
            Lists ``config_ids``, ``times_finished``, ``budgets``, ``losses``.
        """
        runs = self.get_all_runs()
        if not all_budgets:
            max_budget = self._max_budget()
            runs = [r for r in runs if r.budget == max_budget]
        trajectory: dict[str, list] = {"config_ids": [], "times_finished": [], "budgets": [], "losses": []}
        current = math.inf
        budget = self.HB_config.get("min_budget")
        if budget is None:
            budget = min((r.budget for r in runs), default=-math.inf)
        last_incumbent = None
        for r in runs:
            if not is_finite_loss(r.loss):
                continue
            new = (bigger_is_better and r.budget > budget) or r.loss < current
            if non_decreasing_budget and r.budget < budget:
                new = False
            if new:
                current, budget, last_incumbent = r.loss, r.budget, r
                trajectory["config_ids"].append(r.config_id)
                trajectory["times_finished"].append(_finished(r))
                trajectory["budgets"].append(r.budget)
                trajectory["losses"].append(r.loss)
        if last_incumbent is not None and runs[-1] is not last_incumbent:
            end = _finished(runs[-1])
            if end is not None and (trajectory["times_finished"][-1] is None or end > trajectory["times_finished"][-1]):
                for key in ("config_ids", "budgets", "losses"):
                    trajectory[key].append(trajectory[key][-1])
                trajectory["times_finished"].append(end)
        return trajectory

    # --- analysis helpers ---------------------------------------------------------------------------

    def get_fANOVA_data(  # noqa: N802 - HpBandSter's name
        self,
        config_space: Any,
        budgets: Iterable[float] | None = None,
        loss_fn: Callable[[Run], float] = lambda r: r.loss,
        failed_loss: float | None = None,
    ) -> tuple[Any, Any, Any]:
        """The data the ``fanova`` package needs: ``(X, y, config_space)``.

        Parameters
        ----------
        config_space : ConfigSpace.ConfigurationSpace
            The run's search space. It is not modified: with more than one budget, a copy gains a
            log-uniform ``budget`` hyperparameter, and that copy is returned.
        budgets : list of float, optional
            Which budgets to use; default ``HB_config['budgets']`` (or all budgets present).
        loss_fn : callable
            ``loss_fn(run) -> float`` for runs with a finite loss.
        failed_loss : float, optional
            The ``y`` of failed runs (loss None, NaN or infinite); they are left out when None.

        Returns
        -------
        X : numpy.ndarray
            One row per run, one column per hyperparameter of the returned space, in its order:
            numerical values as they are, categoricals and ordinals as the index of their value,
            constants as 0, inactive hyperparameters as NaN.
        y : numpy.ndarray
            The losses.
        config_space : ConfigSpace.ConfigurationSpace
            The space ``X`` belongs to.
        """
        import ConfigSpace as CS

        space = copy.deepcopy(config_space)
        budgets = self._budgets(budgets)
        several = len(budgets) > 1
        if several:
            if "budget" in space:
                raise ValueError("the config space already has a hyperparameter named 'budget'")
            low, high = float(min(budgets)), float(max(budgets))
            space.add(CS.UniformFloatHyperparameter("budget", lower=low, upper=high, log=low > 0))
        hyperparameters = list(space.values())
        wanted = set(budgets)
        X: list[list[float]] = []
        y: list[float] = []
        for r in self.get_all_runs():
            if r.budget not in wanted:
                continue
            if is_finite_loss(r.loss):
                y_value = loss_fn(r)
            elif failed_loss is not None:
                y_value = failed_loss
            else:
                continue
            values = dict(self._config(r.config_id))
            if several:
                values["budget"] = float(r.budget)
            try:
                config = CS.Configuration(space, values=values)
            except Exception as err:
                raise ValueError(f"configuration {r.config_id} does not belong to config_space: {err}") from err
            X.append([_fanova_value(hp, config.get(hp.name), CS) for hp in hyperparameters])
            y.append(y_value)
        return np.array(X, dtype=float).reshape(len(X), len(hyperparameters)), np.array(y, dtype=float), space

    def importance(self, budget: float | None = None, configspace: Any = None, n_trees: int = 64,
                   seed: int | None = 0) -> dict[str, float]:
        """Each hyperparameter's importance on one budget: the share of the loss's variance it explains alone.

        Functional ANOVA (Hutter et al., 2014) over a scikit-learn random forest fitted to the configurations
        evaluated on the budget (:mod:`bandster.analysis.importance`; install the ``importance`` extra). Read
        the caveats in the docs' analysis page before drawing conclusions: with few configurations, or with
        configurations concentrated where a model looked, the shares describe the forest more than the problem.

        Parameters
        ----------
        budget : float, optional
            Default: the largest budget with at least five finite losses.
        configspace : ConfigSpace.ConfigurationSpace, optional
            Gives the hyperparameters' ranges, log scales and categories; without it they come from the values
            seen.
        n_trees : int
            Trees in the forest.
        seed : int, optional
            The forest's random state (the shares vary a little with it).

        Returns
        -------
        dict
            ``{hyperparameter: share in [0, 1]}``, most important first. The shares sum to at most 1; the rest
            is explained only by interactions.

        Raises
        ------
        ImportError
            Without scikit-learn (the message names the extra).
        ValueError
            With fewer than five finite losses on the budget.
        """
        from bandster.analysis.importance import importance

        return importance(self, budget, configspace=configspace, n_trees=n_trees, seed=seed)["importance"]

    def get_pandas_dataframe(
        self, budgets: Iterable[float] | None = None, loss_fn: Callable[[Run], float] = lambda r: r.loss
    ) -> tuple[Any, Any]:
        """The configurations and their losses as two DataFrames ``(df_X, df_y)``.

        Parameters
        ----------
        budgets : list of float, optional
            Which budgets to use; default ``HB_config['budgets']`` (or all budgets present). With more than
            one, ``df_X`` has a ``budget`` column.
        loss_fn : callable
            ``loss_fn(run) -> float``, the value in ``df_y['loss']``.

        Returns
        -------
        df_X, df_y : pandas.DataFrame
            One row per run with a loss (failed runs without one are left out), in finish-time order.
        """
        pd = _import_pandas()
        budgets = self._budgets(budgets)
        wanted = set(budgets)
        configs, losses = [], []
        for r in self.get_all_runs():
            if r.budget not in wanted or r.loss is None:
                continue
            config = dict(self._config(r.config_id))
            if len(budgets) > 1:
                config["budget"] = r.budget
            configs.append(config)
            losses.append({"loss": loss_fn(r)})
        return pd.DataFrame(configs), pd.DataFrame(losses, columns=["loss"])

    def get_lineage(self, member: int) -> list[dict[str, Any]]:
        """PBT: the chain of configurations and copied checkpoints that led to ``member``'s final state.

        Oldest first; each step has ``member``, ``config_id``, ``generation``, ``kind`` (``initial``,
        ``continue``, ``exploit``, ``replace``), ``config``, ``config_before_explore``, ``budget_start``,
        ``budget_end``, ``source_member``, ``source_config_id`` and ``losses`` (see
        :func:`bandster.records.lineage.lineage`).

        Raises
        ------
        KeyError
            If ``member`` is not a member of this run (or the run is not a PBT run).
        """
        return lineage.lineage(self.get_id2config_mapping(), self.get_all_runs(), member)

    def get_schedule(self, member: int) -> dict[str, list[tuple[float, float, Any]]]:
        """PBT: each hyperparameter of ``member``'s lineage as a function of the budget.

        Returns
        -------
        dict
            name -> ``[(budget_start, budget_end, value), ...]``, in budget order.
        """
        return lineage.schedule(self.get_lineage(member))

    def get_pbt_members(self) -> list[int]:
        """PBT: the members of this run (empty for other optimizers)."""
        return lineage.members(self.get_id2config_mapping())

    def to_dataframe(self, reports: bool = False) -> Any:
        """One row per run (or, with ``reports=True``, one row per intermediate report).

        Runs: ``config_id``, the configuration's values, ``budget``, ``loss``, ``status`` (``'ok'``,
        ``'failed'`` or ``'stopped'``), ``stopped_at``, ``submitted``, ``started``, ``finished``, ``worker``,
        ``attempt``, ``model_based_pick`` (a PBT run also ``member``), then the user's ``info`` metrics as
        ``info.<key>`` columns (see :func:`flatten_info`). A stopped run's ``budget`` is the step it was stopped at.

        Reports (``reports=True``, :meth:`get_reports`): ``config_id``, the configuration's values, ``budget``
        (the budget the job was handed), ``step``, ``loss``, ``time`` (seconds after ``time_ref``), ``attempt``,
        ``decision``, then the ``info`` of the report as ``info.<key>`` columns; in the order the master took
        them. Join it with the runs' frame on ``config_id`` for their status.

        A hyperparameter whose name clashes with one of the fixed columns appears as ``config.<name>``.
        ``df.to_csv(path)`` and ``df.to_parquet(path)`` (with pyarrow installed) export it.

        Parameters
        ----------
        reports : bool
            One row per report instead of one per run.

        Returns
        -------
        pandas.DataFrame
            Runs in finish-time order; reports in the order they were taken.
        """
        pd = _import_pandas()
        if reports:
            return self._reports_dataframe(pd)
        fixed = ["budget", "loss", "status", "stopped_at", *_TIME_KEYS, "worker", "attempt", "model_based_pick"]
        is_pbt = any(isinstance(i, Mapping) and isinstance(i.get("pbt"), Mapping) for i in self._table.config_infos)
        if is_pbt:
            fixed.append("member")
        reserved = {"config_id", *fixed}
        config_columns: dict[str, None] = {}
        info_columns: dict[str, None] = {}
        rows = []
        for r in self.get_all_runs():
            index = self._table.index(r.config_id)
            row: dict[str, Any] = {"config_id": r.config_id}
            config = self._table.configs[index]
            config = config if isinstance(config, Mapping) else {}
            for name, value in config.items():
                column = f"config.{name}" if name in reserved else name
                config_columns.setdefault(column)
                row[column] = value
            info = self._table.config_infos[index]
            info = info if isinstance(info, Mapping) else {}
            stamps = r.time_stamps if isinstance(r.time_stamps, Mapping) else {}
            row.update(budget=r.budget, loss=r.loss, status=r.status, stopped_at=r.stopped_at, worker=r.worker_name,
                       attempt=r.attempt)
            row.update({key: stamps.get(key) for key in _TIME_KEYS})
            row["model_based_pick"] = info.get("model_based_pick")
            if is_pbt:
                row["member"] = r.config_id[0] if len(r.config_id) == 3 else None
            for column, value in flatten_info(r.info).items():
                info_columns.setdefault(column)
                row[column] = value
            rows.append(row)
        return pd.DataFrame(rows, columns=["config_id", *config_columns, *fixed, *info_columns])

    def _reports_dataframe(self, pd: Any) -> Any:
        """:meth:`to_dataframe` with ``reports=True``."""
        fixed = ["budget", "step", "loss", "time", "attempt", "decision"]
        reserved = {"config_id", *fixed}
        config_columns: dict[str, None] = {}
        info_columns: dict[str, None] = {}
        config_cells: dict[tuple, dict[str, Any]] = {}
        rows = []
        for report in self.get_reports():
            cells = config_cells.get(report.config_id)
            if cells is None:
                try:
                    config = self._config(report.config_id)
                except KeyError:  # a report of a configuration configs.json lacks
                    config = {}
                config = config if isinstance(config, Mapping) else {}
                cells = config_cells[report.config_id] = {
                    (f"config.{name}" if name in reserved else name): value for name, value in config.items()}
                for column in cells:
                    config_columns.setdefault(column)
            row: dict[str, Any] = {"config_id": report.config_id, **cells}
            row.update(budget=report.budget, step=report.step, loss=report.loss, time=report.time,
                       attempt=report.attempt, decision=report.decision)
            for column, value in flatten_info(report.info).items():
                info_columns.setdefault(column)
                row[column] = value
            rows.append(row)
        return pd.DataFrame(rows, columns=["config_id", *config_columns, *fixed, *info_columns])

    # --- comparison ---------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        mine, theirs = self._table, other._table
        if _canonical(self.HB_config) != _canonical(other.HB_config) or set(mine.config_ids) != set(theirs.config_ids):
            return False
        for i, config_id in enumerate(mine.config_ids):
            j = theirs.index(config_id)
            if _canonical(mine.configs[i]) != _canonical(theirs.configs[j]):
                return False
            if _canonical(mine.config_infos[i]) != _canonical(theirs.config_infos[j]):
                return False
            if self._runs(mine.rows_of(i)) != other._runs(theirs.rows_of(j)):
                return False
        return _canonical(self.get_reports()) == _canonical(other.get_reports())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        reports = f", {len(self._reports)} reports" if len(self._reports) else ""
        return (f"Result({self._table.num_configs} configs, {len(self._table)} runs{reports}, "
                f"{self.num_iterations()} iterations)")


def flatten_info(info: Any, prefix: str = "info", depth: int = 3) -> dict[str, Any]:
    """A run's ``info`` as flat columns: ``{"info.accuracy": 0.9, "info.train.loss": 0.1}``.

    Nested dicts are followed ``depth`` levels deep; numbers, strings, booleans and None are kept; anything else
    (lists, deeper dicts) becomes its JSON text. An ``info`` that is not a dict is one column, ``info``.

    Examples
    --------
    >>> flatten_info({"accuracy": 0.9, "train": {"loss": 0.1}, "sizes": [1, 2]})
    {'info.accuracy': 0.9, 'info.train.loss': 0.1, 'info.sizes': '[1, 2]'}
    >>> flatten_info(None), flatten_info(3.5)
    ({}, {'info': 3.5})
    """
    if info is None:
        return {}
    if not isinstance(info, Mapping):
        return {prefix: _cell(info)}
    out: dict[str, Any] = {}
    for key, value in info.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping) and depth > 1:
            out.update(flatten_info(value, name, depth - 1))
        else:
            out[name] = _cell(value)
    return out


_IMMUTABLE = (str, int, float, bool, type(None))


def _deep_copy(value: Any) -> Any:
    """``copy.deepcopy``, with a fast path for the usual configuration: a flat dict of numbers and strings."""
    if type(value) is dict and all(type(v) in _IMMUTABLE for v in value.values()):
        return dict(value)
    return copy.deepcopy(value)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return json.dumps(to_builtin(value), default=str)
    except (TypeError, ValueError):
        return repr(value)


def _table_from_datums(iterations: Iterable[Mapping], time_ref: float) -> RunTable:
    """The table of ``{config_id: Datum}`` dicts (later iterations' Datums replace earlier ones of the same id)."""
    builder = RunTableBuilder()
    for iteration in iterations:
        for config_id, datum in iteration.items():
            index = builder.add_config(
                tuple(config_id), copy_dict(datum.config), copy_dict(datum.config_info), datum.status, datum.budget
            )
            extras = getattr(datum, "extras", None) or {}
            for budget, result in datum.results.items():
                builder.add_run(
                    index,
                    budget,
                    copy_dict(datum.time_stamps.get(budget, {})),
                    copy_dict(result),
                    datum.exceptions.get(budget),
                    copy_dict(extras.get(budget)),
                )
    return builder.finish(time_ref)


def _fanova_value(hp: Any, value: Any, CS: Any) -> float:
    """One hyperparameter value as a number for fANOVA."""
    if value is None:
        return math.nan
    if isinstance(hp, CS.CategoricalHyperparameter):
        return float(list(hp.choices).index(value))
    if isinstance(hp, CS.OrdinalHyperparameter):
        return float(list(hp.sequence).index(value))
    if isinstance(hp, CS.Constant):
        return 0.0
    return float(value)


# --------------------------------------------------------------------------------------------------------
# reading a journal (the line readers are in bandster.records.format)


def _load_configs(path: str, builder: RunTableBuilder | DeferredRunTableBuilder,
                  lines: Iterable[tuple[int, Any]] | None = None, on_config: Callable[..., None] | None = None) -> None:
    for config_id, config, config_info in read_configs(path, lines):
        builder.add_config(config_id, config, config_info)
        if on_config is not None:
            on_config(config_id, config, config_info)


def _load_results(path: str, builder: RunTableBuilder | DeferredRunTableBuilder,
                  lines: Iterable[tuple[int, Any]] | None = None, on_run: Callable[..., None] | None = None
                  ) -> tuple[set[float], float | None]:
    budgets: set[float] = set()
    time_ref: float | None = None
    for config_id, budget, stamps, result, exception, extras in read_results(path, lines):
        budgets.add(budget)
        index = builder.index_of(config_id)
        if index is None:
            logger.warning("%s: result for config %s, which configs.json lacks; config left empty", path, config_id)
            index = builder.add_config(config_id, {}, {})
        builder.add_run(index, budget, stamps, result, exception, extras)
        if on_run is not None:
            on_run(config_id, budget, stamps, result, exception, extras)
        submitted = stamps.get("submitted")
        if submitted is not None:
            time_ref = submitted if time_ref is None else min(time_ref, submitted)
    return budgets, time_ref


def _infer_hb_config(budgets: set[float], time_ref: float | None) -> dict[str, Any]:
    ladder = sorted(budgets)
    return {
        "eta": ladder[1] / ladder[0] if len(ladder) > 1 and ladder[0] else None,
        "min_budget": ladder[0] if ladder else None,
        "max_budget": ladder[-1] if ladder else None,
        "budgets": ladder,
        "max_SH_iter": len(ladder),
        "time_ref": time_ref,
    }


def logged_results_to_HBS_result(directory: str | os.PathLike) -> Result:  # noqa: N802 - HpBandSter's name
    """Rebuild a :class:`Result` from a run journal (bandster's or HpBandSter's ``json_result_logger``'s).

    Parameters
    ----------
    directory : str or path-like
        The journal directory with ``configs.json`` and ``results.json`` (and, from bandster, ``run.json``).

    Returns
    -------
    Result
        ``HB_config`` comes from ``run.json`` when there is one; otherwise it is inferred from the results
        (``eta`` from the two smallest budgets, ``time_ref`` the earliest submission).

    Notes
    -----
    Reads the strings ``"NaN"``/``"Infinity"``/``"-Infinity"`` and the bare tokens HpBandSter wrote. Never
    raises on damaged files (only when neither file exists), and warns with the file and line number for
    everything it cannot use:

    - a torn, garbled (not JSON, not UTF-8) or wrongly shaped line, a config id that is not three integers,
      a configuration that is not a JSON object, or a budget that is not a finite number: the line is
      skipped;
    - time stamps that are not finite numbers, a result that is neither an object nor null, a loss that is
      not a number (or ``"NaN"``/``"Infinity"``/``"-Infinity"``), extras of the wrong type, a non-object
      ``config_info``: the line is kept without them (no result, no stamp, default extras, empty info);
    - an unreadable ``run.json``, or ``HB_config`` entries of the wrong type: inferred from the results.

    Unknown fields and trailing elements are ignored. A result for a config id missing from
    ``configs.json`` gets an empty configuration (with a warning); a later result for the same
    (config id, budget) wins. The intermediate reports in ``reports.json`` (when there is one) are read with
    :func:`~bandster.records.format.read_reports` (:meth:`Result.get_reports`).
    """
    directory = os.fspath(directory)
    configs_fn = os.path.join(directory, CONFIGS_FILENAME)
    results_fn = os.path.join(directory, RESULTS_FILENAME)
    if not os.path.exists(configs_fn) and not os.path.exists(results_fn):
        raise FileNotFoundError(f"{directory} holds no run journal (neither {CONFIGS_FILENAME} nor {RESULTS_FILENAME})")
    builder = RunTableBuilder()
    budgets: set[float] = set()
    time_ref = None
    with paused_gc():
        if os.path.exists(configs_fn):
            _load_configs(configs_fn, builder)
        else:
            logger.warning("%s is missing; configurations are left empty", configs_fn)
        if os.path.exists(results_fn):
            budgets, time_ref = _load_results(results_fn, builder)
        else:
            logger.warning("%s is missing; the result has no runs", results_fn)
    hb_config = read_hb_config(directory)
    if hb_config is None:
        hb_config = _infer_hb_config(budgets, time_ref)
    elif hb_config.get("time_ref") is None:
        hb_config["time_ref"] = time_ref
    return Result._from_builder(builder, hb_config, read_reports(os.path.join(directory, REPORTS_FILENAME)))


class JournalReader:
    """Reads a journal's configurations and results as they are appended: each :meth:`read` parses only the
    lines added since the previous one, and :meth:`result` is the :class:`Result` of everything read so far.

    Parameters
    ----------
    directory : str or path-like
        The journal directory (it may still be empty).
    on_config : callable, optional
        ``on_config(config_id, config, config_info)`` for every configuration line read.
    on_run : callable, optional
        ``on_run(config_id, budget, time_stamps, result, exception, extras)`` for every result line read
        (absolute time stamps; ``result`` None for a failed run; ``extras`` bandster's worker, attempt, status).
    on_report : callable, optional
        ``on_report(line)`` for every line of ``reports.json`` read (a
        :class:`~bandster.records.format.ReportLine`, absolute time).

    Examples
    --------
    >>> import tempfile
    >>> from bandster.records.journal import Journal
    >>> directory = tempfile.mkdtemp()
    >>> reader = JournalReader(directory)
    >>> with Journal(directory) as journal:
    ...     journal.new_config((0, 0, 0), {"x": 0.5}, {})
    ...     journal.flush()
    ...     restarted = reader.read()
    ...     len(reader.result().data)
    1
    """

    def __init__(self, directory: str | os.PathLike, on_config: Callable[..., None] | None = None,
                 on_run: Callable[..., None] | None = None, on_report: Callable[[ReportLine], None] | None = None
                 ) -> None:
        self.directory = os.fspath(directory)
        self._configs = LineTail(os.path.join(self.directory, CONFIGS_FILENAME))
        self._results = LineTail(os.path.join(self.directory, RESULTS_FILENAME))
        self._report_tail = LineTail(os.path.join(self.directory, REPORTS_FILENAME))
        self._on_config, self._on_run, self._on_report = on_config, on_run, on_report
        self._start()

    def _start(self) -> None:
        self._builder = DeferredRunTableBuilder()  # the Result's table, built when it is asked for
        self._held: list[tuple[int, Any]] = []  # result lines waiting for their configuration's line
        self._budgets: set[float] = set()
        self._time_ref: float | None = None
        self._report_lines: list[ReportLine] = []

    @property
    def bytes_read(self) -> int:
        """Bytes read from ``configs.json``, ``results.json`` and ``reports.json`` so far."""
        return self._configs.bytes_read + self._results.bytes_read + self._report_tail.bytes_read

    def read(self, max_bytes: int | None = None) -> bool:
        """Read what was appended since the last call; True when the journal was started over (truncated or
        replaced), in which case everything was read again from the start and callers must drop what they
        built from the earlier reads.

        With ``max_bytes``, read about that much of ``configs.json`` (and of ``results.json`` and
        ``reports.json`` in proportion) and leave the rest for the next calls (:attr:`at_end` says when all was
        read): a large journal is then read in parts, and what was read so far can be shown meanwhile. Results
        whose configuration line is not read yet wait for it, so the parts add up to what one read gives.
        """
        with paused_gc():
            return self._read(max_bytes)

    @property
    def at_end(self) -> bool:
        """Whether the last :meth:`read` read everything there was (no part left for the next one)."""
        return self._configs.at_end and self._results.at_end and self._report_tail.at_end and not self._held

    def _read(self, max_bytes: int | None) -> bool:
        tails = (self._configs, self._results, self._report_tail)
        # in parts: results lines are about 2.3 times longer than configuration lines
        sizes = (None, None, None) if max_bytes is None else (max_bytes, 3 * max_bytes, 3 * max_bytes)
        configs, results, reports = (tail.read(size) for tail, size in zip(tails, sizes, strict=True))
        restarted = any(tail.restarted for tail in tails)
        if restarted:
            self._start()
            for tail in tails:
                tail.offset = tail.line_number = 0
            configs, results, reports = (tail.read(size) for tail, size in zip(tails, sizes, strict=True))
        _load_configs(self._configs.path, self._builder, configs, self._on_config)
        results, self._held = self._held + results, []
        if not self._configs.at_end:  # a part: the results from the first whose configuration is not read yet wait
            builder = self._builder
            for position, (_, entry) in enumerate(results):
                try:
                    waits = isinstance(entry, list) and bool(entry) and builder.index_of(as_id(entry[0])) is None
                except TypeError:  # an id that cannot be one (unhashable): the reader skips the line with a warning
                    waits = False
                if waits:
                    results, self._held = results[:position], results[position:]
                    break
        budgets, time_ref = _load_results(self._results.path, self._builder, results, self._on_run)
        for line in read_reports(self._report_tail.path, reports):
            self._report_lines.append(line)
            if self._on_report is not None:
                self._on_report(line)
        self._budgets |= budgets
        if time_ref is not None:
            self._time_ref = time_ref if self._time_ref is None else min(self._time_ref, time_ref)
        return restarted

    def hb_config(self) -> dict:
        """``HB_config`` from ``run.json`` (read again on every call), else inferred from what was read."""
        hb_config = read_hb_config(self.directory)
        if hb_config is None:
            return _infer_hb_config(set(self._budgets), self._time_ref)
        if hb_config.get("time_ref") is None:
            hb_config["time_ref"] = self._time_ref
        return hb_config

    def result(self, hb_config: dict | None = None) -> Result:
        """The :class:`Result` of every line read so far (``hb_config`` default :meth:`hb_config`)."""
        return Result._from_builder(self._builder.built(), self.hb_config() if hb_config is None else hb_config,
                                    self._report_lines)
