"""Example 2 - local and parallel, using threads: several workers in the master's process.

Port of HpBandSter's example 2; only the imports changed.
Run: ``python examples/example_2_local_parallel_threads.py --n_workers 4``
"""

import argparse
import logging

import bandster.core.nameserver as hpns
from bandster.optimizers import BOHB as opt

from commons import MyWorker, print_summary

logging.basicConfig(level=logging.WARNING)

parser = argparse.ArgumentParser(description="Example 2 - Local and Parallel Execution.")
parser.add_argument("--min_budget", type=float, help="Minimum budget used during the optimization.", default=9)
parser.add_argument("--max_budget", type=float, help="Maximum budget used during the optimization.", default=243)
parser.add_argument("--n_iterations", type=int, help="Number of iterations performed by the optimizer", default=4)
parser.add_argument("--n_workers", type=int, help="Number of workers to run in parallel.", default=2)
parser.add_argument("--sleep_interval", type=float, help="Seconds each computation sleeps.", default=0.5)
args = parser.parse_args()

NS = hpns.NameServer(run_id="example2", host="127.0.0.1", port=0)
host, port = NS.start()

workers = []
for i in range(args.n_workers):
    w = MyWorker(sleep_interval=args.sleep_interval, nameserver=host, nameserver_port=port, run_id="example2", id=i)
    w.run(background=True)
    workers.append(w)

bohb = opt(
    configspace=MyWorker.get_configspace(),
    run_id="example2",
    nameserver=host,
    nameserver_port=port,
    min_budget=args.min_budget,
    max_budget=args.max_budget,
)
res = bohb.run(n_iterations=args.n_iterations, min_n_workers=args.n_workers)

bohb.shutdown(shutdown_workers=True)
NS.shutdown()

print_summary(res, args.max_budget)
all_runs = res.get_all_runs()  # sorted by finish time
if all_runs:
    print("The run took %.1f seconds to complete."
          % (max(r.time_stamps["finished"] for r in all_runs) - min(r.time_stamps["started"] for r in all_runs)))
