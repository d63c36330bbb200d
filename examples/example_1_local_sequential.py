"""Example 1 - local and sequential: one name server, one worker (a thread), one optimizer.

Port of HpBandSter's example 1; only the imports changed (``hpbandster`` -> ``bandster``).
Run: ``python examples/example_1_local_sequential.py --min_budget 9 --max_budget 243 --n_iterations 4``
"""

import argparse
import logging

import bandster.core.nameserver as hpns
from bandster.optimizers import BOHB as opt

from commons import MyWorker, print_summary

logging.basicConfig(level=logging.WARNING)

parser = argparse.ArgumentParser(description="Example 1 - sequential and local execution.")
parser.add_argument("--min_budget", type=float, help="Minimum budget used during the optimization.", default=9)
parser.add_argument("--max_budget", type=float, help="Maximum budget used during the optimization.", default=243)
parser.add_argument("--n_iterations", type=int, help="Number of iterations performed by the optimizer", default=4)
args = parser.parse_args()

# Step 1: start a name server (in a thread of this process; it picks a free port)
NS = hpns.NameServer(run_id="example1", host="127.0.0.1", port=0)
host, port = NS.start()

# Step 2: start a worker in the background
w = MyWorker(sleep_interval=0, nameserver=host, nameserver_port=port, run_id="example1")
w.run(background=True)

# Step 3: run an optimizer
bohb = opt(
    configspace=w.get_configspace(),
    run_id="example1",
    nameserver=host,
    nameserver_port=port,
    min_budget=args.min_budget,
    max_budget=args.max_budget,
)
res = bohb.run(n_iterations=args.n_iterations)

# Step 4: shut down the optimizer, the worker and the name server
bohb.shutdown(shutdown_workers=True)
NS.shutdown()

# Step 5: analysis
print_summary(res, args.max_budget)
print("The run's journal is in", bohb.journal.directory)
