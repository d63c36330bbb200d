"""Asynchronous successive halving (ASHA, Li et al., MLSys 2020): rung ladders and the promotion rule.

Pure bookkeeping over dicts and lists: no threads, no network, no configurations. The optimizers in
:mod:`bandster.optimizers.asynchronous` drive it through the iterations of
:mod:`bandster.optimizers.iterations.asynchronous`.

The rules
---------
* **Rungs.** A bracket ``b`` climbs the budget ladder ``budgets[b:]`` (the Hyperband ladder of
  :func:`bandster.optimizers.brackets.budget_ladder`); rung ``r`` of bracket ``b`` is ladder level ``b + r``.
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
Decision(kind='promote', bracket=0, level=1, budget=3.0, key='b')
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from bandster.core._convert import is_finite_loss
from bandster.optimizers import brackets

__all__ = [
    "AsyncSchedule",
    "Decision",
    "RungLadder",
    "bracket_weights",
    "choose_bracket",
    "hyperband_budget",
    "ranking_loss",
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


def _num_to_promote(n: int, eta: float) -> int:
    """``floor(n / eta)``; a quotient within a relative 1e-9 of an integer counts as that integer."""
    quotient = n / eta
    nearest = round(quotient)
    if abs(quotient - nearest) <= 1e-9 * max(1.0, quotient):
        return int(nearest)
    return math.floor(quotient)


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
class Decision:
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
    Decision(kind='promote', bracket=0, level=1, budget=3.0, key=1)
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
    def best_promotion(self) -> Decision | None:
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
                return Decision("promote", best[1], level + 1, self.budgets[level + 1], best[2])
        return None

    def propose(self) -> Decision | None:
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
        return Decision("new", b, b, self.budgets[b])

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
