"""Synchronous vs asynchronous optimizers in simulated time: many seeds, no wall-clock noise.

``benchmarks/async_regret.py`` measures the real runtime (name server, dispatcher, 16 thread workers sleeping
in proportion to the budget increment), so its figures carry thread-timing noise, and 8 seeds take minutes.
This script answers the same question, "which optimizer reaches which regret how soon", by running the real
optimizers (``bandster.optimizers.BOHB``, ``HyperBand``, ``ASHA``, ``AsyncBOHB``, ...: their schedulers, samplers,
runner and journal) on a :class:`~bandster.backends.SimulatedBackend` of ``--workers`` simulated workers: a
discrete-event backend with a virtual clock.

A job takes ``--ms_per_budget x (budget - previous_budget) + --overhead_ms`` milliseconds of virtual time, where
``previous_budget`` is the largest budget the configuration already finished (a promotion resumes from its
checkpoint, for the synchronous optimizers too). The optimizer's own compute time (the model's included) and the
network are left out: the simulation compares decisions, not implementations. The synchronous optimizers run
``--iterations`` brackets, the asynchronous ones ``--async_iterations`` Hyperband iterations' worth of budget.
Incumbent, regret and the report are those of ``benchmarks/async_regret.py`` (BOHB is the reference).

    python benchmarks/async_simulation.py [--seeds 32] [--problems counting_ones,hartmann6,cond_branin]
        [--optimizers ASHA,AsyncBOHB,AsyncBOHB_enough,BOHB_full_split,HyperBand] [--iterations 20]
        [--async_iterations 30] [--workers 16] [--ms_per_budget 2] [--overhead_ms 0.5]
        [--async_bohb_kwargs '{"num_samples": 256}']

``--async_bohb_kwargs`` (JSON) adds keyword arguments to every AsyncBOHB variant, to measure a model setting.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import logging
import os
import tempfile

from bandster.backends import SimulatedBackend
from bandster.optimizers import BOHB

import async_regret
from async_regret import compare
from problems import Problem

#: the optimizers of ``benchmarks/async_regret.py``, and BOHB with AsyncBOHB's model rule
OPTIMIZERS = dict(async_regret.OPTIMIZERS, BOHB_full_split=functools.partial(BOHB, model_budget_rule="full_split"))
#: they run ``--iterations`` brackets; the others ``--async_iterations`` Hyperband iterations' worth of budget
SYNCHRONOUS = async_regret.SYNCHRONOUS | {"BOHB_full_split"}
_ids = itertools.count()


def simulate(problem: Problem, name: str, seed: int, n_iterations: int, args: argparse.Namespace,
             workdir: str) -> list[tuple]:
    """``(finished s, budget, loss, config)`` of every run of one simulated optimization, in finish order."""

    def objective(config: dict, budget: float, previous_budget: float | None) -> dict:
        milliseconds = args.ms_per_budget * (budget - (previous_budget or 0.0)) + args.overhead_ms
        return {"loss": float(problem.evaluate(config, budget, seed)), "info": None, "cost": milliseconds / 1000}

    run_id = f"async_simulation_{os.getpid()}_{next(_ids)}"
    opt = OPTIMIZERS[name](configspace=problem.make_space(seed), run_id=run_id, min_budget=problem.min_budget,
                           max_budget=problem.max_budget, eta=problem.eta, seed=seed,
                           working_directory=os.path.join(workdir, run_id),
                           backend=SimulatedBackend(args.workers, objective))
    try:
        result = opt.run(n_iterations=n_iterations, progress=False)
    finally:
        opt.shutdown()
    id2conf = result.get_id2config_mapping()
    runs = sorted(result.get_all_runs(), key=lambda r: r.time_stamps["finished"])
    return [(r.time_stamps["finished"], float(r.budget), r.loss, id2conf[r.config_id]["config"]) for r in runs]


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
    parser.add_argument("--async_bohb_kwargs", default="{}", help="JSON: extra keyword arguments of AsyncBOHB")
    args = parser.parse_args()
    extra = json.loads(args.async_bohb_kwargs)
    if extra:
        for name in [n for n in OPTIMIZERS if n.startswith("AsyncBOHB")]:
            OPTIMIZERS[name] = functools.partial(OPTIMIZERS[name], **extra)
    names = ["BOHB"] + [o for o in args.optimizers.split(",") if o and o != "BOHB"]
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    print(f"simulated: {args.workers} workers; synchronous {args.iterations} brackets, asynchronous "
          f"{args.async_iterations} Hyperband iterations' budget; {args.ms_per_budget} ms x budget increment + "
          f"{args.overhead_ms} ms per job; seeds 0..{args.seeds - 1}"
          + (f"; AsyncBOHB with {extra}" if extra else ""))
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        compare(args.problems.split(","), names, args.seeds,
                lambda problem, name, seed: simulate(problem, name, seed, args.iterations if name in SYNCHRONOUS
                                                     else args.async_iterations, args, workdir))

if __name__ == "__main__":
    main()
