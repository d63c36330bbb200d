"""Asynchronous multi-fidelity optimizers: ASHA, asynchronous Hyperband and asynchronous BOHB.

Synchronous successive halving waits at the end of every stage until its slowest run has finished, and
workers idle meanwhile. ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020)
never waits: whenever a worker is free it promotes a configuration that is already in the top ``1/eta`` of
its rung, or starts a new one on the smallest budget. The rules, and the pure bookkeeping behind them, are in
:mod:`bandster.schedulers.asha`; docs/asynchronous.md explains when to use which optimizer.

* :class:`ASHA`: one rung ladder from ``min_budget`` to ``max_budget``, random configurations; config ids
  ``(0, 0, n)``.
* :class:`AsyncHyperBand`: the brackets of Hyperband as rung ladders run side by side (bracket ``b`` starts on
  ``budgets[b]``); each new configuration goes to the bracket furthest behind its share of synchronous
  Hyperband's new configurations. Config ids ``(bracket, 0, n)``.
* :class:`AsyncBOHB`: ASHA (or, with ``n_brackets``, asynchronous Hyperband) whose new configurations come
  from BOHB's KDE model, fitted on the largest budget whose good set is a full ``top_n_percent`` share
  (``model_budget_rule="full_split"``).

A promoted configuration keeps its config id and runs on the next budget; its ``compute`` receives
``config_directory`` (the same for all its runs) and ``previous_budget`` (the budget it was promoted from) and
decides how much to resume from its checkpoint.

Stopping rule of ``run(n_iterations=k)``: jobs start while the budgets of all jobs the run has started add up
to less than the total budget of ``k`` synchronous Hyperband iterations on the same ladder
(:func:`~bandster.schedulers.asha.hyperband_budget`; every job counts with its full budget, a promotion
included, as in the synchronous optimizers and ``max_budget_spent``). See :meth:`AsyncBracketOptimizer.run`.
"""

from __future__ import annotations

import logging
from typing import Any

from bandster.optimizers._bracket_optimizer import BracketOptimizer, require_configspace
from bandster.optimizers.bohb import bohb_model, split_model_settings
from bandster.records.result import Result
from bandster.samplers.kde import SpaceEncoding
from bandster.samplers.random import RandomSampling
from bandster.schedulers import brackets
from bandster.schedulers.asha import AsyncBracketScheduler, AsynchronousIteration, AsyncSchedule
from bandster.schedulers.stopping import StoppingASHAScheduler, stopping_levels

logger = logging.getLogger(__name__)

__all__ = ["ASHA", "ASYNC_MAX_MIN_POINTS", "AsyncBOHB", "AsyncBracketOptimizer", "AsyncHyperBand"]

#: AsyncBOHB's default ``min_points_in_model`` is ``min(d + 1, ASYNC_MAX_MIN_POINTS)`` (docs/asynchronous.md)
ASYNC_MAX_MIN_POINTS = 9


