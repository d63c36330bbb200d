"""Steady-state worker utilisation of HyperBand, BOHB, ASHA and AsyncBOHB with many thread workers.

Budgets 1..27 (eta 3), 16 thread workers; compute sleeps ``seconds_per_budget x (budget - previous_budget)``,
i.e. a promoted configuration resumes from its checkpoint and only trains the increment (the synchronous
optimizers get ``previous_budget`` too, and save the same). Every optimizer runs ``--iterations`` Hyperband
iterations' worth of budget (ASHA and AsyncBOHB: jobs start while the budget started is below that of as many
synchronous Hyperband iterations).

Steady-state utilisation = busy time / (window x workers), where the window runs from the first dispatch to the
last dispatch (the master's ``started`` stamps) and busy time is the part of each run's ``started .. finished``
inside the window; this leaves out the drain at the end, when no new job can start. The overall utilisation
(first dispatch to last result) is printed too.

    python benchmarks/async_utilisation.py [--iterations 40] [--workers 16] [--seconds_per_budget 0.02]
"""

import argparse
import logging
import os
import tempfile
import time

from bandster.core.nameserver import NameServer
from bandster.core.worker import Worker
from bandster.optimizers import ASHA, BOHB, AsyncBOHB, HyperBand

from _common import space

OPTIMIZERS = {"HyperBand": HyperBand, "BOHB": BOHB, "ASHA": ASHA, "AsyncBOHB": AsyncBOHB}


class IncrementWorker(Worker):
    """Sleeps ``seconds_per_budget x (budget - previous_budget)``: training resumed from a checkpoint."""

    def __init__(self, *args, seconds_per_budget=0.02, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds_per_budget = seconds_per_budget

    def compute(self, config, budget, previous_budget=None, **kwargs):
        time.sleep(self.seconds_per_budget * (budget - (previous_budget or 0.0)))
        return {"loss": config["x"] / budget + config["y"], "info": None}


def utilisation(result, n_workers):
    """``(runs, window s, steady-state utilisation, overall utilisation)``."""
    runs = result.get_all_runs()
    started = [r.time_stamps["started"] for r in runs]
    finished = [r.time_stamps["finished"] for r in runs]
    first, last_dispatch, last_result = min(started), max(started), max(finished)
    window = last_dispatch - first
    busy_window = sum(max(0.0, min(f, last_dispatch) - max(s, first)) for s, f in zip(started, finished, strict=True))
    busy = sum(f - s for s, f in zip(started, finished, strict=True))
    return len(runs), window, busy_window / (window * n_workers), busy / ((last_result - first) * n_workers)


def measure(name, n_workers, iterations, workdir, seconds_per_budget, seed):
    run_id = f"async_util_{name}_{os.getpid()}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    workers = [IncrementWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=i,
                               seconds_per_budget=seconds_per_budget) for i in range(n_workers)]
    for w in workers:
        w.run(background=True)
    opt = OPTIMIZERS[name](configspace=space(seed), run_id=run_id, nameserver=host, nameserver_port=port,
                           min_budget=1, max_budget=27, eta=3, working_directory=workdir, seed=seed)
    try:
        result = opt.run(n_iterations=iterations, min_n_workers=n_workers, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
        for w in workers:
            w.shutdown()
        ns.shutdown()
    budget = sum(r.budget for r in result.get_all_runs())
    return (*utilisation(result, n_workers), budget)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--seconds_per_budget", type=float, default=0.02)
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{args.workers} thread workers, {args.iterations} Hyperband iterations' budget, budgets 1..27, "
          f"sleep {args.seconds_per_budget} s x budget increment")
    print(f"{'optimizer':>10}{'runs':>7}{'budget':>9}{'window s':>10}{'steady':>9}{'overall':>9}")
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.optimizers.split(","):
            runs, window, steady, overall, budget = measure(name, args.workers, args.iterations,
                                                            os.path.join(workdir, name), args.seconds_per_budget,
                                                            args.seed)
            print(f"{name:>10}{runs:>7}{budget:>9.0f}{window:>10.2f}{100 * steady:>8.1f}%{100 * overall:>8.1f}%",
                  flush=True)


if __name__ == "__main__":
    main()
