"""Example 4 - on a cluster: one master, many workers on other nodes, joined through a shared directory.

Port of HpBandSter's example 4 (with its bugs fixed: no fixed sleep, the right flag names). Submit the same
script as a job array; task 1 is the master, every other task a worker::

    qsub -t 1-4 scripts/sge/example_4.sh            # SGE
    sbatch --array=1-4 scripts/slurm/example_4.sbatch   # Slurm

or by hand, in any order (the workers wait for the master's credentials file)::

    python example_4_cluster.py --run_id demo --nic_name eth0 --shared_directory /shared/demo --n_workers 3
    python example_4_cluster.py --run_id demo --nic_name eth0 --shared_directory /shared/demo --worker   # x2

The master takes the address of ``--nic_name`` (an interface the other nodes can reach: ``eth0``, ``ib0``,
...), starts the name server, which writes ``bandster_<run_id>.credentials.json`` (address, port and secret;
mode 0600) into the shared directory, runs one worker in a background thread, and runs BOHB once
``--n_workers`` workers (its own included) have joined. Workers read the credentials file, waiting up to
``--max_wait`` seconds for it (a file left by an earlier master that died is recognised and not used),
register, and compute until the master tells them to stop. The Result is pickled to
``<shared_directory>/results.pkl``; the run's journal is in ``<shared_directory>/bandster_runs/``.
See docs/cluster.md.
"""

import argparse
import logging
import os
import pickle

import bandster.core.nameserver as hpns
from bandster.optimizers import BOHB

from commons import MyWorker, print_summary

logging.basicConfig(level=logging.WARNING)

parser = argparse.ArgumentParser(description="Example 4 - a run on a cluster, through a shared directory.")
parser.add_argument("--min_budget", type=float, help="Minimum budget used during the optimization.", default=9)
parser.add_argument("--max_budget", type=float, help="Maximum budget used during the optimization.", default=243)
parser.add_argument("--n_iterations", type=int, help="Number of iterations performed by the optimizer", default=4)
parser.add_argument("--n_workers", type=int, help="Start once this many workers (the master's included) joined.",
                    default=2)
parser.add_argument("--worker", help="Flag to turn this into a worker process", action="store_true")
parser.add_argument("--run_id", type=str, default="example4",
                    help="A unique run id for this optimization run. An easy option is the job id of the cluster.")
parser.add_argument("--nic_name", type=str, default="lo",
                    help="Network interface for communication: one the other nodes reach (eth0, ib0, ...). 'lo' "
                         "only works when every process runs on this machine.")
parser.add_argument("--shared_directory", type=str, default=".",
                    help="A directory every process can read and write, e.g. on an NFS share.")
parser.add_argument("--sleep_interval", type=float, default=0.5, help="Seconds each evaluation pretends to work.")
parser.add_argument("--max_wait", type=float, default=600,
                    help="Workers: seconds to wait for the master's credentials file.")
args = parser.parse_args()

# Every process listens on the address of this interface (a clear error lists the interfaces if it is wrong).
host = hpns.nic_name_to_host(args.nic_name)

if args.worker:
    w = MyWorker(sleep_interval=args.sleep_interval, run_id=args.run_id, host=host)
    # Waits for the master to write the credentials file: no fixed sleep; a stale file is not used.
    w.load_nameserver_credentials(working_directory=args.shared_directory, num_tries=max(1, int(args.max_wait)),
                                  interval=1)
    w.run(background=False)  # returns when the master shuts the workers down
    exit(0)

# The master: a name server on the cluster network, writing its credentials into the shared directory.
os.makedirs(args.shared_directory, exist_ok=True)
NS = hpns.NameServer(run_id=args.run_id, host=host, port=0, working_directory=args.shared_directory)
ns_host, ns_port = NS.start()

# The master's node also computes, in a background thread.
w = MyWorker(sleep_interval=args.sleep_interval, run_id=args.run_id, host=host, nameserver=ns_host,
             nameserver_port=ns_port)
w.run(background=True)

bohb = BOHB(
    configspace=MyWorker.get_configspace(),
    run_id=args.run_id,
    host=host,
    nameserver=ns_host,
    nameserver_port=ns_port,
    min_budget=args.min_budget,
    max_budget=args.max_budget,
    working_directory=args.shared_directory,
)
try:
    res = bohb.run(n_iterations=args.n_iterations, min_n_workers=args.n_workers)
    with open(os.path.join(args.shared_directory, "results.pkl"), "wb") as fh:
        pickle.dump(res, fh)
finally:
    bohb.shutdown(shutdown_workers=True)  # the remote workers exit too
    w.shutdown()
    NS.shutdown()  # removes the credentials file

print_summary(res, args.max_budget)
all_runs = res.get_all_runs()  # sorted by finish time
print("Workers that computed: %i" % len({r.worker_name for r in all_runs}))