class AsyncBracketOptimizer(BracketOptimizer):
    """What ASHA, AsyncHyperBand and AsyncBOHB share: a :class:`~bandster.schedulers.AsyncBracketScheduler`.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    config_generator : base_config_generator
    eta, min_budget, max_budget : float
        The budget ladder, as for HyperBand: ``budget_ladder(min_budget, max_budget, eta)``.
    seed : int, optional
    optimizer_kwargs : dict
        The optimizer's own arguments, for the journal's manifest.
    n_brackets : int or None
        How many brackets (rung ladders), the most aggressive first: 1 is ASHA, None all of Hyperband's.
    type : {"promotion", "stopping"}
        "promotion" (default): jobs pause at rungs and the best are promoted (:mod:`bandster.schedulers.asha`).
        "stopping": every job is handed ``max_budget`` and reports its learning curve; it is stopped at the
        rung levels ``min_budget * eta ** k`` by the rule of
        :class:`~bandster.schedulers.stopping.StoppingASHAScheduler` (with ``n_brackets`` grace periods).
        The budget limits then count consumed steps (docs/stopping.md).
    **kwargs
        Passed to :class:`~bandster.optimizers._bracket_optimizer.BracketOptimizer` and
        :class:`~bandster.core.master.Master` (``run_id`` is required; ``points_to_evaluate``,
        ``previous_result``, ``resume``, ``job_timeout``, ``backend``, ...).

    Attributes
    ----------
    schedule : AsyncSchedule
        The rung ladders, their results, and the limits of the current ``run()``.
    n_brackets : int
    """

    def __init__(
        self,
        configspace: Any,
        config_generator: Any,
        eta: float,
        min_budget: float,
        max_budget: float,
        seed: int | None,
        optimizer_kwargs: dict[str, Any],
        n_brackets: int | None = 1,
        type: str = "promotion",
        **kwargs: Any,
    ) -> None:
        brackets.validate_budgets(min_budget, max_budget, eta)
        if type not in ("promotion", "stopping"):
            raise ValueError(f"type must be 'promotion' (pause and promote, Li et al. 2020) or 'stopping' (every job "
                             f"on max_budget, stopped at its reports), got {type!r}")
        if type == "stopping":
            num_levels = max(1, len(stopping_levels(min_budget, max_budget, eta)))
            what = "rung levels below max_budget"
        else:
            num_levels = brackets.num_budgets(min_budget, max_budget, eta)
            what = "budgets"
        if n_brackets is None:
            n_brackets = num_levels
        if isinstance(n_brackets, bool) or not isinstance(n_brackets, int) or not 1 <= n_brackets <= num_levels:
            raise ValueError(
                f"n_brackets must be an integer between 1 and the number of {what} ({num_levels} for min_budget="
                f"{min_budget!r}, max_budget={max_budget!r}, eta={eta!r}), or None for all; got {n_brackets!r}"
            )
        self.n_brackets = n_brackets
        self.type = type
        super().__init__(
            configspace,
            config_generator,
            eta,
            min_budget,
            max_budget,
            seed,
            optimizer_kwargs=dict(optimizer_kwargs, n_brackets=n_brackets, type=type),
            **kwargs,
        )
        self.config.update(asynchronous=True, n_brackets=n_brackets, type=type)

    def make_scheduler(self) -> AsyncBracketScheduler | StoppingASHAScheduler:
        if self.type == "stopping":
            return StoppingASHAScheduler(self.config_generator, self.min_budget, self.max_budget, self.eta,
                                         n_brackets=self.n_brackets, initial_design=self.initial_design)
        return AsyncBracketScheduler(self.config_generator, self.min_budget, self.max_budget, self.eta,
                                     n_brackets=self.n_brackets, initial_design=self.initial_design)

    @property
    def schedule(self) -> AsyncSchedule:
        """The rung ladders, their results, and the limits of the current ``run()`` (promotion type only)."""
        if self.type == "stopping":
            raise AttributeError("a stopping-type optimizer has no promotion schedule; see .scheduler.rungs")
        return self.scheduler.schedule

    def run(
        self,
        n_iterations: int = 1,
        min_n_workers: int = 1,
        iteration_kwargs: dict | None = None,
        progress: bool | None = None,
        max_wallclock_time: float | None = None,
        max_budget_spent: float | None = None,
        max_configs: int | None = None,
    ) -> Result:
        """Run until the first limit is reached; return the :class:`Result` of the whole run so far.

        Stopping rule: whenever a worker is free, the next job starts unless

        * the budgets of all jobs this run has started (all ``run()`` calls, and the journal's runs after
          ``resume=True``) add up to the budget of ``n_iterations`` synchronous Hyperband iterations on the same
          ladder or more (``hyperband_budget``: ``sum(num_configs * budget)`` over their stages). Every job
          counts with its full budget, a promotion too, even if its ``compute`` resumes from a checkpoint and
          needs only the increment; the last job to start may overshoot the limit by less than one budget. The
          calls add up: ``run(2)`` then ``run(1)`` allows the budget of Hyperband iterations 0, 1 and 2; after
          ``resume=True`` the first call's ``n_iterations`` counts the run's total, as for the synchronous
          optimizers;
        * ``max_configs`` new configurations have started in this call: from then on only promotions start, and
          the call ends when nothing is eligible any more;
        * ``max_wallclock_time`` seconds have passed or ``max_budget_spent`` was started in this call.

        When a limit is reached no new job starts, running jobs finish (their results are journaled and
        registered), and the call returns. Without a limit on configurations, ``run()`` ends when the budget is
        spent and the last job has finished.

        Parameters
        ----------
        n_iterations : int
            The run's budget, in synchronous Hyperband iterations (``>= 1``); see above.
        min_n_workers : int
            Start once this many workers have joined.
        iteration_kwargs : dict, optional
            Not used by the asynchronous iterations (accepted for compatibility).
        progress : bool or None
            Show a progress bar (None: only on a terminal).
        max_wallclock_time : float, optional
            Seconds after which no new job starts.
        max_budget_spent : float, optional
            No new job starts once the budgets of the jobs started in this call add up to this.
        max_configs : int, optional
            The most new configurations this call starts.
        """
        return super().run(n_iterations, min_n_workers, iteration_kwargs, progress, max_wallclock_time,
                           max_budget_spent, max_configs)

    def budget_limit(self, n_iterations: int) -> float:
        """The budget ``run`` may start for a run of ``n_iterations`` synchronous Hyperband iterations in total."""
        return self.scheduler.budget_limit(n_iterations)

    def get_next_iteration(self, iteration: int, iteration_kwargs: dict | None = None) -> AsynchronousIteration:
        """The iteration of bracket ``iteration`` (created by the scheduler at the first ``run()``)."""
        return self.scheduler.iterations[iteration]

    def stage_plan(self, iteration: int) -> tuple[list[int | None], list[float]]:
        """``([None] * rungs, budgets)`` of bracket ``iteration``: how many configurations reach a rung is not
        planned in advance."""
        return self.scheduler.stage_plan(iteration)


