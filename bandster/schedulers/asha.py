"""Asynchronous successive halving (ASHA, Li et al., MLSys 2020) and asynchronous Hyperband, in one module.

Three layers, each pure (no threads, no network):

* :class:`AsyncSchedule` (with :class:`RungLadder`): the rung ladders and the promotion rule, over plain keys;
* :class:`AsyncBrackets` / :class:`AsynchronousIteration`: configurations and their records (HpBandSter's
  ``Datum``), one "iteration" per bracket, all sharing one schedule;
* :class:`AsyncBracketScheduler`: the :class:`~bandster.schedulers.Scheduler` the runner drives (limits per
  ``run()``, resume), used by :class:`~bandster.optimizers.ASHA`, ``AsyncHyperBand`` and ``AsyncBOHB``.

The rules
---------
* **Rungs.** A bracket ``b`` climbs the budget ladder ``budgets[b:]`` (the Hyperband ladder of
  :func:`bandster.schedulers.brackets.budget_ladder`); rung ``r`` of bracket ``b`` is ladder level ``b + r``.
  Bracket 0 starts at the smallest budget (ASHA has only this bracket); the last bracket starts at ``max_budget``.
* **Eligible.** A configuration is eligible for promotion out of rung ``r`` when its result there is among the
  ``floor(n / eta)`` best of the ``n`` results the rung holds (ties: the earlier result ranks first), its loss
  is finite (failed, NaN and infinite results count as ``+inf``: they fill the rung but never move on), it has
  not been promoted out of the rung yet, and ``r`` is not the top rung.
* **Next job** (:meth:`AsyncSchedule.propose`, whenever a worker is free): the best eligible configuration of the
  highest ladder level that has one moves up one level (over several brackets: the lowest loss among the
  brackets' eligible configurations on that level; ties to the lower bracket); if there is none, a new
  configuration starts on the first rung of the bracket :func:`choose_bracket` picks.
* **Limits.** No job starts once the budgets of the jobs started so far reach ``budget_limit`` (a job's budget
  is counted in full, also for a promotion that resumes from a checkpoint), and no new configuration once
  ``new_config_limit`` configurations have started. Running jobs always finish.

Examples
--------
Three results on the first rung of the ladder 1, 3, 9 (eta 3): the best one is promoted.

>>> s = AsyncSchedule([1.0, 3.0, 9.0], eta=3)
>>> for key, loss in (("a", 0.5), ("b", 0.2), ("c", 0.9)):
...     budget = s.start(key, bracket=0, level=0)
...     s.finish(key, loss)
>>> s.propose()
RungDecision(kind='promote', bracket=0, level=1, budget=3.0, key='b')
"""

from __future__ import annotations

import bisect
import collections
import logging
import math
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bandster.core._convert import config_to_dict, is_finite_loss, to_builtin
from bandster.core.base_iteration import ConfigId
from bandster.core.job import Job
from bandster.records.datum import QUEUED, REVIEW, RUNNING, Datum
from bandster.schedulers import brackets
from bandster.schedulers._base import JobRequest, Scheduler
from bandster.schedulers.hyperband import request_for

logger = logging.getLogger(__name__)

__all__ = [
    "AsyncBracketScheduler",
    "AsyncBrackets",
    "AsyncSchedule",
    "AsynchronousIteration",
    "RungDecision",
    "RungLadder",
    "bracket_weights",
    "choose_bracket",
    "hyperband_budget",
    "ranking_loss",
    "rung_quotient",
]

#: Relative tolerance of the budget limit (sums of float budgets).
_BUDGET_TOL = 1e-9


def ranking_loss(loss: Any) -> float:
    """``loss`` as a float for ranking: None, non-numeric, NaN and infinite values give ``+inf``.

    Examples
    --------
    >>> ranking_loss(0.5), ranking_loss(None), ranking_loss(float("nan")), ranking_loss("x")
    (0.5, inf, inf, inf)
    """
    return float(loss) if is_finite_loss(loss) else math.inf


def rung_quotient(n: int, eta: float, round_up: bool = False) -> int:
    """``floor(n / eta)`` (``ceil`` with ``round_up``); a quotient within a relative 1e-9 of an integer counts as
    that integer (so float eta such as 3.0000000001 ranks as 3).

    Examples
    --------
    >>> rung_quotient(7, 3), rung_quotient(7, 3, round_up=True), rung_quotient(6, 3, round_up=True)
    (2, 3, 2)
    """
    quotient = n / eta
    nearest = round(quotient)
    if abs(quotient - nearest) <= 1e-9 * max(1.0, quotient):
        return int(nearest)
    return math.ceil(quotient) if round_up else math.floor(quotient)


