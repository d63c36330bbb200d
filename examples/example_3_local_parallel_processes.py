"""Example 3 - local and parallel, using processes: the same script is the master and the workers.

Port of HpBandSter's example 3; only the imports changed. Start workers with ``--worker`` and the master
without it, in any order; each process finds the name server on 127.0.0.1:9090 by itself (and its
secret in this user's private runtime directory). A worker started before the master waits for the name
server up to 60 s (``Worker(nameserver_wait=)``), logging a warning every few seconds; a master waits for
its workers, saying so every few seconds::

    python examples/example_3_local_parallel_processes.py --worker &
    python examples/example_3_local_parallel_processes.py --worker &
    python examples/example_3_local_parallel_processes.py --n_workers 2
"""

import argparse
import logging

import bandster.core.nameserver as hpns
from bandster.optimizers import BOHB as opt

from commons import MyWorker, print_summary

logging.basicConfig(level=logging.WARNING)

parser = argparse.ArgumentParser(description="Example 3 - Local and Parallel Execution.")
parser.add_argument("--min_budget", type=float, help="Minimum budget used during the optimization.", default=9)
parser.add_argument("--max_budget", type=float, help="Maximum budget used during the optimization.", default=243)
parser.add_argument("--n_iterations", type=int, help="Number of iterations performed by the optimizer", default=4)
parser.add_argument("--n_workers", type=int, help="Number of workers to run in parallel.", default=2)
parser.add_argument("--worker", help="Flag to turn this into a worker process", action="store_true")
parser.add_argument("--port", type=int, help="Port of the name server (default: Pyro's 9090).", default=None)
parser.add_argument("--run_id", type=str, help="A unique run id for this optimization run.", default="example3")
parser.add_argument("--timeout", type=float, help="Workers: seconds to wait for a master (default: forever).",
                    default=None)
args = parser.parse_args()

if args.worker:
    w = MyWorker(sleep_interval=0.5, nameserver="127.0.0.1", nameserver_port=args.port, run_id=args.run_id,
                 timeout=args.timeout)
    w.run(background=False)
    exit(0)

NS = hpns.NameServer(run_id=args.run_id, host="127.0.0.1", port=args.port)
NS.start()

bohb = opt(
    configspace=MyWorker.get_configspace(),
    run_id=args.run_id,
    nameserver="127.0.0.1",
    nameserver_port=args.port,
    min_budget=args.min_budget,
    max_budget=args.max_budget,
)
res = bohb.run(n_iterations=args.n_iterations, min_n_workers=args.n_workers)

bohb.shutdown(shutdown_workers=True)
NS.shutdown()

print_summary(res, args.max_budget)
