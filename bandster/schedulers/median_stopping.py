"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017) as Ray Tune's ``MedianStoppingRule`` has it.

:class:`MedianStoppingScheduler` runs every configuration on ``max_budget`` (random or model-based proposals)
and stops a job at a report when the rule of :class:`MedianStoppingRule` says so. Pure: no threads, no network.
"""

from __future__ import annotations

import logging
import math
import statistics
from typing import Any

from bandster.schedulers._base import Decision, positive_int, positive_number
from bandster.schedulers.stopping import EarlyStoppingScheduler, JobState

logger = logging.getLogger(__name__)

__all__ = ["MedianStoppingRule", "MedianStoppingScheduler"]


class MedianStoppingRule:
    """The median stopping rule over learning curves (pure; keys are any hashables).

    The rule, at a report of job ``j`` at step ``s`` (its points already recorded with :meth:`add`):

    * if ``s < grace_period``: continue;
    * the *peers* are the other jobs (running, finished or stopped) whose latest reported step is ``>= s``;
      with fewer than ``min_samples_required`` peers: continue;
    * each peer's *running average up to s* is the mean of its reported losses at steps ``t`` with
      ``grace_period <= t <= s``; ``m`` is the median of these averages (of an even number: the mean of the two
      middle ones);
    * stop iff ``j``'s best (lowest) loss so far, over all its reports, is strictly greater than ``m``.

    This is Ray Tune's ``MedianStoppingRule`` with ``hard_stop=True`` (a stopped job ends; no pausing) and
    ``min_time_slice=0``. Where it differs from Vizier's rule as published: Vizier compares with the running
    averages of *completed* trials only; Ray Tune (and this rule) counts every other job that has reached step
    ``s``, running and stopped ones included, so it can decide early in a run, before any job has finished.
    Non-finite losses count as ``+inf`` (a job reporting one is stopped once it has enough peers; a peer with
    one has an infinite average).

    Parameters
    ----------
    grace_period : float
        No decision at steps below it.
    min_samples_required : int
        The fewest peers for a decision.

    Examples
    --------
    >>> rule = MedianStoppingRule(grace_period=1, min_samples_required=2)
    >>> for key, curve in {"a": [0.9, 0.5], "b": [0.7, 0.3], "c": [0.8, 0.6]}.items():
    ...     for step, loss in enumerate(curve, start=1):
    ...         rule.add(key, step, loss)
    >>> rule.add("d", 1, 0.8); rule.add("d", 2, 0.75)
    >>> rule.median(2, exclude="d")  # averages up to step 2: a 0.7, b 0.5, c 0.7
    0.7
    >>> rule.should_stop("d", 2)  # best so far 0.75 > 0.7
    True
    """

    def __init__(self, grace_period: float = 1.0, min_samples_required: int = 3) -> None:
        if isinstance(grace_period, bool) or not isinstance(grace_period, int | float) or not grace_period >= 0:
            raise ValueError(f"grace_period must be a number >= 0 (a step), got {grace_period!r}")
        positive_int("min_samples_required", min_samples_required, allow_none=False)
        self.grace_period = float(grace_period)
        self.min_samples_required = int(min_samples_required)
        self._curves: dict[Any, list[tuple[float, float]]] = {}

    def add(self, key: Any, step: float, loss: Any) -> None:
        """Record one report of ``key`` (steps of one key must not decrease)."""
        value = float(loss) if isinstance(loss, int | float) and math.isfinite(loss) else math.inf
        self._curves.setdefault(key, []).append((float(step), value))

    def peers(self, step: float, exclude: Any = None) -> list[Any]:
        """The keys other than ``exclude`` whose latest step is ``>= step``."""
        return [key for key, curve in self._curves.items() if key != exclude and curve and curve[-1][0] >= step]

    def running_average(self, key: Any, step: float) -> float:
        """The mean of ``key``'s losses at steps in ``[grace_period, step]`` (NaN if it has none there)."""
        values = [loss for s, loss in self._curves.get(key, []) if self.grace_period <= s <= step]
        return math.fsum(values) / len(values) if values else math.nan

    def median(self, step: float, exclude: Any = None) -> float | None:
        """The median of the peers' running averages up to ``step``; None with too few peers."""
        peers = self.peers(step, exclude)
        if len(peers) < self.min_samples_required:
            return None
        averages = [self.running_average(key, step) for key in peers]
        averages = [a for a in averages if not math.isnan(a)]
        if len(averages) < self.min_samples_required:
            return None
        return statistics.median(averages)

    def best(self, key: Any) -> float:
        """``key``'s lowest loss so far (``+inf`` if none)."""
        return min((loss for _, loss in self._curves.get(key, [])), default=math.inf)

    def should_stop(self, key: Any, step: float) -> bool:
        """The rule at ``key``'s report at ``step`` (see the class docs)."""
        if float(step) < self.grace_period:
            return False
        median = self.median(float(step), exclude=key)
        return median is not None and self.best(key) > median


class MedianStoppingScheduler(EarlyStoppingScheduler):
    """Every configuration runs on ``max_budget``; a job is stopped by the median stopping rule.

    See :class:`MedianStoppingRule` for the exact rule. New configurations come from the sampler (random, or
    BOHB's model); finished jobs that were not stopped are fed to it at ``max_budget``. Config ids ``(0, 0, n)``.

    ``grant(n_iterations)``: an iteration is ``configs_per_iteration`` configurations' worth of full-length
    budget: the limit is ``n_iterations * configs_per_iteration * max_budget`` in consumed steps (each running job
    charged ``max_budget`` until it ends; see :mod:`bandster.schedulers.stopping`).

    Parameters
    ----------
    sampler : base_config_generator
    max_budget : float
    grace_period : float
        In steps (budget units).
    min_samples_required : int
    configs_per_iteration : int
    initial_design : InitialDesign, optional

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> from bandster.schedulers._base import job_from_request
    >>> s = MedianStoppingScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)}), seed=0),
    ...                             max_budget=10, grace_period=1, min_samples_required=1)
    >>> a, b = s.ask(), s.ask()
    >>> s.on_report(job_from_request(a), 1, 0.5).value  # no peer at step 1 yet
    'continue'
    >>> s.on_report(job_from_request(b), 1, 0.6).value  # 0.6 > median(0.5)
    'stop'
    """

    def __init__(self, sampler: Any, max_budget: float, grace_period: float = 1.0, min_samples_required: int = 3,
                 configs_per_iteration: int = 10, initial_design: Any = None) -> None:
        positive_number("max_budget", max_budget)
        positive_int("configs_per_iteration", configs_per_iteration, allow_none=False)
        super().__init__(sampler, max_budget, 1, None, initial_design)
        self.rule = MedianStoppingRule(grace_period, min_samples_required)
        self.configs_per_iteration = int(configs_per_iteration)

    def budget_limit(self, n_iterations: int) -> float:
        """``n_iterations * configs_per_iteration * max_budget``."""
        return float(n_iterations) * self.configs_per_iteration * self.max_budget

    def decide(self, key: tuple, state: JobState, step: float, loss: float) -> Decision:
        self.rule.add(key, step, loss)
        return Decision.STOP if self.rule.should_stop(key, step) else Decision.CONTINUE

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "grace_period": self.rule.grace_period,
                "min_samples_required": self.rule.min_samples_required,
                "configs_per_iteration": self.configs_per_iteration}