def _num_to_promote(n: int, eta: float) -> int:
    """``floor(n / eta)`` (:func:`rung_quotient`)."""
    return rung_quotient(n, eta)


class RungLadder:
    """The rungs of one bracket: every finished result per rung, ranked, and who was promoted.

    Parameters
    ----------
    budgets : sequence of float
        The budgets of the rungs, strictly increasing.
    eta : float
        ``eta > 1``: the top ``1 / eta`` of a rung's results are eligible for promotion.

    Examples
    --------
    >>> ladder = RungLadder([1, 3, 9], eta=3)
    >>> for key, loss in (("a", 3.0), ("b", 1.0), ("c", 2.0)):
    ...     ladder.add_result(0, key, loss)
    >>> ladder.num_to_promote(0), ladder.candidates(0)
    (1, ['b'])
    >>> ladder.mark_promoted(0, "b")
    >>> ladder.candidates(0), ladder.add_result(0, "d", 0.5), ladder.candidates(0)
    ([], None, ['d'])
    """

    def __init__(self, budgets: Sequence[float], eta: float) -> None:
        values = [float(b) for b in budgets]
        if not values:
            raise ValueError("a rung ladder needs at least one budget")
        if any(not b2 > b1 for b1, b2 in zip(values, values[1:], strict=False)):
            raise ValueError(f"the budgets of a rung ladder must increase strictly, got {values}")
        if not float(eta) > 1:
            raise ValueError(f"eta must be > 1, got {eta!r}")
        self.budgets = values
        self.eta = float(eta)
        self._seq = 0
        # per rung: every result as (loss, seq, key), sorted; finite unpromoted ones, sorted; key -> entry
        self._ranked: list[list[tuple[float, int, Hashable]]] = [[] for _ in values]
        self._waiting: list[list[tuple[float, int, Hashable]]] = [[] for _ in values]
        self._entries: list[dict[Hashable, tuple[float, int, Hashable]]] = [{} for _ in values]
        self._promoted: list[set[Hashable]] = [set() for _ in values]

    def __len__(self) -> int:
        return len(self.budgets)

    def __repr__(self) -> str:
        return f"RungLadder(budgets={self.budgets}, eta={self.eta:g}, sizes={self.rung_sizes()})"

    @property
    def top(self) -> int:
        """The index of the top rung (no promotion out of it)."""
        return len(self.budgets) - 1

    def _check(self, rung: int) -> int:
        if isinstance(rung, bool) or int(rung) != rung or not 0 <= rung < len(self.budgets):
            raise IndexError(f"rung {rung!r} is not in 0..{len(self.budgets) - 1}")
        return int(rung)

    def add_result(self, rung: int, key: Hashable, loss: Any) -> None:
        """Record the result of ``key`` on ``rung`` (None, NaN or inf: a failed run, ranked last).

        Raises
        ------
        ValueError
            If ``key`` already has a result on ``rung``.
        """
        rung = self._check(rung)
        if key in self._entries[rung]:
            raise ValueError(f"{key!r} already has a result on rung {rung}")
        value = ranking_loss(loss)
        entry = (value, self._seq, key)
        self._seq += 1
        self._entries[rung][key] = entry
        bisect.insort(self._ranked[rung], entry)
        if math.isfinite(value) and rung < self.top and key not in self._promoted[rung]:
            bisect.insort(self._waiting[rung], entry)

    def mark_promoted(self, rung: int, key: Hashable) -> None:
        """Record that ``key`` left ``rung`` for the next one; it is never eligible there again."""
        rung = self._check(rung)
        self._promoted[rung].add(key)
        entry = self._entries[rung].get(key)
        if entry is not None:
            waiting = self._waiting[rung]
            i = bisect.bisect_left(waiting, entry)
            if i < len(waiting) and waiting[i] == entry:
                del waiting[i]

    def num_results(self, rung: int) -> int:
        """The number of results (failed ones included) on ``rung``."""
        return len(self._ranked[self._check(rung)])

    def num_to_promote(self, rung: int) -> int:
        """``floor(n / eta)`` for the ``n`` results of ``rung``; 0 on the top rung."""
        rung = self._check(rung)
        return 0 if rung == self.top else _num_to_promote(len(self._ranked[rung]), self.eta)

    def is_promoted(self, rung: int, key: Hashable) -> bool:
        """Whether ``key`` was promoted out of ``rung``."""
        return key in self._promoted[self._check(rung)]

    def loss(self, rung: int, key: Hashable) -> float:
        """The ranking loss of ``key`` on ``rung`` (``+inf`` for a failed run); KeyError if it has none."""
        return self._entries[self._check(rung)][key][0]

    def best_candidate(self, rung: int) -> Hashable | None:
        """The best eligible configuration of ``rung``, or None (cost: one binary search).

        The best configuration not promoted yet is eligible exactly when it ranks among the ``floor(n / eta)``
        best results; if it does not, no other unpromoted one does.
        """
        rung = self._check(rung)
        waiting = self._waiting[rung]
        if rung == self.top or not waiting:
            return None
        rank = bisect.bisect_left(self._ranked[rung], waiting[0])
        return waiting[0][2] if rank < self.num_to_promote(rung) else None

    def candidates(self, rung: int) -> list[Hashable]:
        """Every eligible configuration of ``rung``, best first."""
        rung = self._check(rung)
        k = self.num_to_promote(rung)
        return [key for loss, _, key in self._ranked[rung][:k]
                if math.isfinite(loss) and key not in self._promoted[rung]]

    def ranking(self, rung: int) -> list[tuple[Hashable, float]]:
        """``(key, loss)`` of every result on ``rung``, best first (ties: earlier result first)."""
        return [(key, loss) for loss, _, key in self._ranked[self._check(rung)]]

    def rung_sizes(self) -> list[int]:
        """The number of results on each rung."""
        return [len(r) for r in self._ranked]


