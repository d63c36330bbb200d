"""`make demo`: a real optimization on this machine, with an in-process name server and 4 thread workers.

The objective is the Branin function with a fidelity: the budget is the number of "epochs" of a noisy
estimate whose noise shrinks with the budget. Results go to ``./demo_run/`` (the run's journal, with
``results.pkl``).

The noise of each evaluation is drawn from ``--seed``, the configuration and the budget, so with one worker
(``--n_workers 1``) the same ``--seed`` gives the same run. With several workers the order in which results
reach BOHB's model depends on timing, and so does the run.
"""

import argparse
import logging
import math
import os
import time

import ConfigSpace as CS
import numpy as np

from bandster.core.nameserver import NameServer
from bandster.core.worker import Worker
from bandster.optimizers import BOHB as Optimizer


class BraninWorker(Worker):
    """Branin's function, observed through noise that shrinks as the budget grows."""

    def __init__(self, *args, sleep_per_budget=0.0, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep_per_budget = sleep_per_budget
        self.seed = seed

    def compute(self, config_id, config, budget, **kwargs):
        x1, x2 = config["x1"], config["x2"]
        value = (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
        value += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
        # the same noise for the same evaluation, whichever worker runs it
        rng = np.random.default_rng([self.seed, *config_id, int(round(budget * 1000))])
        noise = rng.normal(0, 2.0 / math.sqrt(budget))
        time.sleep(self.sleep_per_budget * budget)
        return {"loss": value + noise, "info": {"exact": value, "budget": budget}}


def configspace():
    cs = CS.ConfigurationSpace(seed=1)
    cs.add([CS.UniformFloatHyperparameter("x1", -5, 10), CS.UniformFloatHyperparameter("x2", 0, 15)])
    return cs


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n_workers", type=int, default=4)
    parser.add_argument("--n_iterations", type=int, default=20)
    parser.add_argument("--min_budget", type=float, default=1)
    parser.add_argument("--max_budget", type=float, default=27)
    parser.add_argument("--working_directory", default="demo_run")
    parser.add_argument("--seed", type=int, default=1,
                        help="seeds BOHB and the noise; with --n_workers 1 the run is reproducible")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    ns = NameServer(run_id="demo")
    host, port = ns.start()
    workers = [
        BraninWorker(run_id="demo", nameserver=host, nameserver_port=port, id=i, sleep_per_budget=0.002,
                     seed=args.seed)
        for i in range(args.n_workers)
    ]
    for w in workers:
        w.run(background=True)
    optimizer = Optimizer(
        configspace=configspace(),
        run_id="demo",
        nameserver=host,
        nameserver_port=port,
        min_budget=args.min_budget,
        max_budget=args.max_budget,
        working_directory=args.working_directory,
        seed=args.seed,
    )
    started = time.time()
    try:
        result = optimizer.run(n_iterations=args.n_iterations, min_n_workers=args.n_workers)
    finally:
        optimizer.shutdown(shutdown_workers=True)
        ns.shutdown()

    runs = result.get_all_runs()
    incumbent = result.get_incumbent_id()
    journal = optimizer.journal.directory
    print(f"{type(optimizer).__name__}: {len(runs)} runs of {len(result.get_id2config_mapping())} configurations "
          f"on {args.n_workers} worker{'s' if args.n_workers != 1 else ''} in {time.time() - started:.1f} s "
          f"(seed {args.seed})")
    if incumbent is None:
        print("no incumbent: no run on the largest budget finished (see the journal's results.json)")
    else:
        best = [r for r in runs if r.config_id == incumbent and r.budget == max(r.budget for r in runs)][-1]
        config = result.get_id2config_mapping()[incumbent]["config"]
        print(f"incumbent {incumbent}: x1={config['x1']:.4f} x2={config['x2']:.4f}; loss on budget {best.budget:g}: "
              f"{best.loss:.4f}, its exact Branin value {best.info['exact']:.4f} (global minimum 0.3979)")
        print(f"""
what the numbers mean:
  {incumbent} is the configuration's id: (iteration, stage of the iteration it was sampled in, number within it).
  The loss is a noisy measurement of Branin's function; its noise shrinks as the budget grows (standard
  deviation 2/sqrt(budget)), so a loss below the global minimum 0.3979 is noise, not an error. The exact value
  is what a noise-free evaluation of the same x1, x2 gives.""")
    print(f"""
results: {os.path.join(journal, 'results.pkl')} (the journal: {journal})
next:
  bandster status {journal}      the runs per iteration and stage, the best configurations, the workers
  bandster report {journal}      one HTML file with the summary and the plots""")

if __name__ == "__main__":
    main()
