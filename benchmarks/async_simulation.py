"""Synchronous vs asynchronous optimizers in simulated time: many seeds, no wall-clock noise.

``benchmarks/async_regret.py`` measures the real runtime (name server, dispatcher, 16 thread workers sleeping
in proportion to the budget increment), so its figures carry thread-timing noise, and 8 seeds take minutes.
This script answers the same question, "which optimizer reaches which regret how soon", with a discrete-event
simulation of ``--workers`` workers that drives bandster's own scheduling and model classes and nothing else:

* synchronous optimizers: :class:`~bandster.optimizers.iterations.SuccessiveHalving` iterations with Hyperband's
  brackets (``brackets.hyperband_iteration``); a free worker takes the next run of the oldest active iteration
  that has one, and a new iteration starts only when none has (as the master's ``_fill`` does);
* asynchronous optimizers: :class:`~bandster.optimizers.asha.AsyncSchedule` with
  :class:`~bandster.optimizers.iterations.asynchronous.AsynchronousIteration` brackets and the budget limit of
  ``--async_iterations`` Hyperband iterations (as ``AsyncBracketOptimizer.run``);
* new configurations from the real config generators (BOHB's KDE model with either ``model_budget_rule``, or
  random sampling), fed every result.

A job takes ``--ms_per_budget x (budget - previous_budget) + --overhead_ms`` milliseconds of simulated time, where
``previous_budget`` is the largest budget the configuration already finished (a promotion resumes from its
checkpoint, for the synchronous optimizers too). The master's own time, the network and the model's compute time
are left out: the simulation compares decisions, not implementations. Incumbent, regret and the report are those
of ``benchmarks/async_regret.py`` (BOHB is the reference).

    python benchmarks/async_simulation.py [--seeds 32] [--problems counting_ones,hartmann6,cond_branin]
        [--optimizers ASHA,AsyncBOHB,AsyncBOHB_enough,BOHB_full_split,HyperBand] [--iterations 20]
        [--async_iterations 30] [--workers 16] [--ms_per_budget 2] [--overhead_ms 0.5]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
from collections.abc import Callable
from typing import Any

from bandster.core.job import Job
from bandster.optimizers import brackets
from bandster.optimizers.asha import AsyncSchedule, hyperband_budget
from bandster.optimizers.config_generators.bohb import BOHB as BOHBModel
from bandster.optimizers.config_generators.random_sampling import RandomSampling
from bandster.optimizers.iterations import SuccessiveHalving
from bandster.optimizers.iterations.asynchronous import AsyncBrackets, AsynchronousIteration

from async_regret import compare
from problems import Problem

#: name -> (synchronous?, config generator factory(space, seed)); asynchronous ones use one ladder (ASHA's)
OPTIMIZERS: dict[str, tuple[bool, Callable[[Any, int], Any]]] = {
    "BOHB": (True, lambda space, seed: BOHBModel(space, seed=seed, model_budget_rule="enough")),
    "BOHB_full_split": (True, lambda space, seed: BOHBModel(space, seed=seed, model_budget_rule="full_split")),
    "HyperBand": (True, lambda space, seed: RandomSampling(space, seed=seed)),
    "ASHA": (False, lambda space, seed: RandomSampling(space, seed=seed)),
    "AsyncBOHB": (False, lambda space, seed: BOHBModel(space, seed=seed, model_budget_rule="full_split")),
    "AsyncBOHB_enough": (False, lambda space, seed: BOHBModel(space, seed=seed, model_budget_rule="enough")),
}


def simulate(problem: Problem, name: str, seed: int, n_iterations: int, args: argparse.Namespace) -> list[tuple]:
    """``(finished s, budget, loss, config)`` of every run of one simulated optimization, in finish order."""
    synchronous, make_generator = OPTIMIZERS[name]
    generator = make_generator(problem.make_space(seed), seed)
    iterations: list[Any] = []
    active: list[Any] = []
    left = n_iterations if synchronous else 0
    if not synchronous:
        budgets = brackets.budget_ladder(problem.min_budget, problem.max_budget, problem.eta)
        schedule = AsyncSchedule(budgets, problem.eta, 1)
        schedule.budget_limit = hyperband_budget(n_iterations, problem.min_budget, problem.max_budget, problem.eta)
        iterations.append(AsynchronousIteration(HPB_iter=0, brackets=AsyncBrackets(schedule),
                                                config_sampler=generator.get_config))
        active.append(iterations[0])

    def next_run() -> tuple | None:
        nonlocal left
        while True:
            for iteration in list(active):
                run = iteration.get_next_run()
                if run is not None:
                    return run
                if iteration.is_finished:
                    active.remove(iteration)
            if left <= 0:
                return None
            left -= 1
            i = len(iterations)
            ns, budgets = brackets.hyperband_iteration(i, problem.min_budget, problem.max_budget, problem.eta)
            iterations.append(SuccessiveHalving(HPB_iter=i, num_configs=ns, budgets=budgets,
                                                config_sampler=generator.get_config))
            active.append(iterations[-1])

    now, running, order = 0.0, [], itertools.count()
    runs = []
    while True:
        while len(running) < args.workers:
            run = next_run()
            if run is None:
                break
            config_id, config, budget = run
            results = iterations[config_id[0]].data[config_id].results
            done = [b for b, r in results.items() if r is not None and b < budget]
            seconds = (args.ms_per_budget * (budget - max(done, default=0.0)) + args.overhead_ms) / 1000
            heapq.heappush(running, (now + seconds, next(order), config_id, dict(config), budget))
        if not running:
            return runs
        now, _, config_id, config, budget = heapq.heappop(running)
        loss = float(problem.evaluate(config, budget, seed))
        job = Job(config_id, config=config, budget=budget)
        job.result = {"loss": loss, "info": None}
        iterations[config_id[0]].register_result(job)
        generator.new_result(job)
        runs.append((now, float(budget), loss, config))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=20, help="brackets of the synchronous optimizers")
    parser.add_argument("--async_iterations", type=int, default=30,
                        help="Hyperband iterations' budget of the asynchronous optimizers")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--ms_per_budget", type=float, default=2.0)
    parser.add_argument("--overhead_ms", type=float, default=0.5, help="added to every job")
    parser.add_argument("--problems", default="counting_ones,hartmann6,cond_branin")
    parser.add_argument("--optimizers", default="ASHA,AsyncBOHB,AsyncBOHB_enough,BOHB_full_split,HyperBand",
                        help=f"comma list of {', '.join(OPTIMIZERS)}; BOHB (the reference) always runs")
    args = parser.parse_args()
    names = ["BOHB"] + [o for o in args.optimizers.split(",") if o and o != "BOHB"]
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    print(f"simulated: {args.workers} workers; synchronous {args.iterations} brackets, asynchronous "
          f"{args.async_iterations} Hyperband iterations' budget; {args.ms_per_budget} ms x budget increment + "
          f"{args.overhead_ms} ms per job; seeds 0..{args.seeds - 1}")
    compare(args.problems.split(","), names, args.seeds,
            lambda problem, name, seed: simulate(problem, name, seed, args.iterations if OPTIMIZERS[name][0]
                                                 else args.async_iterations, args))

if __name__ == "__main__":
    main()
