"""Early stopping: every job runs toward ``max_budget`` and the scheduler stops it at one of its reports.

Two layers, each pure (no threads, no network):

* :class:`EarlyStoppingScheduler`: what every stopping-type scheduler shares. Each new configuration is one job
  handed ``budget = max_budget``; the job reports points of its learning curve (``on_report(job, step, loss)``)
  and the scheduler answers CONTINUE or STOP. Limits, budget accounting, the sampler and resume live here;
  a subclass only implements :meth:`EarlyStoppingScheduler.decide`.
* :class:`StoppingRungs` and :class:`StoppingASHAScheduler`: the stopping variant of ASHA (one bracket) and of
  asynchronous Hyperband (several brackets, i.e. several grace periods), the rule of Ray Tune's
  ``ASHAScheduler`` and Syne Tune's stopping-type ASHA. The median stopping rule is in
  :mod:`bandster.schedulers.median_stopping`.

Budget accounting (consumed steps)
----------------------------------
The *consumed budget* of a finished job is the step it was stopped at (the step of the report that received
STOP), or its ``budget`` when it was not stopped (it ran to the end; a failed job without reports also counts its
full budget, a failed job with reports the last step it reported). While a job runs it is *charged* its full
budget (a reservation): a job starts only while ``consumed + charged`` of all jobs is below the limit, and when
it ends its charge is replaced by what it consumed, which frees the rest for new jobs. So the total consumed
budget never exceeds the limit by one ``max_budget`` or more, as for the promotion-type optimizers.

``grant(n_iterations)`` sets that limit (:meth:`EarlyStoppingScheduler.budget_limit`: for stopping ASHA the
budget of ``n_iterations`` synchronous Hyperband iterations on the same budgets,
:func:`~bandster.schedulers.asha.hyperband_budget`); the runner's ``max_budget_spent`` counts in the same way
(:attr:`Scheduler.refunds_budget` is True: a stopped job's unused budget is given back when it ends).
"""

from __future__ import annotations

import abc
import bisect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bandster.core._convert import is_finite_loss
from bandster.core.job import Job
from bandster.schedulers import brackets
from bandster.schedulers._base import Decision, JobRequest, Scheduler
from bandster.schedulers.asha import bracket_weights, choose_bracket, hyperband_budget, ranking_loss, rung_quotient

logger = logging.getLogger(__name__)

__all__ = ["EarlyStoppingScheduler", "JobState", "StoppingASHAScheduler", "StoppingRungs", "stopping_levels",
           "num_to_continue"]

#: Relative tolerance of the budget limit (sums of float budgets).
_BUDGET_TOL = 1e-9


def stopping_levels(min_budget: float, max_budget: float, eta: float) -> list[float]:
    """The rung levels ``min_budget * eta ** k`` below ``max_budget`` (``max_budget`` itself is the end of a job).

    A level within a relative 1e-9 of ``max_budget`` counts as ``max_budget`` (no rung there).

    Examples
    --------
    >>> stopping_levels(1, 81, 3), stopping_levels(1, 100, 3), stopping_levels(5, 5, 3)
    ([1.0, 3.0, 9.0, 27.0], [1.0, 3.0, 9.0, 27.0, 81.0], [])
    """
    brackets.validate_budgets(min_budget, max_budget, eta)
    levels: list[float] = []
    k = 0
    while True:
        level = float(min_budget) * float(eta) ** k
        if level >= float(max_budget) * (1 - 1e-9):
            return levels
        levels.append(level)
        k += 1


def num_to_continue(n: int, eta: float) -> int:
    """``ceil(n / eta)``; a quotient within a relative 1e-9 of an integer counts as that integer.

    Examples
    --------
    >>> [num_to_continue(n, 3) for n in range(1, 8)]
    [1, 1, 1, 2, 2, 2, 3]
    """
    return rung_quotient(n, eta, round_up=True)


