"""Worker utilisation of Hyperband with many thread workers and sleep-based compute.

Hyperband (eta 3, budgets 1..27), compute sleeps 0.02 s x budget, 20 iterations, 8 and 16 thread workers.
Utilisation = busy time / (wall time x workers), with busy time the sum over runs of finished - started
(the master's clock) and wall time from the first dispatch to the last result.

    python benchmarks/parallel.py [--iterations 20] [--workers 8 16]
"""

import argparse
import logging
import os
import tempfile

from bandster.core.nameserver import NameServer
from bandster.optimizers import HyperBand

from _common import SleepWorker, space


def utilisation(result, n_workers):
    runs = result.get_all_runs()
    started = [r.time_stamps["started"] for r in runs]
    finished = [r.time_stamps["finished"] for r in runs]
    busy = sum(f - s for s, f in zip(started, finished, strict=True))
    wall = max(finished) - min(started)
    return len(runs), wall, busy / (wall * n_workers)


def measure(n_workers, iterations, workdir, seconds_per_budget):
    run_id = f"par_{n_workers}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    workers = [SleepWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=i,
                           seconds_per_budget=seconds_per_budget) for i in range(n_workers)]
    for w in workers:
        w.run(background=True)
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port, min_budget=1,
                   max_budget=27, eta=3, working_directory=workdir, seed=0)
    result = hb.run(n_iterations=iterations, min_n_workers=n_workers)
    hb.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    ns.shutdown()
    return utilisation(result, n_workers)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--seconds_per_budget", type=float, default=0.02)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'workers':>8}{'runs':>7}{'wall s':>9}{'utilisation':>13}")
    with tempfile.TemporaryDirectory() as workdir:
        for n in args.workers:
            runs, wall, util = measure(n, args.iterations, os.path.join(workdir, str(n)), args.seconds_per_budget)
            print(f"{n:>8}{runs:>7}{wall:>9.2f}{100 * util:>12.1f}%", flush=True)


if __name__ == "__main__":
    main()
