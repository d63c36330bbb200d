"""Asynchronous successive halving as the Master sees it: one "iteration" per bracket, sharing one schedule.

The :class:`~bandster.core.master.Master` drives iterations: it asks them, oldest first, for their next run and
gives each result to ``iterations[config_id[0]]``. The asynchronous optimizers
(:mod:`bandster.optimizers.asynchronous`) keep one :class:`AsynchronousIteration` per bracket, all sharing one
:class:`AsyncBrackets`. Whichever of them the master asks, the answer is the schedule's next job
(:meth:`bandster.optimizers.asha.AsyncSchedule.propose`), possibly a configuration of another bracket: the
master submits it under its config id, so its result still reaches the right iteration.

Config ids are ``(bracket, 0, n)``: ``n`` counts the configurations of the bracket; a promoted configuration keeps
its id and runs again on the next budget. Each iteration keeps HpBandSter's ``data`` (config id ->
:class:`~bandster.core.base_iteration.Datum`, results keyed by budget), which the master reads for
``previous_budget``.

None of this holds a lock: the master calls it under its own.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from bandster.core._convert import config_to_dict, to_builtin
from bandster.core.base_iteration import QUEUED, RUNNING, ConfigId, Datum
from bandster.core.job import Job
from bandster.optimizers.asha import AsyncSchedule, ranking_loss

logger = logging.getLogger(__name__)

__all__ = ["AsyncBrackets", "AsynchronousIteration"]


class AsyncBrackets:
    """What the iterations of one asynchronous optimizer share: the schedule and one iteration per bracket.

    Parameters
    ----------
    schedule : AsyncSchedule
        The rung ladders and the promotion rule.
    logger : logging.Logger, optional
    """

    def __init__(self, schedule: AsyncSchedule, logger: logging.Logger | None = None) -> None:
        self.schedule = schedule
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.iterations: dict[int, AsynchronousIteration] = {}

    def __repr__(self) -> str:
        return f"AsyncBrackets({self.schedule!r}, iterations={sorted(self.iterations)})"

    def add(self, iteration: AsynchronousIteration) -> None:
        """Register the iteration of a bracket."""
        b = iteration.HPB_iter
        if not 0 <= b < self.schedule.n_brackets:
            raise ValueError(f"bracket {b} is not in 0..{self.schedule.n_brackets - 1}")
        if b in self.iterations:
            raise ValueError(f"bracket {b} already has an iteration")
        self.iterations[b] = iteration

    @property
    def finished(self) -> bool:
        """True when no job runs and none may start under the current limits."""
        return self.schedule.finished

    def next_run(self) -> tuple[ConfigId, dict, float] | None:
        """The next job, started: ``(config_id, config, budget)``, or None (see ``AsyncSchedule.propose``)."""
        decision = self.schedule.propose()
        if decision is None:
            return None
        iteration = self.iterations.get(decision.bracket)
        if iteration is None:
            raise RuntimeError(f"bracket {decision.bracket} has no iteration; create one per bracket first")
        if decision.kind == "new":  # a configuration added by hand goes first
            config_id = iteration.next_queued() or iteration._add(None, None, queue=False)
        else:
            config_id = decision.key  # type: ignore[assignment]
        return iteration.start(config_id, decision.level)

    def __len__(self) -> int:
        return len(self.iterations)


class AsynchronousIteration:
    """One bracket of asynchronous successive halving, with the interface the Master drives.

    It offers what :class:`~bandster.core.base_iteration.BaseIteration` offers the master (``get_next_run``,
    ``register_result``, ``is_finished``, ``data``, ``HPB_iter``, ``budgets``, ``num_configs``,
    ``config_sampler``, ``add_configuration``) but has no stages: its configurations climb the rungs one at a
    time, as the shared schedule decides.

    Parameters
    ----------
    HPB_iter : int
        The bracket: the first element of its config ids. Bracket ``b`` climbs ``schedule.budgets[b:]``.
    brackets : AsyncBrackets
        The shared schedule; this iteration registers itself there.
    config_sampler : callable, optional
        ``config_sampler(budget) -> (config_dict, config_info_dict)``, usually the master's.
    logger : logging.Logger, optional
    result_logger : object, optional
        Anything with ``new_config(config_id, config, config_info)`` (the journal).

    Attributes
    ----------
    data : dict
        ``config_id -> Datum``, in sampling order; ``Datum.results`` is keyed by budget.
    budgets : list of float
        The budgets of this bracket's rungs.
    num_configs : list of None
        Not fixed in advance (one None per rung, which is what the journal records at the start);
        :meth:`rung_sizes` counts the configurations that reached each rung.
    stage : int
        Always 0: every configuration is sampled on the bracket's first rung.
    actual_num_configs : list of int
        ``[configurations sampled]`` (HpBandSter's name; one stage).
    num_running : int
        Jobs of this bracket handed out and not yet registered.
    """

    def __init__(
        self,
        HPB_iter: int,  # noqa: N803 - HpBandSter's public name
        brackets: AsyncBrackets,
        config_sampler: Callable[[float], tuple[dict, dict]] | None = None,
        logger: logging.Logger | None = None,
        result_logger: Any = None,
    ) -> None:
        self.HPB_iter = int(HPB_iter)
        self.brackets = brackets
        self.schedule = brackets.schedule
        self.budgets = list(self.schedule.budgets[self.HPB_iter :])
        self.num_configs: list[int | None] = [None] * len(self.budgets)
        self.config_sampler = config_sampler
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.result_logger = result_logger
        self.data: dict[ConfigId, Datum] = {}
        self.stage = 0
        self.actual_num_configs = [0]
        self.num_running = 0
        self._queue: deque[ConfigId] = deque()  # added by hand, not started yet
        brackets.add(self)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(HPB_iter={self.HPB_iter}, budgets={self.budgets}, "
                f"configs={len(self.data)}, rung_sizes={self.rung_sizes()}, num_running={self.num_running})")

    # ------------------------------------------------------------------ queries
    @property
    def is_finished(self) -> bool:
        """True when no job of any bracket runs and none may start under the current limits.

        All brackets share this state. It turns False again when a later ``run()`` raises the limits.
        """
        return self.brackets.finished

    def is_active(self) -> bool:
        """The opposite of :attr:`is_finished`."""
        return not self.is_finished

    def rung_sizes(self) -> list[int]:
        """How many configurations of this bracket reached each rung (finished or running there)."""
        sizes = [0] * len(self.budgets)
        for datum in self.data.values():
            reached = [b for b in self.budgets if b in datum.results]
            if datum.status == RUNNING:
                reached.append(datum.budget)
            for b in set(reached):
                sizes[self.budgets.index(b)] += 1
        return sizes

    # ------------------------------------------------------------------ sampling and scheduling
    def add_configuration(self, config: Mapping[str, Any] | None = None, config_info: Any = None) -> ConfigId:
        """Add a configuration to this bracket, QUEUED on its first rung, and return its config id.

        The schedule does not know it until it starts: the next time the schedule starts a new configuration in
        this bracket, it takes the oldest one added this way instead of sampling one.

        Parameters
        ----------
        config : mapping, optional
            A dict or ConfigSpace ``Configuration``; drawn with ``config_sampler(budgets[0])`` when None.
        config_info : dict, optional

        Returns
        -------
        tuple of int
            ``(HPB_iter, 0, n)``.
        """
        return self._add(config, config_info, queue=True)

    def _add(self, config: Mapping[str, Any] | None, config_info: Any, queue: bool) -> ConfigId:
        if config is None:
            if self.config_sampler is None:
                raise RuntimeError(f"bracket {self.HPB_iter} has no config_sampler; pass the configuration explicitly")
            config, config_info = self.config_sampler(self.budgets[0])
        if not isinstance(config, Mapping):
            raise TypeError(
                f"a configuration must be a dict or a ConfigSpace Configuration, got {type(config).__name__}"
            )
        config = config_to_dict(config)
        config_info = to_builtin(config_info) if config_info is not None else {}
        config_id = (self.HPB_iter, 0, self.actual_num_configs[0])
        self.actual_num_configs[0] += 1
        self.data[config_id] = Datum(config=config, config_info=config_info, budget=self.budgets[0])
        if queue:
            self._queue.append(config_id)
        if self.result_logger is not None:
            self.result_logger.new_config(config_id, config, config_info)
        return config_id

    def next_queued(self) -> ConfigId | None:
        """Take the oldest configuration that was added and not started yet, or None."""
        while self._queue:
            config_id = self._queue.popleft()
            if self.data[config_id].status == QUEUED:
                return config_id
        return None

    def restore_configuration(self, config_id: ConfigId, config: dict, config_info: Any) -> None:
        """Add a journaled configuration under its recorded id (on resume); nothing is logged."""
        config_id = tuple(int(i) for i in config_id)  # type: ignore[assignment]
        if config_id[0] != self.HPB_iter or config_id[1] != 0:
            raise ValueError(f"config id {config_id} does not belong to bracket {self.HPB_iter}")
        if config_id in self.data:
            raise ValueError(f"config id {config_id} is already known")
        self.data[config_id] = Datum(config=config_to_dict(config), config_info=to_builtin(config_info or {}),
                                     budget=self.budgets[0])
        self.actual_num_configs[0] = max(self.actual_num_configs[0], config_id[2] + 1)

    def start(self, config_id: ConfigId, level: int) -> tuple[ConfigId, dict, float]:
        """Start a configuration of this bracket on ladder ``level`` (the schedule records it and its budget).

        Returns
        -------
        tuple
            ``(config_id, config, budget)``; the configuration is now RUNNING.
        """
        datum = self.data[config_id]
        if datum.status == RUNNING:
            raise ValueError(f"config {config_id} is already running")
        budget = self.schedule.start(config_id, self.HPB_iter, level)
        datum.status = RUNNING
        datum.budget = budget
        self.num_running += 1
        return config_id, datum.config, budget

    def get_next_run(self) -> tuple[ConfigId, dict, float] | None:
        """The schedule's next job, started: ``(config_id, config, budget)``, or None.

        The job may belong to another bracket (its config id says which); None means that nothing may start
        now (all limits and eligibility considered).
        """
        return self.brackets.next_run()

    # ------------------------------------------------------------------ results
    def register_result(self, job: Job, skip_sanity_checks: bool = False) -> None:
        """Store the outcome of a finished job and put it on its rung.

        The configuration becomes REVIEW when ``job.result`` is a dict with a finite numeric loss and CRASHED
        otherwise (then it ranks last and is never promoted). A bad result never raises.

        Parameters
        ----------
        job : Job
        skip_sanity_checks : bool
            Accept a result for a configuration that is not RUNNING on the job's budget (it is then started there
            first, as when importing earlier results).

        Raises
        ------
        ValueError
            If the config id is unknown to this bracket or, unless skipped, it is not RUNNING on this budget.
        """
        config_id = tuple(job.id)
        datum = self.data.get(config_id)  # type: ignore[arg-type]
        if datum is None:
            raise ValueError(
                f"result for config {config_id}, which bracket {self.HPB_iter} does not know; "
                "results must go to the iteration whose index is config_id[0]"
            )
        budget = float(job.kwargs.get("budget", datum.budget))
        running = datum.status == RUNNING and budget == datum.budget
        if not running:
            if not skip_sanity_checks:
                raise ValueError(
                    f"result for config {config_id} on budget {budget}, but it is {datum.status} on budget "
                    f"{datum.budget}; a result may be registered once per handed-out run"
                )
            if budget not in self.budgets:
                raise ValueError(f"budget {budget} is not a rung of bracket {self.HPB_iter}: {self.budgets}")
            if datum.status == RUNNING:
                raise ValueError(f"config {config_id} is running on budget {datum.budget}, not {budget}")
            self.start(config_id, self.HPB_iter + self.budgets.index(budget))  # type: ignore[arg-type]
        result = job.result
        ok = datum.record(budget, job)
        self.num_running -= 1
        self.schedule.finish(config_id, ranking_loss(result.get("loss")) if ok else None)  # type: ignore[union-attr]
        if not ok:
            self.logger.debug("config %s failed on budget %s (result=%r, exception=%r)", config_id, budget, result,
                              job.exception)

    def num_pending(self) -> int:
        """Configurations added and not started yet."""
        return sum(1 for cid in self._queue if self.data[cid].status == QUEUED)
