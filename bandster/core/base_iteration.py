"""BaseIteration (one bracket's state machine); Datum, the record of one configuration, lives in
:mod:`bandster.records.datum` and is re-exported here (HpBandSter users import it from this module)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bandster.core._convert import config_to_dict, loss_for_ranking, to_builtin
from bandster.core.job import Job
from bandster.records.datum import COMPLETED, CRASHED, QUEUED, REVIEW, RUNNING, TERMINATED, Datum

ConfigId = tuple[int, int, int]


class BaseIteration:
    """The state machine of one successive-halving bracket.

    Stage ``j`` evaluates ``num_configs[j]`` configurations on ``budgets[j]``. When every run of a stage
    has reported, :meth:`process_results` asks :meth:`_advance_to_next_stage` which of the successful
    configurations move on; slots the survivors do not fill are filled with fresh samples. Failed runs
    (no result, a non-dict result, a missing or non-finite loss) count as ``+inf`` and are never
    promoted. The class holds no lock: the master calls it under its own.

    Parameters
    ----------
    HPB_iter : int
        The index of this iteration in the run; the first element of every config id.
    num_configs : sequence of int
        The number of configurations in each stage.
    budgets : sequence of float
        The budget of each stage, as long as ``num_configs``.
    config_sampler : callable
        ``config_sampler(budget) -> (config_dict, config_info_dict)``, usually a config generator's
        ``get_config``.
    logger : logging.Logger, optional
        Defaults to this module's logger.
    result_logger : object, optional
        Anything with ``new_config(config_id, config, config_info)``; told about every new configuration.

    Attributes
    ----------
    data : dict
        ``config_id -> Datum``, in sampling order.
    is_finished : bool
        True once the last stage has been processed.
    stage : int
        The current stage.
    actual_num_configs : list of int
        How many configurations each stage has received so far (promoted or freshly sampled).
    num_running : int
        Runs handed out by :meth:`get_next_run` and not yet registered.
    """

    def __init__(
        self,
        HPB_iter: int,  # noqa: N803 - HpBandSter's public name
        num_configs: Sequence[int],
        budgets: Sequence[float],
        config_sampler: Callable[[float], tuple[dict, dict]] | None,
        logger: logging.Logger | None = None,
        result_logger: Any = None,
    ) -> None:
        if len(num_configs) == 0 or len(num_configs) != len(budgets):
            raise ValueError(
                f"num_configs ({list(num_configs)}) and budgets ({list(budgets)}) must be non-empty and "
                "of the same length: one entry per stage"
            )
        if any(int(n) != n or n < 1 for n in num_configs):
            raise ValueError(f"num_configs must hold integers >= 1, got {list(num_configs)}")
        self.HPB_iter = int(HPB_iter)
        self.num_configs = [int(n) for n in num_configs]
        self.budgets = [float(b) for b in budgets]
        self.config_sampler = config_sampler
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.result_logger = result_logger
        self.data: dict[ConfigId, Datum] = {}
        self.is_finished = False
        self.stage = 0
        self.actual_num_configs = [0] * len(self.num_configs)
        self.num_running = 0
        # QUEUED config ids in sampling order; entries whose datum is no longer QUEUED are skipped.
        self._queue: deque[ConfigId] = deque()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(HPB_iter={self.HPB_iter}, stage={self.stage}, "
            f"num_configs={self.num_configs}, budgets={self.budgets}, "
            f"actual_num_configs={self.actual_num_configs}, num_running={self.num_running}, "
            f"is_finished={self.is_finished})"
        )

    # ------------------------------------------------------------------ queries

    def is_active(self) -> bool:
        """True while the iteration has not finished (it may still be waiting at a stage barrier)."""
        return not self.is_finished

    def num_pending(self) -> int:
        """The number of configurations that are QUEUED, i.e. ready to be handed out."""
        return sum(1 for cid in self._queue if self.data[cid].status == QUEUED)

    # ------------------------------------------------------------------ sampling and scheduling

    def add_configuration(self, config: Mapping[str, Any] | None = None, config_info: Any = None) -> ConfigId:
        """Add a configuration to the current stage, QUEUED at its budget, and return its config id.

        Parameters
        ----------
        config : mapping, optional
            The configuration (a dict or a ConfigSpace ``Configuration``). When None, one is drawn with
            ``config_sampler(budgets[stage])``, which also supplies ``config_info``.
        config_info : dict, optional
            How the configuration was chosen. Defaults to ``{}``.

        Returns
        -------
        tuple of int
            ``(HPB_iter, stage, n)`` where ``n`` counts the configurations of this stage.
        """
        if self.is_finished:
            raise RuntimeError(f"iteration {self.HPB_iter} is finished; it takes no new configurations")
        if config is None:
            if self.config_sampler is None:
                raise RuntimeError(
                    f"iteration {self.HPB_iter} has no config_sampler; pass the configuration explicitly"
                )
            config, config_info = self.config_sampler(self.budgets[self.stage])
        if not isinstance(config, Mapping):
            raise TypeError(
                f"a configuration must be a dict or a ConfigSpace Configuration, got {type(config).__name__}"
            )
        config = config_to_dict(config)
        config_info = to_builtin(config_info) if config_info is not None else {}
        config_id = (self.HPB_iter, self.stage, self.actual_num_configs[self.stage])
        self.data[config_id] = Datum(config=config, config_info=config_info, budget=self.budgets[self.stage])
        self.actual_num_configs[self.stage] += 1
        self._queue.append(config_id)
        if self.result_logger is not None:
            self.result_logger.new_config(config_id, config, config_info)
        return config_id

    def get_next_run(self) -> tuple[ConfigId, dict, float] | None:
        """Hand out the next run of this iteration, or None.

        In order: the first QUEUED configuration (sampling order); a fresh sample if the stage has
        unfilled slots; when nothing runs any more, the promotion to the next stage and another try.
        None means the iteration is finished or waits at the stage barrier for outstanding runs.

        Returns
        -------
        tuple or None
            ``(config_id, config, budget)``; the configuration is now RUNNING.
        """
        while not self.is_finished:
            while self._queue:
                config_id = self._queue.popleft()
                datum = self.data[config_id]
                if datum.status != QUEUED:
                    continue
                datum.status = RUNNING
                self.num_running += 1
                return config_id, datum.config, datum.budget
            if self.actual_num_configs[self.stage] < self.num_configs[self.stage]:
                self.add_configuration()
                continue
            if self.num_running == 0:
                self.process_results()
                continue
            return None
        return None

    # ------------------------------------------------------------------ results

    def register_result(self, job: Job, skip_sanity_checks: bool = False) -> None:
        """Store the outcome of a finished job.

        The configuration becomes REVIEW when ``job.result`` is a dict with a finite numeric loss and
        CRASHED otherwise. A bad result (None, not a dict, a missing, None, string, NaN or infinite loss)
        never raises.

        Parameters
        ----------
        job : Job
            With ``id``, ``kwargs['budget']``, ``result``, ``exception``, ``timestamps``,
            ``worker_name`` and ``attempt``.
        skip_sanity_checks : bool
            Skip the checks that the configuration is RUNNING on the job's budget (used when importing
            earlier results).

        Raises
        ------
        ValueError
            If the config id is unknown to this iteration or, unless skipped, the configuration is not
            RUNNING or the budget differs from the one it was handed out with.
        """
        config_id = tuple(job.id)
        datum = self.data.get(config_id)  # type: ignore[arg-type]
        if datum is None:
            raise ValueError(
                f"result for config {config_id}, which iteration {self.HPB_iter} does not know; "
                "results must go to the iteration whose index is config_id[0]"
            )
        budget = job.kwargs.get("budget", datum.budget)
        if not skip_sanity_checks:
            if datum.status != RUNNING:
                raise ValueError(
                    f"result for config {config_id} on budget {budget}, but its status is {datum.status}, "
                    "not RUNNING; a result may be registered once per handed-out run"
                )
            if budget != datum.budget:
                raise ValueError(
                    f"result for config {config_id} on budget {budget}, but it was handed out on budget {datum.budget}"
                )
        was_running = datum.status == RUNNING
        result = job.result
        ok = datum.record(budget, job)
        if not ok:
            self.logger.debug(
                "config %s failed on budget %s (result=%r, exception=%r)",
                config_id,
                budget,
                result,
                job.exception,
            )
        if was_running:
            self.num_running -= 1

    def process_results(self) -> None:
        """Close the current stage: promote the chosen configurations and terminate the rest.

        Only REVIEW configurations (finite loss) are offered to :meth:`_advance_to_next_stage`; CRASHED
        ones are terminated. After the last stage, :meth:`finish_up` is called.

        Raises
        ------
        RuntimeError
            If runs of the stage are still outstanding or queued.
        """
        if self.is_finished:
            return
        if self.num_running > 0 or self.num_pending() > 0:
            raise RuntimeError(
                f"iteration {self.HPB_iter} cannot close stage {self.stage}: {self.num_running} runs "
                f"outstanding, {self.num_pending()} queued"
            )
        self.stage += 1
        if self.stage >= len(self.num_configs):
            self.finish_up()
            return
        candidates = [cid for cid, datum in self.data.items() if datum.status == REVIEW]
        for datum in self.data.values():
            if datum.status == CRASHED:
                datum.status = TERMINATED
        if candidates:
            losses = np.array(
                [loss_for_ranking(self.data[cid].results.get(self.data[cid].budget)) for cid in candidates],
                dtype=float,
            )
            advance = np.asarray(self._advance_to_next_stage(candidates, losses), dtype=bool)
            if advance.shape != (len(candidates),):
                raise ValueError(
                    f"{type(self).__name__}._advance_to_next_stage returned shape {advance.shape}, "
                    f"expected ({len(candidates)},): one flag per configuration"
                )
        else:
            advance = np.zeros(0, dtype=bool)
        budget = self.budgets[self.stage]
        for cid, move_on in zip(candidates, advance.tolist(), strict=True):
            datum = self.data[cid]
            if move_on:
                datum.status = QUEUED
                datum.budget = budget
                self.actual_num_configs[self.stage] += 1
                self._queue.append(cid)
            else:
                datum.status = TERMINATED
        self.logger.debug(
            "iteration %d: stage %d on budget %s starts with %d of %d configurations promoted",
            self.HPB_iter,
            self.stage,
            budget,
            self.actual_num_configs[self.stage],
            self.num_configs[self.stage],
        )

    def _advance_to_next_stage(self, config_ids: list[ConfigId], losses: np.ndarray) -> np.ndarray:
        """Return one boolean per configuration: True for those that move on to the next stage.

        Parameters
        ----------
        config_ids : list of tuple
            The successful configurations of the stage just closed, in sampling order.
        losses : numpy.ndarray
            Their finite losses, same order.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _advance_to_next_stage(config_ids, losses)")

    def finish_up(self) -> None:
        """Mark every configuration COMPLETED and the iteration finished."""
        if self.num_running > 0:
            self.logger.warning("iteration %d finishes with %d runs still outstanding", self.HPB_iter, self.num_running)
        for datum in self.data.values():
            datum.status = COMPLETED
        self._queue.clear()
        self.is_finished = True
        self.logger.debug("iteration %d finished with %d configurations", self.HPB_iter, len(self.data))


