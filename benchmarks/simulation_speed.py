"""Wall time per job of a simulated run: the real optimizers on a SimulatedBackend, journal included.

Each optimizer runs on the multi-fidelity Hartmann-6 of ``benchmarks/problems.py`` (budgets 9..729, eta 3) with
``--workers`` simulated workers and job costs of 2 ms x budget increment + 0.5 ms of virtual time (as
``benchmarks/async_simulation.py``). ``n_iterations`` is the smallest found (by scaling up from a short run of the
same seed) for which the run makes at least ``--jobs`` jobs; that run is then timed ``--repeats`` times. The time
is that of ``run()``: scheduling, sampling (BOHB's model fitting included), the runner, the journal (written
through its writer thread, flushed at the end), reading it back into a Result and writing ``results.pkl``.

    python benchmarks/simulation_speed.py [--optimizers ASHA,HyperBand,AsyncBOHB] [--jobs 5000] [--workers 16]
                                          [--repeats 3] [--iterations ASHA=57,HyperBand=132] [--profile]

``--iterations`` skips the search for the optimizers it names (the values above give 5015 and 5023 jobs).

With ``--profile`` the first repeat runs under cProfile and the 25 most expensive functions are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import statistics
import tempfile
import time

from bandster.backends import SimulatedBackend
from bandster.optimizers import ASHA, BOHB, AsyncBOHB, AsyncHyperBand, HyperBand

from problems import PROBLEMS

OPTIMIZERS = {"ASHA": ASHA, "HyperBand": HyperBand, "AsyncBOHB": AsyncBOHB, "BOHB": BOHB,
              "AsyncHyperBand": AsyncHyperBand}


def run_once(name: str, n_iterations: int, args: argparse.Namespace, workdir: str, tag: str,
             profile: bool = False) -> tuple[int, float, float]:
    """``(jobs, wall s, CPU s)`` of one ``run(n_iterations)``."""
    problem = PROBLEMS["hartmann6"]

    def objective(config: dict, budget: float, previous_budget: float | None) -> dict:
        return {"loss": float(problem.evaluate(config, budget, 0)), "info": None,
                "cost": (2.0 * (budget - (previous_budget or 0.0)) + 0.5) / 1000}

    opt = OPTIMIZERS[name](configspace=problem.make_space(0), run_id=f"speed_{name}_{tag}",
                           min_budget=problem.min_budget, max_budget=problem.max_budget, eta=problem.eta, seed=0,
                           working_directory=os.path.join(workdir, f"{name}_{tag}"),
                           backend=SimulatedBackend(args.workers, objective))
    profiler = cProfile.Profile() if profile else None
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        result = opt.run(n_iterations=n_iterations, progress=False)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        opt.shutdown()
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return len(result.get_all_runs()), wall, cpu


def iterations_for(name: str, args: argparse.Namespace, workdir: str) -> int:
    """The smallest ``n_iterations`` found whose run makes at least ``args.jobs`` jobs."""
    n, jobs = 4, 0
    while True:
        jobs = run_once(name, n, args, workdir, f"calibrate{n}")[0]
        if jobs >= args.jobs:
            break
        n = max(n + 1, math.ceil(n * args.jobs / max(jobs, 1)))
    while n > 1:  # scaling may overshoot: step back while the target still holds
        fewer = run_once(name, n - 1, args, workdir, f"calibrate{n - 1}")[0]
        if fewer < args.jobs:
            break
        n -= 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizers", default="ASHA,HyperBand,AsyncBOHB",
                        help=f"comma list of {', '.join(OPTIMIZERS)}")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", default="", help="NAME=N,...: n_iterations to use instead of searching")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    try:
        given = {name: int(n) for name, n in (item.split("=") for item in args.iterations.split(",") if item)}
    except ValueError:
        parser.error(f"--iterations takes NAME=N,NAME=N,..., got {args.iterations!r}")
    names = [o for o in args.optimizers.split(",") if o]
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    print(f"{args.workers} simulated workers, Hartmann-6 (budgets 9..729, eta 3), at least {args.jobs} jobs; "
          f"median of {args.repeats} runs (all runs in brackets)\n")
    print("| optimizer | n_iterations | jobs | wall s | ms per job | CPU ms per job |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            n = given[name] if name in given else iterations_for(name, args, workdir)
            timings = [run_once(name, n, args, workdir, f"r{i}", profile=args.profile and i == 0)
                       for i in range(args.repeats)]
            jobs = timings[0][0]
            walls = [wall for _, wall, _ in timings]
            cpus = [cpu for _, _, cpu in timings]
            print(f"| {name} | {n} | {jobs} | {statistics.median(walls):.2f} ({', '.join(f'{w:.2f}' for w in walls)})"
                  f" | {1000 * statistics.median(walls) / jobs:.2f} | {1000 * statistics.median(cpus) / jobs:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