class ASHA(AsyncBracketOptimizer):
    """Asynchronous successive halving (promotion type) over random configurations.

    One rung ladder, ``budget_ladder(min_budget, max_budget, eta)``. Whenever a worker is free, the best
    configuration of the highest rung that is in the top ``1/eta`` of its rung's results and not promoted yet
    moves up one rung; if no rung has one, a new random configuration starts on the smallest budget. Failed
    runs (exceptions, NaN or infinite losses) rank last and never move up. Config ids are ``(0, 0, n)``.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The search space.
    eta : float
        The top ``1/eta`` of a rung is eligible for the next, ``eta`` times larger budget.
    min_budget, max_budget : float
        The smallest and largest budget; the ladder is anchored at ``max_budget`` (as in HyperBand).
    seed : int, optional
        Seeds the sampler; with one worker the same seed gives the same jobs in the same order.
    type : {"promotion", "stopping"}
        See :class:`AsyncBracketOptimizer`: "stopping" hands every job ``max_budget`` and stops it at its
        reports (``Worker.report`` / a generator objective of the SimulatedBackend); docs/stopping.md.
    **kwargs
        Passed to :class:`~bandster.core.master.Master`: ``run_id`` (required), ``nameserver``,
        ``nameserver_port``, ``working_directory``, ``points_to_evaluate``, ``previous_result``, ``resume``,
        ``job_timeout``, ...

    See Also
    --------
    AsyncBracketOptimizer.run : the stopping rule (``n_iterations`` Hyperband iterations' worth of budget).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.core.nameserver import NameServer
    >>> from bandster.core.worker import Worker
    >>> class W(Worker):
    ...     def compute(self, config, budget, **kwargs):
    ...         return {'loss': (config['x'] - 0.3) ** 2 + 1 / budget, 'info': {}}
    >>> ns = NameServer(run_id='asha_doc'); host, port = ns.start()
    >>> w = W(run_id='asha_doc', nameserver=host, nameserver_port=port); w.run(background=True)
    >>> asha = ASHA(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}), run_id='asha_doc', nameserver=host,
    ...             nameserver_port=port, min_budget=1, max_budget=9, seed=0, working_directory='asha_doc')
    >>> result = asha.run(n_iterations=3, progress=False)  # 3 Hyperband iterations' budget: 27 + 18 + 27
    >>> budgets = [r.budget for r in result.get_all_runs()]
    >>> sum(budgets[:-1]) < 72 <= sum(budgets)  # jobs start while less than 72 was started
    True
    >>> asha.shutdown(shutdown_workers=True); ns.shutdown()
    """

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        seed: int | None = None,
        type: str = "promotion",
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "ASHA")
        super().__init__(
            configspace, RandomSampling(configspace, seed=seed), eta, min_budget, max_budget, seed,
            optimizer_kwargs={}, n_brackets=1, type=type, **kwargs,
        )