@dataclass(frozen=True)
class RungDecision:
    """What a free worker should do next.

    Attributes
    ----------
    kind : {'promote', 'new'}
    bracket : int
        The bracket of the configuration.
    level : int
        The ladder level the job runs on (an index into the full ladder).
    budget : float
        ``budgets[level]``.
    key : hashable or None
        The configuration to promote; None for a new one.
    """

    kind: str
    bracket: int
    level: int
    budget: float
    key: Hashable | None = None


def bracket_weights(num_levels: int, eta: float, n_brackets: int | None = None) -> list[int]:
    """How many new configurations bracket ``b`` receives per cycle of synchronous Hyperband.

    Bracket ``b`` starts on ladder level ``b``; it is Hyperband's bracket ``s = S - 1 - b`` (``S = num_levels``),
    whose first stage has ``n0 = floor(S / (s + 1)) * eta ** s`` configurations
    (:func:`~bandster.optimizers.brackets.bracket_sizes`).

    Examples
    --------
    >>> bracket_weights(3, 3), bracket_weights(5, 3)
    ([9, 3, 3], [81, 27, 9, 6, 5])
    """
    n = num_levels if n_brackets is None else int(n_brackets)
    if not 1 <= n <= num_levels:
        raise ValueError(f"n_brackets must be between 1 and the number of budgets ({num_levels}), got {n_brackets!r}")
    return [brackets.bracket_sizes(num_levels - 1 - b, eta, num_levels)[0] for b in range(n)]


def choose_bracket(counts: Sequence[int], weights: Sequence[int]) -> int:
    """The bracket of the next new configuration: the one furthest behind its share of the new configurations.

    With ``N = sum(counts)`` configurations started so far, bracket ``b`` should have
    ``weights[b] / sum(weights) * (N + 1)`` after the next one; the bracket with the largest shortfall
    ``weights[b] * (N + 1) - counts[b] * sum(weights)`` (exact integer arithmetic) gets it, ties going to the
    lower bracket. Deterministic, so a resumed run continues the same sequence; over a cycle of
    ``sum(weights)`` new configurations each bracket gets exactly ``weights[b]``.

    Examples
    --------
    >>> counts = [0, 0, 0]
    >>> for _ in range(5):
    ...     counts[choose_bracket(counts, [9, 3, 3])] += 1
    >>> counts
    [3, 1, 1]
    """
    if len(counts) != len(weights) or not weights:
        raise ValueError("counts and weights must be non-empty and of the same length")
    total_weight = sum(int(w) for w in weights)
    n_next = sum(int(c) for c in counts) + 1
    scores = [int(w) * n_next - int(c) * total_weight for c, w in zip(counts, weights, strict=True)]
    return scores.index(max(scores))