class StoppingRungs:
    """The rungs of one bracket of stopping-type ASHA: every value recorded per rung, and the stop rule.

    The rule (:meth:`record`): when a job's report reaches rung ``r`` (the first report whose step is at least
    ``levels[r]``), its loss is recorded there; with ``n`` values recorded at the rung, its own included, the job
    continues iff its loss is finite and fewer than ``ceil(n / eta)`` recorded values are strictly smaller. So the
    first job at a rung always continues, equal losses rank alike, and a NaN, infinite or missing loss always
    stops (it is recorded as ``+inf``).

    Parameters
    ----------
    levels : sequence of float
        The rung levels (steps), strictly increasing.
    eta : float
        ``eta > 1``.

    Examples
    --------
    >>> rungs = StoppingRungs([1, 3, 9], eta=3)
    >>> [rungs.record(0, key, loss) for key, loss in (("a", 0.5), ("b", 0.2), ("c", 0.9), ("d", 0.3))]
    [True, True, False, True]
    >>> rungs.values(0)
    [0.2, 0.3, 0.5, 0.9]
    """

    def __init__(self, levels: Sequence[float], eta: float) -> None:
        values = [float(level) for level in levels]
        if any(not b > a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError(f"rung levels must increase strictly, got {values}")
        if not float(eta) > 1:
            raise ValueError(f"eta must be > 1, got {eta!r}")
        self.levels = values
        self.eta = float(eta)
        self._sorted: list[list[float]] = [[] for _ in values]
        self._keys: list[set] = [set() for _ in values]

    def __len__(self) -> int:
        return len(self.levels)

    def crossed(self, next_rung: int, step: float) -> list[int]:
        """The rungs from ``next_rung`` on whose level ``step`` reaches (``level <= step``), lowest first."""
        end = bisect.bisect_right(self.levels, float(step) * (1 + 1e-12))
        return list(range(next_rung, max(next_rung, end)))

    def record(self, rung: int, key: Any, loss: Any) -> bool:
        """Record ``key``'s loss at ``rung``; True: the job continues, False: it stops (see the class docs).

        Raises
        ------
        ValueError
            If ``key`` already has a value at ``rung``.
        """
        if key in self._keys[rung]:
            raise ValueError(f"{key!r} already has a value at rung {rung} (step {self.levels[rung]:g})")
        value = ranking_loss(loss)
        self._keys[rung].add(key)
        bisect.insort(self._sorted[rung], value)
        if not math.isfinite(value):
            return False
        better = bisect.bisect_left(self._sorted[rung], value)
        return better < num_to_continue(len(self._sorted[rung]), self.eta)

    def values(self, rung: int) -> list[float]:
        """The losses recorded at ``rung``, ascending (a copy)."""
        return list(self._sorted[rung])

    def rung_sizes(self) -> list[int]:
        """The number of values recorded at each rung."""
        return [len(values) for values in self._sorted]


@dataclass
class JobState:
    """What a stopping scheduler knows about one configuration's job.

    Attributes
    ----------
    bracket : int
    config : dict
    budget : float
        The budget the job was handed (``max_budget``).
    steps : list of float
        The steps reported, in order.
    losses : list of float
        The losses reported (as ranking losses: ``+inf`` for a bad value).
    next_rung : int
        The first rung not decided yet (stopping ASHA).
    stopped_at : float or None
        The step of the report that received STOP.
    running : bool
    consumed : float
        The budget the finished job consumed (0 while it runs).
    """

    bracket: int
    config: dict
    budget: float
    config_info: dict = field(default_factory=dict)
    steps: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    next_rung: int = 0
    stopped_at: float | None = None
    running: bool = True
    consumed: float = 0.0

    @property
    def last_step(self) -> float | None:
        return self.steps[-1] if self.steps else None

    def best(self) -> float:
        """The lowest loss reported so far (``+inf`` if none)."""
        return min(self.losses, default=math.inf)


class EarlyStoppingScheduler(Scheduler):
    """What stopping-type schedulers share: one job per configuration, on ``max_budget``, stopped at a report.

    Config ids are ``(bracket, 0, n)``: the ``n``-th configuration of bracket ``bracket`` (bracket 0 only, unless
    a subclass has several). Every new configuration comes from :meth:`~Scheduler.sample_config`; every decided
    rung value (see the subclass) and every finished job that was not stopped is fed to the sampler, a stopped
    job's final value is not (it is not a value at its ``budget``).

    Limits of ``grant(n_iterations, max_configs)``: jobs start while the consumed plus charged budget (see the
    module docs) is below :meth:`budget_limit` of the granted iterations (grants add up; after a resume the first
    grant counts the run's total) and, with ``max_configs``, at most that many new configurations under this
    grant.

    Parameters
    ----------
    sampler : base_config_generator
    max_budget : float
        The budget every job is handed; reports are steps up to it.
    n_brackets : int
    weights : sequence of int, optional
        The share of new configurations of each bracket (deterministic, :func:`choose_bracket`).
    initial_design : InitialDesign, optional
    """

    refunds_budget = True

    def __init__(self, sampler: Any, max_budget: float, n_brackets: int = 1, weights: Sequence[int] | None = None,
                 initial_design: Any = None) -> None:
        super().__init__(sampler, initial_design)
        self.max_budget = float(max_budget)
        self.n_brackets = int(n_brackets)
        self.weights = list(weights) if weights is not None else [1] * self.n_brackets
        self.started = [0] * self.n_brackets
        self.jobs: dict[tuple, JobState] = {}
        self.consumed = 0.0
        self.num_running = 0
        self.budget_limit_value: float | None = None
        self.new_config_limit: int | None = None
        self.granted_iterations = 0
        self.resumed = False
        self.replaying = False  # True while replay() re-records the journaled reports

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def decide(self, key: tuple, state: JobState, step: float, loss: float) -> Decision:
        """The decision on a report (``state`` already holds it); record what the rule needs."""

    @abc.abstractmethod
    def budget_limit(self, n_iterations: int) -> float:
        """The budget (consumed plus charged) a run of ``n_iterations`` iterations may use."""

    # ------------------------------------------------------------------ accounting
    @property
    def num_configs(self) -> int:
        """The number of configurations started."""
        return sum(self.started)

    @property
    def budget_charged(self) -> float:
        """The consumed budget of the finished jobs plus the full budget of each running job."""
        return self.consumed + self.num_running * self.max_budget

    def budget_exhausted(self) -> bool:
        limit = self.budget_limit_value
        return limit is not None and self.budget_charged >= limit * (1 - _BUDGET_TOL)

    def configs_exhausted(self) -> bool:
        return self.new_config_limit is not None and self.num_configs >= self.new_config_limit

    def consumed_budget(self, job: Job) -> float:
        """What a finished job consumed: the step it was stopped at, else its full budget (a failed job that
        reported: its last step)."""
        state = self.jobs.get(tuple(job.id))
        budget = float(job.kwargs.get("budget", self.max_budget))
        if state is None:
            return budget
        if state.stopped_at is not None:
            return min(budget, state.stopped_at)
        result = job.result if isinstance(job.result, dict) else None
        if result is not None and result.get("stopped_at") is not None:  # stopped by the runtime (a cancel)
            try:
                return min(budget, float(result["stopped_at"]))
            except (TypeError, ValueError):
                pass
        if (result is None or not is_finite_loss(result.get("loss"))) and state.last_step is not None:
            return min(budget, state.last_step)
        return budget

    # ------------------------------------------------------------------ Scheduler
    def grant(self, n_iterations: int, max_configs: int | None = None) -> dict[str, Any]:
        self.add_grant(n_iterations, max_configs)
        self.budget_limit_value = self.budget_limit(self.granted_iterations)
        self.new_config_limit = None if max_configs is None else self.num_configs + max_configs
        self._event("stopping_limits", n_iterations=self.granted_iterations, budget_limit=self.budget_limit_value,
                    consumed=self.consumed, max_configs=max_configs)
        logger.info("budget limit %g (consumed plus charged; %g consumed so far); %s", self.budget_limit_value,
                    self.consumed, "no limit on configurations" if max_configs is None
                    else f"at most {max_configs} new configs")
        return {"n_iterations": self.granted_iterations}

    def next_job(self) -> JobRequest | None:
        if self.budget_limit_value is None or self.budget_exhausted() or self.configs_exhausted():
            return None
        b = choose_bracket(self.started, self.weights)
        config, info = self.sample_config(self.max_budget)
        key = (b, 0, self.started[b])
        self.started[b] += 1
        self.jobs[key] = JobState(bracket=b, config=dict(config), budget=self.max_budget, config_info=dict(info or {}))
        self.num_running += 1
        return JobRequest(key, dict(config), self.max_budget, config_info=dict(info or {}))

    def on_report(self, job: Job, step: float, loss: float, info: Any = None) -> Decision:
        """Record the report and decide (reports of unknown, finished or already stopped jobs: STOP, logged)."""
        key = tuple(job.id)
        state = self.jobs.get(key)
        if state is None or not state.running or state.stopped_at is not None:
            logger.info("report of job %s at step %s ignored: the job is %s", key, step,
                        "unknown" if state is None else "stopped" if state.stopped_at is not None else "finished")
            return Decision.STOP
        try:
            step = float(step)
        except (TypeError, ValueError):
            logger.warning("report of job %s with step %r ignored: a step is a number", key, step)
            return Decision.CONTINUE
        if state.steps and step < state.steps[-1]:
            logger.warning("report of job %s at step %g after step %g ignored: steps must not decrease", key, step,
                           state.steps[-1])
            return Decision.CONTINUE
        state.steps.append(step)
        state.losses.append(ranking_loss(loss))
        decision = self.decide(key, state, step, loss)
        if decision is Decision.STOP:
            state.stopped_at = step
            self._event("job_stopped", config_id=list(key), step=step, loss=ranking_loss(loss))
            logger.debug("job %s stopped at step %g (loss %r)", key, step, loss)
        return decision

    def on_result(self, job: Job) -> None:
        key = tuple(job.id)
        state = self.jobs.get(key)
        if state is None or not state.running:
            logger.warning("result of job %s ignored: it was not handed out or finished already", key)
            return
        state.running = False
        state.consumed = self.consumed_budget(job)
        self.consumed += state.consumed
        self.num_running -= 1
        if state.stopped_at is None:
            self.feed_sampler(job)

    def is_done(self) -> bool:
        if self.num_running > 0:
            return False
        return self.budget_limit_value is None or self.budget_exhausted() or self.configs_exhausted()

    def manifest(self) -> dict[str, Any]:
        return {"scheduler": type(self).__name__, "max_budget": self.max_budget, "n_brackets": self.n_brackets,
                "type": "stopping"}

    def feed_rung_value(self, key: tuple, state: JobState, level: float, loss: Any) -> None:
        """Give the sampler ``key``'s loss at step ``level`` (BOHB's model is fitted on rung data)."""
        rung_job = Job(key, config=state.config, budget=float(level))
        rung_job.result = {"loss": loss, "info": {"rung_level": float(level)}}
        self.feed_sampler(rung_job, update_model=not self.replaying)

    # ------------------------------------------------------------------ resume
    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """Rebuild from a journal (``resume=True``).

        Every journaled configuration of a bracket keeps its id (new ids continue after it). The journaled
        reports (``result.get_reports()``) of every job with a recorded result are recorded again in the order the
        runner took them, through :meth:`decide`, so the rung records (and the median stopping rule's curves) and
        the rung values given to the sampler are what they were; the step at which a job was stopped comes from
        the journaled decision (or, without one, from its run's ``stopped_at``). Reports of another attempt than
        the one whose result is recorded are left out. Every finished job counts its consumed budget; those that
        were not stopped go to the sampler, as in :meth:`on_result`. A configuration without a result (running
        at the crash) runs again from the start, first: its journaled reports stay in the journal but are not
        recorded again, since its new run reports them again.
        """
        time_ref = result.HB_config.get("time_ref") or 0.0
        id2conf = result.get_id2config_mapping()
        finished: dict[tuple, Any] = {}
        for run in result.get_all_runs():
            finished[tuple(run.config_id)] = run
        self.skip_initial_design(e["config_info"] for e in id2conf.values())
        requeued: list[JobRequest] = []
        skipped = 0
        for key in sorted(cid for cid in id2conf if cid[0] >= 0):
            key = tuple(int(i) for i in key)
            if len(key) != 3 or key[1] != 0 or not 0 <= key[0] < self.n_brackets:
                skipped += 1
                continue
            entry = id2conf[key]
            b = key[0]
            self.started[b] = max(self.started[b], key[2] + 1)
            state = JobState(bracket=b, config=dict(entry["config"]), budget=self.max_budget,
                             config_info=dict(entry.get("config_info") or {}))
            self.jobs[key] = state
            if key not in finished:
                self.num_running += 1
                requeued.append(JobRequest(key, state.config, self.max_budget, config_info=state.config_info,
                                           attempt=attempts[(key, self.max_budget)] + 1))
                continue
            state.running = False
        n_reports = self._replay_reports(result, finished)
        for key, run in finished.items():
            state = self.jobs.get(key)
            if state is None or state.running:
                continue
            stopped = run.stopped_at
            if state.stopped_at is None and stopped is not None:
                state.stopped_at = float(stopped)
            state.consumed = float(run.budget) if stopped is None else min(float(run.budget), float(stopped))
            self.consumed += state.consumed
            if state.stopped_at is None:
                self.feed_sampler(Job.from_run(run, state.config, time_ref), update_model=False)
        if skipped:
            logger.warning("resume: %d configurations of the journal do not fit this scheduler's brackets", skipped)
        self.resumed = True
        return requeued, {"iterations": self.n_brackets, "runs": len(finished), "requeued": len(requeued),
                          "reports": n_reports}

    def _replay_reports(self, result: Any, finished: dict[tuple, Any]) -> int:
        """Record the journaled reports of the finished jobs again (see :meth:`replay`); how many were."""
        get_reports = getattr(result, "get_reports", None)
        n = 0
        self.replaying = True
        try:
            for report in get_reports() if get_reports is not None else ():
                key = tuple(report.config_id)
                state, run = self.jobs.get(key), finished.get(key)
                if state is None or run is None or state.running or state.stopped_at is not None:
                    continue
                if report.attempt is not None and run.attempt is not None and report.attempt != run.attempt:
                    continue  # an attempt whose outcome was lost (its worker or the master died)
                if state.steps and report.step < state.steps[-1]:
                    continue  # ignored when it came, as on_report ignores it
                state.steps.append(float(report.step))
                state.losses.append(ranking_loss(report.loss))
                self.decide(key, state, float(report.step), report.loss)
                if report.decision in (Decision.STOP.value, Decision.PAUSE.value):
                    state.stopped_at = float(report.step)
                n += 1
        finally:
            self.replaying = False
        return n


class StoppingASHAScheduler(EarlyStoppingScheduler):
    """Stopping-type ASHA (one bracket) or asynchronous Hyperband with stopping (several brackets).

    Every job is handed ``budget = max_budget``; its reports are points of its learning curve. Bracket ``b`` has
    the rung levels ``levels[b:]`` where ``levels = min_budget * eta ** k`` below ``max_budget``
    (:func:`stopping_levels`): its grace period is ``levels[b]``. At a report whose step reaches one or more
    undecided rung levels of its bracket, the report's loss is recorded at each of them, lowest first, and the
    rule of :class:`StoppingRungs` decides at each: with ``n`` values at the rung (its own included), the job
    continues iff its loss is finite and fewer than ``ceil(n / eta)`` of them are strictly smaller. The first STOP
    ends the job. Reports between rung levels always continue; the value at each rung goes to the sampler (BOHB's
    model is fitted on rung data, with the rung level as budget).

    New configurations go to the bracket furthest behind its share (:func:`choose_bracket` with the weights of
    :func:`bracket_weights`, as for promotion-type asynchronous Hyperband). Config ids ``(bracket, 0, n)``.

    ``grant(n_iterations)``: the budget limit is that of ``n_iterations`` synchronous Hyperband iterations on
    ``budget_ladder(min_budget, max_budget, eta)`` (:func:`hyperband_budget`), counted in consumed steps (see the
    module docs).

    Parameters
    ----------
    sampler : base_config_generator
        Random sampling (ASHA) or BOHB's model (asynchronous BOHB).
    min_budget, max_budget, eta : float
    n_brackets : int
        1: ASHA; up to ``len(stopping_levels(...))`` brackets (grace periods).
    initial_design : InitialDesign, optional

    Examples
    --------
    Rung levels 1, 3 (max_budget 9, eta 3); driven by ask, reports and tell:

    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> from bandster.schedulers._base import job_from_request
    >>> s = StoppingASHAScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)}), seed=0), 1, 9, 3)
    >>> jobs = [s.ask() for _ in range(3)]
    >>> [job.budget for job in jobs]
    [9.0, 9.0, 9.0]
    >>> [s.on_report(job_from_request(j), 1, loss).value for j, loss in zip(jobs, (0.5, 0.2, 0.9))]
    ['continue', 'continue', 'stop']
    """

    def __init__(self, sampler: Any, min_budget: float, max_budget: float, eta: float = 3, n_brackets: int = 1,
                 initial_design: Any = None) -> None:
        brackets.validate_budgets(min_budget, max_budget, eta)
        levels = stopping_levels(min_budget, max_budget, eta)
        most = max(1, len(levels))
        if isinstance(n_brackets, bool) or not isinstance(n_brackets, int) or not 1 <= n_brackets <= most:
            raise ValueError(f"n_brackets must be an integer between 1 and the number of rung levels ({most} for "
                             f"min_budget={min_budget!r}, max_budget={max_budget!r}, eta={eta!r}), got {n_brackets!r}")
        weights = bracket_weights(len(levels) + 1, eta, n_brackets)
        super().__init__(sampler, max_budget, n_brackets, weights, initial_design)
        self.min_budget, self.eta = float(min_budget), float(eta)
        self.levels = levels
        self.rungs = [StoppingRungs(levels[b:], eta) for b in range(n_brackets)]

    def budget_limit(self, n_iterations: int) -> float:
        """The budget of ``n_iterations`` synchronous Hyperband iterations (:func:`hyperband_budget`)."""
        return hyperband_budget(n_iterations, self.min_budget, self.max_budget, self.eta)

    def decision_steps(self, job: Job) -> list[float] | None:
        """The rung levels of the job's bracket: reports between them always continue."""
        state = self.jobs.get(tuple(job.id))
        return None if state is None else list(self.rungs[state.bracket].levels)

    def decide(self, key: tuple, state: JobState, step: float, loss: float) -> Decision:
        rungs = self.rungs[state.bracket]
        for rung in rungs.crossed(state.next_rung, step):
            state.next_rung = rung + 1
            keep = rungs.record(rung, key, loss)
            self.feed_rung_value(key, state, rungs.levels[rung], loss)
            if not keep:
                return Decision.STOP
        return Decision.CONTINUE

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "min_budget": self.min_budget, "eta": self.eta, "levels": list(self.levels)}

    def rung_sizes(self) -> list[list[int]]:
        """Per bracket, the number of values recorded at each of its rungs."""
        return [rungs.rung_sizes() for rungs in self.rungs]
