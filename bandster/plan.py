"""The schedule of a run before it starts: brackets, stages, their cost, and a wall-clock estimate.

:func:`plan` lays out what ``n_iterations`` iterations of Hyperband (or BOHB, which runs the same brackets, or
RandomSearch) will evaluate: per iteration the bracket, per stage the number of configurations, their budget and
the stage's cost, totals per bracket and overall. With ``cost_per_unit`` (seconds one unit of budget costs) the
costs are also given in seconds, and the wall-clock time on ``workers`` workers is estimated by replaying the
master's scheduling rule (keep every worker busy; take runs from the oldest unfinished iteration first; start the
next iteration when no started one has a run ready; a stage's survivors are known only when the whole stage has
finished). The bracket arithmetic itself comes from :mod:`bandster.optimizers.brackets`.

``bandster plan`` prints the same table.

Examples
--------
>>> p = plan(min_budget=1, max_budget=9, eta=3, n_iterations=3)
>>> [(it.bracket, [s.num_configs for s in it.stages]) for it in p.iterations]
[(2, [9, 3, 1]), (1, [3, 1]), (0, [3])]
>>> p.total_runs, p.total_cost
(20, 72.0)
>>> plan(1, 9, 3, n_iterations=1, cost_per_unit=1.0, workers=2).wall_clock
20.0
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["plan", "Plan", "PlannedIteration", "PlannedStage", "format_duration"]

#: optimizer names :func:`plan` accepts, and the schedule each follows
OPTIMIZERS = {
    "hyperband": "hyperband",
    "bohb": "hyperband",
    "h2bo": "hyperband",
    "randomsearch": "randomsearch",
    "random": "randomsearch",
}


@dataclass(frozen=True)
class PlannedStage:
    """One stage of successive halving: ``num_configs`` configurations on ``budget``.

    Attributes
    ----------
    stage : int
        0 for the first stage of the bracket.
    num_configs : int
        How many configurations run in this stage.
    budget : float
        The budget each of them gets.
    cost : float
        ``num_configs * budget`` in budget units.
    seconds : float or None
        ``cost * cost_per_unit`` when a cost per unit was given.
    """

    stage: int
    num_configs: int
    budget: float
    cost: float
    seconds: float | None = None


@dataclass(frozen=True)
class PlannedIteration:
    """One iteration (bracket) of the schedule.

    Attributes
    ----------
    iteration : int
        The iteration's index in the run (0 for the first).
    bracket : int
        Hyperband's bracket ``s`` (the number of halvings; 0 is a single stage). Random search has
        bracket 0 in every iteration.
    stages : list of PlannedStage
    """

    iteration: int
    bracket: int
    stages: list[PlannedStage] = field(default_factory=list)

    @property
    def num_runs(self) -> int:
        """The number of evaluations in this iteration."""
        return sum(s.num_configs for s in self.stages)

    @property
    def num_new_configs(self) -> int:
        """The number of configurations sampled for this iteration (the size of its first stage)."""
        return self.stages[0].num_configs if self.stages else 0

    @property
    def cost(self) -> float:
        """The iteration's cost in budget units."""
        return float(sum(s.cost for s in self.stages))

    @property
    def seconds(self) -> float | None:
        """The iteration's cost in seconds, if a cost per unit was given."""
        if any(s.seconds is None for s in self.stages):
            return None
        return float(sum(s.seconds for s in self.stages))  # type: ignore[misc]