def hyperband_budget(n_iterations: int, min_budget: float, max_budget: float, eta: float, first: int = 0) -> float:
    """The total budget of synchronous Hyperband iterations ``first .. first + n_iterations - 1``.

    Every run is counted with its full budget: ``sum over stages of num_configs * budget``.

    Examples
    --------
    >>> hyperband_budget(1, 1, 9, 3), hyperband_budget(3, 1, 9, 3), hyperband_budget(1, 1, 9, 3, first=1)
    (27.0, 72.0, 18.0)
    """
    total = 0.0
    for i in range(int(first), int(first) + int(n_iterations)):
        ns, budgets = brackets.hyperband_iteration(i, min_budget, max_budget, eta)
        total += sum(n * b for n, b in zip(ns, budgets, strict=True))
    return total


class AsyncSchedule:
    """ASHA over one or more brackets: which configuration runs next, on which budget (see the module docs).

    The schedule knows configurations only by their keys (any hashable: the optimizers use config ids). Callers
    ask :meth:`propose`, then report what they started (:meth:`start`) and how it ended (:meth:`finish`).

    Parameters
    ----------
    budgets : sequence of float
        The whole ladder, strictly increasing (Hyperband's :func:`~bandster.optimizers.brackets.budget_ladder`).
    eta : float
        ``eta > 1``.
    n_brackets : int
        1 for ASHA; up to ``len(budgets)`` for asynchronous Hyperband. Bracket ``b`` climbs ``budgets[b:]``.
    weights : sequence of int, optional
        The share of new configurations of each bracket (default :func:`bracket_weights`).

    Attributes
    ----------
    budget_limit : float or None
        No job starts once :attr:`budget_started` reaches it (None: no limit).
    new_config_limit : int or None
        No new configuration starts once :attr:`num_configs` reaches it (None: no limit).
    budget_started : float
        The sum of the (full) budgets of every job started.
    started : list of int
        New configurations started per bracket.
    ladders : list of RungLadder
        One per bracket.

    Examples
    --------
    ASHA on the ladder 1, 3, 9, one worker: three configurations before the first promotion.

    >>> s = AsyncSchedule([1.0, 3.0, 9.0], eta=3)
    >>> for n, loss in enumerate([0.5, 0.2, 0.9]):
    ...     d = s.propose()
    ...     budget = s.start(n, d.bracket, d.level)
    ...     s.finish(n, loss)
    >>> s.propose()
    RungDecision(kind='promote', bracket=0, level=1, budget=3.0, key=1)
    """

    def __init__(
        self, budgets: Sequence[float], eta: float, n_brackets: int = 1, weights: Sequence[int] | None = None
    ) -> None:
        self.budgets = [float(b) for b in budgets]
        self.eta = float(eta)
        n_brackets = int(n_brackets)
        if not 1 <= n_brackets <= len(self.budgets):
            raise ValueError(
                f"n_brackets must be between 1 and the number of budgets ({len(self.budgets)}), got {n_brackets}"
            )
        self.ladders = [RungLadder(self.budgets[b:], self.eta) for b in range(n_brackets)]
        if weights is None:
            weights = bracket_weights(len(self.budgets), self.eta, n_brackets)
        if len(weights) != n_brackets or any(int(w) != w or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be {n_brackets} non-negative integers, not all 0; got {list(weights)}")
        self.weights = [int(w) for w in weights]
        self.started = [0] * n_brackets
        self.budget_started = 0.0
        self.budget_limit: float | None = None
        self.new_config_limit: int | None = None
        self._where: dict[Hashable, tuple[int, int]] = {}  # key -> (bracket, level of its latest job)
        self._running: dict[Hashable, int] = {}  # key -> level

    def __repr__(self) -> str:
        return (f"AsyncSchedule(budgets={self.budgets}, eta={self.eta:g}, n_brackets={self.n_brackets}, "
                f"configs={self.num_configs}, running={len(self._running)}, budget_started={self.budget_started:g})")

    @property
    def n_brackets(self) -> int:
        return len(self.ladders)

    @property
    def num_configs(self) -> int:
        """The number of configurations started."""
        return sum(self.started)

    @property
    def num_running(self) -> int:
        """Jobs started and not finished."""
        return len(self._running)

    def running(self) -> dict[Hashable, int]:
        """A copy of ``{key: level}`` of the running jobs."""
        return dict(self._running)

    def knows(self, key: Hashable) -> bool:
        """Whether ``key`` has started."""
        return key in self._where

    def bracket_of(self, key: Hashable) -> int:
        """The bracket of a started configuration."""
        return self._where[key][0]

    def level_of(self, key: Hashable) -> int:
        """The ladder level of a configuration's latest job."""
        return self._where[key][1]

    def budget_exhausted(self) -> bool:
        """True once the budgets started reach :attr:`budget_limit`."""
        limit = self.budget_limit
        return limit is not None and self.budget_started >= limit * (1 - _BUDGET_TOL)

    def configs_exhausted(self) -> bool:
        """True once :attr:`new_config_limit` configurations have started."""
        return self.new_config_limit is not None and self.num_configs >= self.new_config_limit

    # ------------------------------------------------------------------ decisions
    def best_promotion(self) -> RungDecision | None:
        """The promotion :meth:`propose` would make, ignoring the limits; None if nothing is eligible."""
        for level in range(len(self.budgets) - 2, -1, -1):
            best: tuple[float, int, Hashable] | None = None
            for b in range(min(level, self.n_brackets - 1) + 1):
                ladder = self.ladders[b]
                key = ladder.best_candidate(level - b)
                if key is None:
                    continue
                loss = ladder.loss(level - b, key)
                if best is None or loss < best[0]:
                    best = (loss, b, key)
            if best is not None:
                return RungDecision("promote", best[1], level + 1, self.budgets[level + 1], best[2])
        return None

    def propose(self) -> RungDecision | None:
        """The next job: the best promotion of the highest level, else a new configuration; None when a limit
        stops it (the budget limit stops both, the configuration limit only new configurations)."""
        if self.budget_exhausted():
            return None
        promotion = self.best_promotion()
        if promotion is not None:
            return promotion
        if self.configs_exhausted():
            return None
        b = choose_bracket(self.started, self.weights)
        return RungDecision("new", b, b, self.budgets[b])

    @property
    def finished(self) -> bool:
        """True when nothing runs and nothing may start: only new results or larger limits change that."""
        return not self._running and self.propose() is None

    # ------------------------------------------------------------------ bookkeeping
    def start(self, key: Hashable, bracket: int, level: int) -> float:
        """Record that ``key`` started on ladder ``level``; return the job's budget.

        A new key must start on its bracket's first level; a known key must be higher than its last level and
        not running, and is marked promoted out of its last rung. The budget is added to
        :attr:`budget_started` whatever the limits (the caller decided).
        """
        level = int(level)
        if not 0 <= level < len(self.budgets):
            raise ValueError(f"level {level} is not on the ladder 0..{len(self.budgets) - 1}")
        if key in self._running:
            raise ValueError(f"{key!r} is already running")
        if key in self._where:
            b, last = self._where[key]
            if b != bracket:
                raise ValueError(f"{key!r} belongs to bracket {b}, not {bracket}")
            if level <= last:
                raise ValueError(f"{key!r} already ran on level {last}; it can only move up, not to {level}")
            self.ladders[b].mark_promoted(last - b, key)
        else:
            if not 0 <= bracket < self.n_brackets:
                raise ValueError(f"bracket {bracket} is not in 0..{self.n_brackets - 1}")
            if level != bracket:
                raise ValueError(f"a new configuration of bracket {bracket} starts on level {bracket}, not {level}")
            self.started[bracket] += 1
        self._where[key] = (int(bracket), level)
        self._running[key] = level
        self.budget_started += self.budgets[level]
        return self.budgets[level]

    def finish(self, key: Hashable, loss: Any) -> None:
        """Record the result of ``key``'s running job (None, NaN or inf: failed, never promoted)."""
        if key not in self._running:
            raise ValueError(f"{key!r} is not running")
        level = self._running.pop(key)
        b = self._where[key][0]
        self.ladders[b].add_result(level - b, key, loss)

    def rung_sizes(self) -> list[list[int]]:
        """Per bracket, the number of results on each of its rungs."""
        return [ladder.rung_sizes() for ladder in self.ladders]


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


class AsyncBracketScheduler(Scheduler):
    """ASHA (one bracket) or asynchronous Hyperband (several): rung ladders driven by asynchronous promotions.

    One :class:`AsynchronousIteration` per bracket, created at the first :meth:`grant`, lives for the whole run;
    all of them hand out the jobs of one shared :class:`AsyncSchedule` (see the rules at the top of this module).

    Stopping rule of ``grant(n_iterations, max_configs)``: jobs start while the budgets of all jobs started so far
    add up to less than the total budget of ``n_iterations`` synchronous Hyperband iterations on the same ladder
    (:func:`hyperband_budget`; grants add up, and after a resume the first grant counts the run's total); with
    ``max_configs``, no more than that many new configurations start under this grant (promotions go on).

    Parameters
    ----------
    sampler : base_config_generator
        Proposes new configurations (random sampling: ASHA; BOHB's model: asynchronous BOHB).
    min_budget, max_budget, eta : float
        The budget ladder, as for Hyperband.
    n_brackets : int
        How many brackets (rung ladders), the most aggressive first: 1 is ASHA.
    initial_design : InitialDesign, optional

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> s = AsyncBracketScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)}), seed=0), 1, 9, 3)
    >>> s.grant(1)['n_iterations']
    1
    >>> first = [s.ask() for _ in range(3)]
    >>> [job.budget for job in first]
    [1.0, 1.0, 1.0]
    >>> for job, loss in zip(first, (0.5, 0.2, 0.9)):
    ...     s.tell(job, loss)
    >>> s.ask().config_id == first[1].config_id  # the best of three moves up to budget 3
    True
    """

    def __init__(
        self,
        sampler: Any,
        min_budget: float,
        max_budget: float,
        eta: float = 3,
        n_brackets: int = 1,
        initial_design: Any = None,
    ) -> None:
        super().__init__(sampler, initial_design)
        brackets.validate_budgets(min_budget, max_budget, eta)
        self.min_budget, self.max_budget, self.eta = min_budget, max_budget, eta
        self.budgets = brackets.budget_ladder(min_budget, max_budget, eta)
        self.n_brackets = n_brackets
        self.schedule = self.make_schedule()
        self.brackets = AsyncBrackets(self.schedule)
        self.iterations: list[AsynchronousIteration] = []
        self.granted_iterations = 0
        self.resumed = False

    @property
    def num_iterations(self) -> int:
        return len(self.iterations)

    def make_schedule(self) -> AsyncSchedule:
        """The shared rung schedule (a subclass may return a subclass of :class:`AsyncSchedule`)."""
        return AsyncSchedule(self.budgets, self.eta, self.n_brackets)

    def budget_limit(self, n_iterations: int) -> float:
        """The budget a run of ``n_iterations`` synchronous Hyperband iterations in total may start."""
        return hyperband_budget(n_iterations, self.min_budget, self.max_budget, self.eta)

    # ------------------------------------------------------------------ Scheduler
    def grant(self, n_iterations: int, max_configs: int | None = None) -> dict[str, Any]:
        """Raise the budget limit by ``n_iterations`` Hyperband iterations; at most ``max_configs`` new ones."""
        self.add_grant(n_iterations, max_configs)
        self.schedule.budget_limit = self.budget_limit(self.granted_iterations)
        self.schedule.new_config_limit = None if max_configs is None else self.schedule.num_configs + max_configs
        self._create_iterations()
        self._event("async_limits", n_iterations=self.granted_iterations, budget_limit=self.schedule.budget_limit,
                    budget_started=self.schedule.budget_started, max_configs=max_configs)
        logger.info(
            "budget limit %g (%d Hyperband iterations), %g started so far; %s", self.schedule.budget_limit,
            self.granted_iterations, self.schedule.budget_started,
            "no limit on configurations" if max_configs is None else f"at most {max_configs} new configs",
        )
        return {"n_iterations": len(self.iterations)}

    def next_job(self) -> JobRequest | None:
        if not self.iterations or self.resumed:  # nothing granted yet (before the first grant, or the first
            return None  # after a replay: the limits of the replayed run are not known until then)
        run = self.brackets.next_run()
        if run is None:
            return None
        return request_for(self.iterations[run[0][0]], run)

    def on_result(self, job: Job) -> None:
        try:
            self.iterations[job.id[0]].register_result(job)
        except Exception:
            logger.exception("bracket %s could not register the result of %s", job.id[0], job.id)
        self.feed_sampler(job)

    def is_done(self) -> bool:
        return all(it.is_finished for it in self.iterations)

    def manifest(self) -> dict[str, Any]:
        return {"scheduler": type(self).__name__, "min_budget": self.min_budget, "max_budget": self.max_budget,
                "eta": self.eta, "n_brackets": self.n_brackets}

    # ------------------------------------------------------------------ helpers
    def _create_iterations(self) -> None:
        for b in range(len(self.iterations), self.n_brackets):
            iteration = AsynchronousIteration(HPB_iter=b, brackets=self.brackets, config_sampler=self.sample_config)
            self.iterations.append(iteration)
            self._event("iteration_started", iteration=b, num_configs=list(iteration.num_configs),
                        budgets=list(iteration.budgets))

    def stage_plan(self, iteration: int) -> tuple[list[int | None], list[float]]:
        """``([None] * rungs, budgets)`` of bracket ``iteration``: how many configurations reach a rung is not
        planned in advance."""
        budgets = self.budgets[iteration:]
        return [None] * len(budgets), budgets

    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """Rebuild the brackets from a journal (``resume=True``).

        Every recorded configuration is restored under its id; every recorded result is started and finished
        again in the order the results finished, which re-creates the rungs, the promotions and the budget
        spent. A configuration whose latest job has no result (running at the crash, or sampled and never
        started) is started again on that budget and returned to run first, its attempt counted from the
        journal's dispatches. All recorded results, warm-start runs included, go to the sampler.
        """
        time_ref = result.HB_config.get("time_ref") or 0.0
        id2conf = result.get_id2config_mapping()
        runs = result.get_all_runs()  # in the order they finished
        for run in runs:
            self.feed_sampler(Job.from_run(run, id2conf[run.config_id]["config"], time_ref), update_model=False)
        self.skip_initial_design(e["config_info"] for e in id2conf.values())
        self._create_iterations()

        def iteration_of(config_id: tuple) -> AsynchronousIteration | None:
            ok = len(config_id) == 3 and config_id[1] == 0 and 0 <= config_id[0] < self.n_brackets
            return self.iterations[config_id[0]] if ok else None

        skipped = 0
        for config_id in sorted(cid for cid in id2conf if cid[0] >= 0):
            iteration = iteration_of(config_id)
            if iteration is None:
                skipped += 1
                continue
            entry = id2conf[config_id]
            iteration.restore_configuration(config_id, entry["config"], entry["config_info"])
        n_runs = 0
        for run in runs:
            iteration = iteration_of(run.config_id)
            if iteration is None or float(run.budget) not in iteration.budgets:
                skipped += run.config_id[0] >= 0
                continue
            b = iteration.HPB_iter
            level = b + iteration.budgets.index(float(run.budget))
            known = self.schedule.knows(run.config_id)
            if (level != b) if not known else (level <= self.schedule.level_of(run.config_id)):
                skipped += 1  # not a step up the ladder (a second result for a job, or other settings)
                continue
            iteration.start(run.config_id, level)
            iteration.register_result(Job.from_run(run, iteration.data[run.config_id].config, time_ref))
            n_runs += 1
        if skipped:
            logger.warning("resume: %d configurations or runs of the journal do not fit this optimizer's "
                           "brackets (other settings?); they are not replayed", skipped)
        # the latest job of a configuration without a result: start it again
        requeued: list[JobRequest] = []
        dispatched: dict[tuple, list[float]] = collections.defaultdict(list)
        for (config_id, budget), _count in attempts.items():
            dispatched[tuple(config_id)].append(float(budget))
        for iteration in self.iterations:
            b = iteration.HPB_iter
            for config_id, datum in iteration.data.items():
                if datum.status == QUEUED:
                    budget = iteration.budgets[0]
                else:
                    higher = [x for x in dispatched.get(config_id, []) if x > datum.budget and x in iteration.budgets]
                    if not higher or datum.status != REVIEW:
                        continue
                    budget = min(higher)
                level = b + iteration.budgets.index(budget)
                run = iteration.start(config_id, level)
                requeued.append(request_for(iteration, run, attempts[(config_id, budget)] + 1))
        self.resumed = True
        return requeued, {"iterations": len(self.iterations), "runs": n_runs, "requeued": len(requeued)}
