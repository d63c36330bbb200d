"""Jobs per second and master overhead per job, with a compute that returns at once.

RandomSearch (10 configurations per iteration), journal on, with 1 and 4 thread workers and 4 worker
processes. Master CPU per job = CPU time of the master's process (all its threads: dispatcher, journal,
scheduling, and for thread workers the workers' loops too) divided by the number of jobs.

    python benchmarks/throughput.py [--jobs 3000]
"""

import argparse
import logging
import os
import subprocess
import tempfile
import time

from bandster.core.nameserver import NameServer
from bandster.optimizers import RandomSearch

from _common import InstantWorker, space, start_worker_processes, stop_processes


def measure(mode, n_workers, jobs, workdir):
    run_id = f"tp_{mode}_{n_workers}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    threads, procs = [], []
    if mode == "threads":
        threads = [InstantWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=i) for i in range(n_workers)]
        for w in threads:
            w.run(background=True)
    else:
        procs = start_worker_processes(n_workers, run_id, host, port, "instant", stdout=subprocess.DEVNULL)
    per_iteration = 10  # (1, 3**9, 3): a bracket's budget is 10 x max_budget
    rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port,
                      min_budget=1, max_budget=3**9, eta=3, working_directory=workdir, seed=0)
    rs.wait_for_workers(n_workers)
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = rs.run(n_iterations=jobs // per_iteration, min_n_workers=n_workers)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rs.shutdown(shutdown_workers=True)
    for w in threads:
        w.shutdown()
    stop_processes(procs)
    ns.shutdown()
    n = len(result.get_all_runs())
    assert n == (jobs // per_iteration) * per_iteration, n
    return n, n / wall, 1000 * cpu / n


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'workers':<22}{'jobs':>6}{'jobs/s':>10}{'master CPU ms/job':>20}")
    with tempfile.TemporaryDirectory() as workdir:
        for mode, n in (("threads", 1), ("threads", 4), ("processes", 4)):
            jobs, rate, overhead = measure(mode, n, args.jobs, os.path.join(workdir, f"{mode}{n}"))
            print(f"{f'{n} {mode}':<22}{jobs:>6}{rate:>10.0f}{overhead:>20.3f}", flush=True)


if __name__ == "__main__":
    main()