class WarmStartIteration(BaseIteration):
    """An earlier run's results as iteration -1 of a new run (HpBandSter's ``WarmStartIteration``).

    Every configuration of ``Result`` becomes ``(-1, 0, i)`` (its ``config_info`` marked ``warmstart=True``,
    with its old id), every run is registered (failed ones too: they count as loss +inf; HpBandSter crashed
    on them) and fed to ``config_generator`` in finishing order, the model refit once at the end. The
    iteration is finished from the start: it hands out no runs. Time stamps are shifted so that the last run
    finishes at 0; :meth:`fix_timestamps` moves them to a new run's time reference.

    An optimizer's ``previous_result=`` does all of this (and journals the runs); this class is for code that
    builds iterations itself.

    Parameters
    ----------
    Result : Result or str
        The earlier run's :class:`~bandster.core.result.Result`, or its journal directory.
    config_generator : base_config_generator
        Receives every run through ``new_result``.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.core.result import Result
    >>> from bandster.optimizers.config_generators import RandomSampling
    >>> old = Result([{(0, 0, 0): Datum({'x': 0.5}, {}, results={1.0: {'loss': 0.2, 'info': None}},
    ...                                 time_stamps={1.0: {'submitted': 0.0, 'started': 1.0, 'finished': 2.0}})}],
    ...              {'time_ref': 0.0, 'max_budget': 1.0})
    >>> it = WarmStartIteration(old, RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)})))
    >>> list(it.data), it.is_finished, it.get_next_run()
    ([(-1, 0, 0)], True, None)
    >>> it.fix_timestamps(100.0)
    >>> it.data[(-1, 0, 0)].time_stamps[1.0]['finished']
    100.0
    """

    def __init__(self, Result: Any, config_generator: Any) -> None:  # noqa: N803 - HpBandSter's names
        from bandster.samplers.warm_start import last_finished, load_previous_result, warmstart_runs

        result, _ = load_previous_result(Result)
        last = last_finished(result)
        entries, jobs = warmstart_runs(result, -last if last is not None else 0.0)
        budgets = sorted({float(job.kwargs["budget"]) for job in jobs}) or [0.0]
        super().__init__(-1, [max(1, len(entries))], [budgets[-1]], None)
        for new_id, entry in entries.items():
            self.data[new_id] = Datum(config=entry["config"], config_info=entry["config_info"], budget=budgets[-1])
        self.actual_num_configs = [len(entries)]
        for k, job in enumerate(jobs):
            self.register_result(job, skip_sanity_checks=True)
            config_generator.new_result(job, update_model=(k == len(jobs) - 1))
        self.finish_up()

    def fix_timestamps(self, time_ref: float) -> None:
        """Add ``time_ref`` to every time stamp (HpBandSter's method: place the runs before a new run)."""
        for datum in self.data.values():
            for stamps in datum.time_stamps.values():
                for key, value in stamps.items():
                    stamps[key] = value + time_ref