class AsyncHyperBand(AsyncBracketOptimizer):
    """Asynchronous Hyperband: several ASHA rung ladders (Hyperband's brackets) side by side.

    Bracket ``b`` climbs ``budgets[b:]``: bracket 0 is ASHA's ladder, the last bracket runs every configuration
    on ``max_budget``. Each new configuration goes to the bracket furthest behind its share of the new
    configurations of synchronous Hyperband (``n0`` of the bracket; :func:`~bandster.schedulers.asha.choose_bracket`,
    deterministic). Whenever a worker is free, the best eligible configuration of the highest budget over all
    brackets moves up (each bracket ranks its own rungs), else a new configuration starts. Config ids are
    ``(bracket, 0, n)``.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    eta, min_budget, max_budget : float
        As for :class:`~bandster.optimizers.HyperBand`.
    n_brackets : int, optional
        Use only the ``n_brackets`` most aggressive brackets (default: all, one per budget; with
        ``type="stopping"`` one per rung level below ``max_budget``: grace periods ``min_budget * eta ** b``).
    seed : int, optional
    type : {"promotion", "stopping"}
        As for :class:`ASHA`.
    **kwargs
        As for :class:`ASHA`.
    """

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        n_brackets: int | None = None,
        seed: int | None = None,
        type: str = "promotion",
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "AsyncHyperBand")
        super().__init__(
            configspace, RandomSampling(configspace, seed=seed), eta, min_budget, max_budget, seed,
            optimizer_kwargs={}, n_brackets=n_brackets, type=type, **kwargs,
        )


class AsyncBOHB(AsyncBracketOptimizer):
    """ASHA whose new configurations come from BOHB's model (asynchronous BOHB).

    The same promotions as :class:`ASHA` (or, with ``n_brackets > 1``, :class:`AsyncHyperBand`); each new
    configuration is proposed by the KDE model of :class:`~bandster.optimizers.BOHB` (every finished job is fed to
    it, promotions included), or drawn at random with probability ``random_fraction`` and while no budget has a
    model. The model's budget: by default (``model_budget_rule="full_split"``) the largest budget with at least
    ``full_split_observations`` results, so that its good set is the best ``top_n_percent`` and not the better
    half of the first ``2 (d + 1)`` (on a rung above the lowest, those are the earliest promotions, made from
    rungs with few results); while no budget has that many, the largest budget with a model (BOHB's rule,
    ``model_budget_rule="enough"``). ``min_points_in_model`` defaults to ``min(d + 1, 9)`` (d = the number of
    modelled hyperparameters; BOHB's d + 1 up to d = 8): with d + 1, the full split needs about 7 d results on a
    budget (114 for d = 16), which the upper rungs of ASHA's ladder collect late in a run, so the model stayed on
    the noisier small budgets. See docs/asynchronous.md for measurements.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    eta, min_budget, max_budget : float
        As for :class:`ASHA`.
    n_brackets : int or None
        1 (default): one ladder, as ASHA; None: all of Hyperband's brackets, as AsyncHyperBand.
    min_points_in_model : int, optional
        Default ``min(d + 1, 9)`` (above); BOHB's default is d + 1.
    top_n_percent, num_samples, random_fraction, bandwidth_factor, min_bandwidth, prior_weight
        The model's settings, keyword arguments of :class:`bandster.samplers.bohb.BOHB` (declared there), with
        the same defaults as for :class:`~bandster.optimizers.BOHB`.
    boundary, bandwidth_floor, inactive, parent_prior_weight
        Also the model's (:class:`bandster.samplers.bohb.BOHB`), with BOHB's defaults.
    model_budget_rule : {"full_split", "enough", "reached"}
        Which budget's model proposes (above; default "full_split", and "reached" with ``type="stopping"``);
        "enough" is synchronous BOHB's rule.
    seed : int, optional
    type : {"promotion", "stopping"}
        As for :class:`ASHA`; with "stopping" the model is given the values recorded at the rung levels
        (budget = rung level) and the completed jobs (budget = ``max_budget``), and by default
        (``model_budget_rule="reached"``) fits one model on all of them: every configuration ranked by the
        highest rung it reached, then by its value there, so the good set is the configurations the stopping
        rule kept longest, not the fastest starters of the lowest rung (docs/benchmarks.md, "Early stopping and
        PASHA on learning curves").
    **kwargs
        As for :class:`ASHA`.
    """

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        n_brackets: int | None = 1,
        seed: int | None = None,
        type: str = "promotion",
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "AsyncBOHB")
        settings = split_model_settings(kwargs)
        settings.setdefault("model_budget_rule", "reached" if type == "stopping" else "full_split")
        if settings.get("min_points_in_model") is None:
            settings["min_points_in_model"] = min(SpaceEncoding(configspace).dim + 1, ASYNC_MAX_MIN_POINTS)
        generator, model_kwargs = bohb_model(configspace, seed, **settings)
        super().__init__(
            configspace, generator, eta, min_budget, max_budget, seed, optimizer_kwargs=model_kwargs,
            n_brackets=n_brackets, type=type, **kwargs,
        )