@dataclass
class Plan:
    """The schedule of a run; what :func:`plan` returns.

    Attributes
    ----------
    optimizer : str
        ``'hyperband'`` (also BOHB's schedule) or ``'randomsearch'``.
    min_budget, max_budget, eta : float
        As given.
    budgets : list of float
        The budget ladder.
    iterations : list of PlannedIteration
    cost_per_unit : float or None
        Seconds per unit of budget.
    workers : int
        The number of workers the wall-clock estimate assumes.
    wall_clock : float
        The estimated duration of the run on ``workers`` workers: in seconds when ``cost_per_unit`` is
        given, otherwise in budget units (one unit of budget taking one unit of time).
    """

    optimizer: str
    min_budget: float
    max_budget: float
    eta: float
    budgets: list[float]
    iterations: list[PlannedIteration]
    cost_per_unit: float | None
    workers: int
    wall_clock: float

    @property
    def total_runs(self) -> int:
        """The number of evaluations of the whole run."""
        return sum(it.num_runs for it in self.iterations)

    @property
    def total_configs(self) -> int:
        """The number of configurations sampled over the whole run."""
        return sum(it.num_new_configs for it in self.iterations)

    @property
    def total_cost(self) -> float:
        """The total cost in budget units (the time one worker would need, in budget units)."""
        return float(sum(it.cost for it in self.iterations))

    @property
    def total_seconds(self) -> float | None:
        """The total cost in seconds (one worker, nothing else running), if ``cost_per_unit`` was given."""
        return None if self.cost_per_unit is None else self.total_cost * self.cost_per_unit

    @property
    def utilisation(self) -> float:
        """The fraction of worker time spent computing in the wall-clock estimate."""
        capacity = self.wall_clock * self.workers
        unit = 1.0 if self.cost_per_unit is None else self.cost_per_unit
        return self.total_cost * unit / capacity if capacity > 0 else 1.0

    def rows(self) -> list[dict[str, Any]]:
        """One dict per stage: ``iteration, bracket, stage, num_configs, budget, cost`` (and ``seconds``)."""
        out = []
        for it in self.iterations:
            for s in it.stages:
                row: dict[str, Any] = {
                    "iteration": it.iteration,
                    "bracket": it.bracket,
                    "stage": s.stage,
                    "num_configs": s.num_configs,
                    "budget": s.budget,
                    "cost": s.cost,
                }
                if self.cost_per_unit is not None:
                    row["seconds"] = s.seconds
                out.append(row)
        return out

    def to_dataframe(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict[str, Any]:
        """Everything as builtins (for JSON)."""
        return {
            "optimizer": self.optimizer,
            "min_budget": self.min_budget,
            "max_budget": self.max_budget,
            "eta": self.eta,
            "budgets": list(self.budgets),
            "cost_per_unit": self.cost_per_unit,
            "workers": self.workers,
            "iterations": [
                {
                    "iteration": it.iteration,
                    "bracket": it.bracket,
                    "num_runs": it.num_runs,
                    "cost": it.cost,
                    "seconds": it.seconds,
                    "stages": [
                        {"stage": s.stage, "num_configs": s.num_configs, "budget": s.budget, "cost": s.cost,
                         "seconds": s.seconds}
                        for s in it.stages
                    ],
                }
                for it in self.iterations
            ],
            "total_runs": self.total_runs,
            "total_configs": self.total_configs,
            "total_cost": self.total_cost,
            "total_seconds": self.total_seconds,
            "wall_clock": self.wall_clock,
            "utilisation": self.utilisation,
        }

    def format(self) -> str:
        """The schedule as a text table (what ``bandster plan`` prints)."""
        timed = self.cost_per_unit is not None
        head = (
            f"{self.optimizer} schedule: min_budget={_num(self.min_budget)}, max_budget={_num(self.max_budget)}, "
            f"eta={_num(self.eta)}; budgets {', '.join(_num(b) for b in self.budgets)}"
        )
        lines = [head, ""]
        header = ["iteration", "bracket", "stage", "configs", "budget", "cost"]
        if timed:
            header.append("time")
        table: list[list[str]] = []
        for it in self.iterations:
            for s in it.stages:
                row = [
                    str(it.iteration) if s.stage == 0 else "",
                    str(it.bracket) if s.stage == 0 else "",
                    str(s.stage),
                    str(s.num_configs),
                    _num(s.budget),
                    _num(s.cost),
                ]
                if timed:
                    row.append(format_duration(s.seconds))
                table.append(row)
            total = ["", "", "total", str(it.num_runs), "", _num(it.cost)]
            if timed:
                total.append(format_duration(it.seconds))
            table.append(total)
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        lines.append("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row in table:
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)).rstrip())
            if row[2] == "total":
                lines.append("")
        unit = "" if timed else " budget units"
        lines.append(
            f"overall: {_count(len(self.iterations), 'iteration')}, {_count(self.total_runs, 'run')} of "
            f"{_count(self.total_configs, 'configuration')}, cost {_num(self.total_cost)} budget units"
            + (f" = {format_duration(self.total_seconds)} on one worker" if timed else "")
        )
        wall = format_duration(self.wall_clock) if timed else _num(self.wall_clock) + unit
        lines.append(
            f"estimated wall clock on {self.workers} worker{'s' if self.workers != 1 else ''}: {wall} "
            f"(workers busy {100 * self.utilisation:.0f}% of the time; "
            + ("assumes a run costs budget x cost_per_unit seconds)" if timed
               else "pass cost_per_unit to get seconds)")
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _count(n: int, noun: str) -> str:
    """``'1 iteration'``, ``'2 iterations'``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def plan(
    min_budget: float,
    max_budget: float,
    eta: float = 3,
    n_iterations: int = 1,
    cost_per_unit: float | None = None,
    workers: int = 1,
    optimizer: str = "hyperband",
    first_iteration: int = 0,
) -> Plan:
    """Lay out the schedule of a run before it starts.

    Parameters
    ----------
    min_budget, max_budget : float
        The optimizer's budgets, ``0 < min_budget <= max_budget``.
    eta : float
        The reduction factor, ``> 1``.
    n_iterations : int
        The number of iterations, as passed to ``run(n_iterations=...)``.
    cost_per_unit : float, optional
        Seconds one unit of budget costs (a run on budget ``b`` takes ``b * cost_per_unit`` seconds). Without
        it, costs and the wall-clock estimate are in budget units.
    workers : int
        The number of workers for the wall-clock estimate.
    optimizer : {'hyperband', 'bohb', 'randomsearch'}
        BOHB follows Hyperband's schedule; random search evaluates ``len(budgets)`` configurations on
        ``max_budget`` per iteration (HpBandSter's rule).
    first_iteration : int
        The index of the first iteration (for a run that continues).

    Returns
    -------
    Plan
        ``str(plan)`` is the table ``bandster plan`` prints; :meth:`Plan.rows` and :meth:`Plan.to_dataframe`
        give it as data.

    Raises
    ------
    ValueError
        For invalid budgets or eta (see :func:`bandster.optimizers.brackets.validate_budgets`), ``n_iterations
        < 1``, ``workers < 1``, a non-positive ``cost_per_unit`` or an unknown optimizer.

    Examples
    --------
    >>> print(plan(1, 9, 3, n_iterations=2))  # doctest: +NORMALIZE_WHITESPACE
    hyperband schedule: min_budget=1, max_budget=9, eta=3; budgets 1, 3, 9
    <BLANKLINE>
    iteration  bracket  stage  configs  budget  cost
    ---------  -------  -----  -------  ------  ----
            0        2      0        9       1     9
                            1        3       3     9
                            2        1       9     9
                        total       13             27
    <BLANKLINE>
            1        1      0        3       3     9
                            1        1       9     9
                        total        4             18
    <BLANKLINE>
    overall: 2 iterations, 17 runs of 12 configurations, cost 45 budget units
    estimated wall clock on 1 worker: 45 budget units (workers busy 100% of the time; pass cost_per_unit to get seconds)
    """
    # imported here: ``import bandster`` (which exports this function) must stay cheap, and importing the
    # optimizers package pulls in the runtime and the models
    from bandster.optimizers import brackets

    brackets.validate_budgets(min_budget, max_budget, eta)
    if isinstance(n_iterations, bool) or int(n_iterations) != n_iterations or n_iterations < 1:
        raise ValueError(f"n_iterations must be an integer >= 1, got {n_iterations!r}")
    if isinstance(workers, bool) or int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if isinstance(first_iteration, bool) or int(first_iteration) != first_iteration or first_iteration < 0:
        raise ValueError(f"first_iteration must be an integer >= 0, got {first_iteration!r}")
    if cost_per_unit is not None:
        cost_per_unit = float(cost_per_unit)
        if not math.isfinite(cost_per_unit) or cost_per_unit <= 0:
            raise ValueError(f"cost_per_unit must be a positive number of seconds, got {cost_per_unit!r}")
    key = str(optimizer).lower().replace("_", "").replace("-", "")
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; use one of 'hyperband', 'bohb', 'randomsearch'")
    schedule = OPTIMIZERS[key]
    ladder = brackets.budget_ladder(min_budget, max_budget, eta)
    iterations = []
    for i in range(int(first_iteration), int(first_iteration) + int(n_iterations)):
        if schedule == "randomsearch":
            ns, budgets = [brackets.random_search_num_configs(min_budget, max_budget, eta)], [float(max_budget)]
        else:
            ns, budgets = brackets.hyperband_iteration(i, min_budget, max_budget, eta)
        stages = []
        for j, (n, b) in enumerate(zip(ns, budgets, strict=True)):
            cost = float(n * b)
            seconds = None if cost_per_unit is None else cost * cost_per_unit
            stages.append(PlannedStage(j, int(n), float(b), cost, seconds))
        iterations.append(PlannedIteration(i, len(ns) - 1, stages))
    makespan = simulate_wall_clock([([s.num_configs for s in it.stages], [s.budget for s in it.stages])
                                    for it in iterations], int(workers))
    return Plan(
        optimizer="randomsearch" if schedule == "randomsearch" else ("bohb" if key == "bohb" else "hyperband"),
        min_budget=min_budget,
        max_budget=max_budget,
        eta=eta,
        budgets=ladder if schedule != "randomsearch" else [float(max_budget)],
        iterations=iterations,
        cost_per_unit=cost_per_unit,
        workers=int(workers),
        wall_clock=makespan * (cost_per_unit if cost_per_unit is not None else 1.0),
    )


def simulate_wall_clock(iterations: list[tuple[list[int], list[float]]], workers: int) -> float:
    """The makespan of a schedule on ``workers`` workers when a run on budget ``b`` takes time ``b``.

    Replays the master's rule: whenever a worker is free it gets the next run of the oldest started iteration
    that has one; if none has, the next iteration starts. A stage's runs are ready only once the previous stage
    of the same iteration has finished (its survivors are chosen then).

    Parameters
    ----------
    iterations : list of (num_configs per stage, budget per stage)
    workers : int

    Returns
    -------
    float
        The time the last run finishes.

    Examples
    --------
    >>> simulate_wall_clock([([9, 3, 1], [1.0, 3.0, 9.0])], workers=2)  # 5 rounds of budget 1, 2 of 3, 1 of 9
    20.0
    >>> simulate_wall_clock([([2], [1.0]), ([2], [1.0])], workers=4)  # both iterations at once
    1.0
    """
    # per active iteration: [index, stage, runs still to hand out in this stage, runs of this stage in flight]
    active: list[list[int]] = []
    started = 0
    now = 0.0
    free = int(workers)
    running: list[tuple[float, int, int]] = []  # (finish time, tie-breaker, iteration index)
    seq = 0
    state: dict[int, list[int]] = {}

    def next_run() -> tuple[int, float] | None:
        nonlocal started
        while True:
            for entry in active:
                index, stage, todo, _ = entry
                if todo > 0:
                    entry[2] -= 1
                    entry[3] += 1
                    return index, iterations[index][1][stage]
            if started >= len(iterations):
                return None
            ns = iterations[started][0]
            entry = [started, 0, int(ns[0]), 0]
            active.append(entry)
            state[started] = entry
            started += 1

    while True:
        while free > 0:
            run = next_run()
            if run is None:
                break
            index, budget = run
            heapq.heappush(running, (now + float(budget), seq, index))
            seq += 1
            free -= 1
        if not running:
            return now
        now, _, index = heapq.heappop(running)
        free += 1
        entry = state[index]
        entry[3] -= 1
        if entry[2] == 0 and entry[3] == 0:  # the stage is complete: promote, or the iteration is done
            ns = iterations[index][0]
            if entry[1] + 1 < len(ns):
                entry[1] += 1
                entry[2] = int(ns[entry[1]])
            else:
                active.remove(entry)


def _num(value: float | None) -> str:
    """A budget or cost without a useless ``.0``."""
    if value is None:
        return "-"
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def format_duration(seconds: float | None) -> str:
    """``seconds`` as ``'1h 02m 03s'``, ``'4m 05s'`` or ``'6.5s'``.

    Examples
    --------
    >>> format_duration(3723), format_duration(245), format_duration(6.54), format_duration(None)
    ('1h 02m 03s', '4m 05s', '6.5s', '-')
    >>> format_duration(200000)
    '2d 07h 33m'
    """
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.2g}s" if seconds < 10 else f"{seconds:.0f}s"
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"
