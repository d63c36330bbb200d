"""PASHA: ASHA with progressively growing maximum budget (Bohdal et al., "PASHA: Efficient HPO and NAS with
Progressive Resource Allocation", ICLR 2023).

A promotion-type scheduler: configurations pause at rungs and are promoted (resuming from their
``config_directory`` checkpoint, with ``previous_budget``) exactly as in promotion-type ASHA
(:mod:`bandster.schedulers.asha`), except that no configuration is promoted above the *current top rung* ``T``.
``T`` starts at the second rung (ladder level 1) and rises by one rung whenever the ranking of the
configurations at rung ``T`` is not (softly) the ranking they had one rung below; it never goes past the top of
the ladder (``max_budget``). Pure: no threads, no network.

The rules, checked after every result and every report (:meth:`ProgressiveSchedule.update`)
-----------------------------------------------------------------------------------------------
* **Ranking check.** Let ``C`` be the configurations with a result at rung ``T``, ``top`` their losses at ``T``
  in ascending order (ties: the earlier result first) and ``prev`` the ascending list of the same
  configurations' losses at rung ``T - 1``. For position ``i``, let ``c_i`` be the configuration ranked ``i`` at
  ``T``. The rankings agree iff for every ``i``: ``|loss_{T-1}(c_i) - prev[i]| <= epsilon`` (``c_i`` lies in the
  group of configurations within ``epsilon`` of the one ranked ``i`` one rung below: the paper's soft ranking).
  If they do not agree, ``T`` rises by one. With fewer than two configurations in ``C`` the rankings agree.
  Failed results rank as ``+inf``.
* **Epsilon** (the paper's automatic estimate from rank swaps). Every configuration has a learning curve: its
  results at their budgets plus its intermediate reports (``on_report``; jobs that do not report give only the
  rung values). For every pair of configurations, take the highest step ``s`` with ``level(T-1) < s <=
  level(T)`` at which both have a value and compare them there; going down through the smaller steps at which
  both have values, if their order is first reversed and later the same again (the pair swapped ranks back and
  forth: noise), ``|difference at s|`` is a *noisy distance*. ``epsilon`` is the 90th percentile (linear
  interpolation) of all noisy distances; while there are none it keeps its previous value (initially 0).
* **When.** After every result (the rung values change) and after every intermediate report at a step ``s``
  with ``level(T-1) < s <= level(T)`` (epsilon may change): Syne Tune 0.13 re-estimates epsilon and re-checks
  after every report, and a report at any other step changes neither epsilon nor the rung values, so it could
  not change the outcome. A report can therefore raise ``T`` before the result that ends its job.
* **Promotions** are those of ASHA (:class:`~bandster.schedulers.asha.AsyncSchedule`) restricted to target
  levels ``<= T``: the best eligible configuration of the highest level below ``T`` moves up, else a new
  configuration starts. When ``T`` rises, the configurations waiting at the old top rung become eligible.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from bandster.core.job import Job
from bandster.schedulers._base import Decision, JobRequest
from bandster.schedulers.asha import AsyncBracketScheduler, AsyncSchedule, RungDecision, ranking_loss

logger = logging.getLogger(__name__)

__all__ = ["PASHAScheduler", "ProgressiveSchedule", "noisy_distances", "ranking_gaps", "rankings_agree"]


def ranking_gaps(top: Sequence[tuple[Hashable, float]], below: dict[Hashable, float]) -> list[float]:
    """Per position ``i`` of ``top`` (``(key, loss)`` at rung ``T``, best first), ``|loss_{T-1}(c_i) - prev[i]|``
    where ``prev`` is the ascending list of ``below`` (the same keys' losses one rung below): 0 when equal,
    ``inf`` when one of the two is not finite. The rankings agree when no gap exceeds epsilon.

    Examples
    --------
    >>> ranking_gaps([("a", 1.0), ("b", 2.0), ("c", 3.0)], {"a": 0.75, "b": 0.5, "c": 1.0})
    [0.25, 0.25, 0.0]
    """
    prev = sorted(below[key] for key, _ in top)
    gaps = []
    for i, (key, _) in enumerate(top):
        a, b = below[key], prev[i]
        gaps.append(0.0 if a == b else abs(a - b) if math.isfinite(a) and math.isfinite(b) else math.inf)
    return gaps


def rankings_agree(top: Sequence[tuple[Hashable, float]], below: dict[Hashable, float], epsilon: float) -> bool:
    """The soft ranking check (module docs): ``top`` is ``(key, loss)`` at rung ``T`` best first, ``below`` the
    same keys' losses one rung below; they agree when every :func:`ranking_gaps` is at most ``epsilon``.

    Examples
    --------
    >>> rankings_agree([("a", 1.0), ("b", 2.0)], {"a": 0.5, "b": 0.7}, 0.0)
    True
    >>> rankings_agree([("a", 1.0), ("b", 2.0)], {"a": 0.7, "b": 0.5}, 0.0)
    False
    >>> rankings_agree([("a", 1.0), ("b", 2.0)], {"a": 0.7, "b": 0.5}, 0.25)
    True
    """
    return len(top) < 2 or all(gap <= epsilon for gap in ranking_gaps(top, below))


def noisy_distances(curves: dict[Hashable, dict[float, float]], low: float, high: float) -> list[float]:
    """The noisy distances of all pairs of curves (``{step: loss}``) between steps ``low`` (excluded) and
    ``high`` (included); see the module docs.

    Examples
    --------
    >>> noisy_distances({"a": {1: 0.5, 2: 0.6, 3: 0.4}, "b": {1: 0.6, 2: 0.5, 3: 0.45}}, 2, 3)
    [0.04999999999999999]
    """
    distances = []
    reached = [(key, curve) for key, curve in curves.items() if any(low < s <= high for s in curve)]
    for (_, c1), (_, c2) in itertools.combinations(sorted(reached, key=lambda kv: repr(kv[0])), 2):
        shared = sorted(set(c1) & set(c2))
        top = [s for s in shared if low < s <= high]
        if not top:
            continue
        s = top[-1]
        order = c1[s] > c2[s]
        reversed_seen = False
        for t in reversed(shared[:shared.index(s)]):
            if c1[t] == c2[t]:
                continue
            if (c1[t] > c2[t]) != order:
                reversed_seen = True
            elif reversed_seen:
                if math.isfinite(c1[s]) and math.isfinite(c2[s]):
                    distances.append(abs(c1[s] - c2[s]))
                break
    return distances


class ProgressiveSchedule(AsyncSchedule):
    """An :class:`AsyncSchedule` (one bracket) whose promotions stop at the current top level :attr:`top_level`.

    Parameters
    ----------
    budgets : sequence of float
    eta : float

    Attributes
    ----------
    top_level : int
        The current top rung ``T`` (ladder level); starts at 1 (0 for a one-budget ladder).
    epsilon : float
        The current soft-ranking tolerance.
    curves : dict
        Per key, ``{step: loss}`` (results and reports).
    history : list of tuple
        ``(top level, budget started)`` at each rise.
    rises : list of dict
        At each rise, what decided it: ``level`` (the new top level), ``configs`` (compared at the old top),
        ``epsilon``, ``out_of_group`` (positions whose gap exceeded epsilon) and ``largest_gap``
        (:func:`ranking_gaps`).

    Examples
    --------
    >>> s = ProgressiveSchedule([1.0, 3.0, 9.0, 27.0], eta=2)
    >>> for key, loss in (("a", 0.5), ("b", 0.2)):
    ...     _ = s.start(key, 0, 0); s.finish(key, loss); _ = s.update()
    >>> s.propose()  # 'b' is in the top half of rung 0
    RungDecision(kind='promote', bracket=0, level=1, budget=3.0, key='b')
    """

    def __init__(self, budgets: Sequence[float], eta: float) -> None:
        super().__init__(budgets, eta, 1)
        self.top_level = min(1, len(self.budgets) - 1)
        self.epsilon = 0.0
        self.curves: dict[Hashable, dict[float, float]] = {}
        self.history: list[tuple[int, float]] = []  # (top level, budget started when it was reached)
        self.rises: list[dict[str, Any]] = []

    def best_promotion(self) -> RungDecision | None:
        """ASHA's promotion restricted to target levels ``<= top_level``."""
        ladder = self.ladders[0]
        for level in range(self.top_level - 1, -1, -1):
            key = ladder.best_candidate(level)
            if key is not None:
                return RungDecision("promote", 0, level + 1, self.budgets[level + 1], key)
        return None

    def finish(self, key: Hashable, loss: Any) -> None:
        level = self.running().get(key)
        super().finish(key, loss)
        if level is not None:
            self.record_point(key, self.budgets[level], loss)

    def record_point(self, key: Hashable, step: float, loss: Any) -> None:
        """One point of ``key``'s learning curve (a report, or a result at its budget)."""
        self.curves.setdefault(key, {})[float(step)] = ranking_loss(loss)

    def report(self, key: Hashable, step: float, loss: Any) -> bool:
        """Record an intermediate report of ``key`` (:meth:`record_point`) and, if its step lies in
        ``(level(T-1), level(T)]`` (where it can change epsilon), :meth:`update`; True if the top level rose."""
        step = float(step)
        self.record_point(key, step, loss)
        t = self.top_level
        if t == 0 or not self.budgets[t - 1] < step <= self.budgets[t]:
            return False
        return self.update()

    def replay_progress(self, events: Iterable[tuple[str, Hashable, float, Any]]) -> None:
        """Take again, on resume, the decisions of a journaled run about the top level.

        ``events`` are ``("result", key, level, loss)`` and ``("report", key, step, loss)`` in the order the master
        took them. A fresh schedule on the same ladder goes through them with the live rules (a result: start,
        finish and :meth:`update`; a report: :meth:`report`); its top level, epsilon, learning curves,
        :attr:`history` and :attr:`rises` become this schedule's. A result that is not a step up its key's ladder
        (other settings) is left out, as the replay of the rungs leaves it out.
        """
        shadow = ProgressiveSchedule(self.budgets, self.eta)
        for kind, key, where, loss in events:
            if kind == "report":
                shadow.report(key, where, loss)
                continue
            try:
                shadow.start(key, 0, int(where))
            except ValueError:
                continue
            shadow.finish(key, loss)
            shadow.update()
        self.top_level, self.epsilon, self.curves = shadow.top_level, shadow.epsilon, shadow.curves
        self.history, self.rises = shadow.history, shadow.rises

    def update(self) -> bool:
        """Re-estimate epsilon and check the rankings; True if the top level rose (by one)."""
        t = self.top_level
        if t == 0 or t >= len(self.budgets) - 1:
            return False
        ladder = self.ladders[0]
        distances = noisy_distances(self.curves, self.budgets[t - 1], self.budgets[t])
        if distances:
            self.epsilon = float(np.percentile(distances, 90))
        top = ladder.ranking(t)
        below = {key: ladder.loss(t - 1, key) for key, _ in top}
        if rankings_agree(top, below, self.epsilon):
            return False
        gaps = ranking_gaps(top, below)
        self.top_level = t + 1
        self.history.append((self.top_level, self.budget_started))
        self.rises.append({"level": self.top_level, "configs": len(top), "epsilon": self.epsilon,
                           "out_of_group": sum(gap > self.epsilon for gap in gaps), "largest_gap": max(gaps)})
        logger.info("PASHA: the rankings at budgets %g and %g differ (epsilon %g): the top budget is now %g",
                    self.budgets[t - 1], self.budgets[t], self.epsilon, self.budgets[t + 1])
        return True


class PASHAScheduler(AsyncBracketScheduler):
    """PASHA (promotion type, one bracket): ASHA whose top budget grows while the rankings change.

    See the module docs for the exact rules. Everything else (config ids ``(0, 0, n)``, ``previous_budget``,
    limits of ``grant``, resume) is as for :class:`~bandster.schedulers.AsyncBracketScheduler` with one bracket.
    Intermediate reports of a job (``on_report``) never stop it (CONTINUE); they refine the epsilon estimate, and
    the rankings are checked again when epsilon may have changed (:meth:`ProgressiveSchedule.report`).

    Parameters
    ----------
    sampler : base_config_generator
    min_budget, max_budget, eta : float
        The ladder ``budget_ladder(min_budget, max_budget, eta)``; PASHA starts with its first two budgets.
    initial_design : InitialDesign, optional

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> s = PASHAScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)}), seed=0), 1, 27, 3)
    >>> s.grant(1)['n_iterations'], s.max_budget_now
    (1, 3.0)
    """

    def __init__(self, sampler: Any, min_budget: float, max_budget: float, eta: float = 3,
                 initial_design: Any = None) -> None:
        super().__init__(sampler, min_budget, max_budget, eta, n_brackets=1, initial_design=initial_design)

    def make_schedule(self) -> ProgressiveSchedule:
        return ProgressiveSchedule(self.budgets, self.eta)

    @property
    def max_budget_now(self) -> float:
        """The budget of the current top rung."""
        return self.budgets[self.schedule.top_level]

    def decision_steps(self, job: Job) -> list[float] | None:
        """``[]``: PASHA records the reports (its rankings) but never stops a job at one."""
        return []

    def on_report(self, job: Job, step: float, loss: float, info: Any = None) -> Decision:
        before = self.schedule.top_level
        try:
            rose = self.schedule.report(tuple(job.id), float(step), loss)
        except (TypeError, ValueError):
            logger.warning("report of job %s with step %r ignored: a step is a number", job.id, step)
            return Decision.CONTINUE
        if rose:
            self._top_budget_event(before)
        return Decision.CONTINUE

    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """:meth:`AsyncBracketScheduler.replay`; then the journaled results and reports (``result.get_reports()``),
        in the order of their time stamps (a report before a result at the same time), go through
        :meth:`ProgressiveSchedule.replay_progress`, which takes the top-level decisions again: the resumed run
        continues with the top budget, epsilon and learning curves the interrupted one had."""
        requeued, counts = super().replay(result, attempts)
        timed: list[tuple[float, int, int, tuple[str, Hashable, float, Any]]] = []
        for n, run in enumerate(result.get_all_runs()):
            if float(run.budget) in self.budgets:
                finished = (run.time_stamps or {}).get("finished")
                timed.append((math.inf if finished is None else float(finished), 1, n,
                              ("result", tuple(run.config_id), self.budgets.index(float(run.budget)), run.loss)))
        reports = list(result.get_reports()) if hasattr(result, "get_reports") else []
        for n, report in enumerate(reports):
            try:
                step = float(report.step)
            except (TypeError, ValueError):
                continue
            at = math.inf if report.time is None else float(report.time)
            timed.append((at, 0, n, ("report", tuple(report.config_id), step, report.loss)))
        timed.sort(key=lambda item: item[:3])
        self.schedule.replay_progress(item[3] for item in timed)
        if self.schedule.history:
            logger.info("resume: PASHA's top budget is %g again (epsilon %g)", self.max_budget_now,
                        self.schedule.epsilon)
        return requeued, {**counts, "reports": len(reports)}

    def on_result(self, job: Job) -> None:
        super().on_result(job)
        before = self.schedule.top_level
        if self.schedule.update():
            self._top_budget_event(before)

    def _top_budget_event(self, before: int) -> None:
        rise = self.schedule.rises[-1]
        self._event("pasha_top_budget", budget=self.budgets[self.schedule.top_level], previous=self.budgets[before],
                    epsilon=self.schedule.epsilon, configs=rise["configs"], out_of_group=rise["out_of_group"],
                    largest_gap=rise["largest_gap"])

    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "type": "pasha"}

