"""Jobs per second and master overhead per job, with a compute that returns at once.

RandomSearch (10 configurations per iteration), journal on, with 1 and 4 thread workers and 4 worker
processes. jobs/s = jobs / wall time of ``run()`` (which ends by reading the journal back into the Result and
writing results.pkl); "to last result" = jobs / (last ``finished`` - first ``submitted``), the dispatching alone.
Master CPU per job = CPU time of the master's process during ``run()`` (all its threads: dispatcher, journal,
scheduling, the read-back, and for thread workers the workers' loops too) divided by the number of jobs.
With ``--repeat N`` each setting runs N times (the median row follows).

    python benchmarks/throughput.py [--jobs 3000] [--repeat 1] [--modes threads:1 threads:4 processes:4]
"""

import argparse
import logging
import os
import statistics
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
    runs = result.get_all_runs()
    n = len(runs)
    assert n == (jobs // per_iteration) * per_iteration, n
    span = max(r.time_stamps["finished"] for r in runs) - min(r.time_stamps["submitted"] for r in runs)
    return n, n / wall, n / span, 1000 * cpu / n


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting (then a median row)")
    parser.add_argument("--modes", nargs="+", default=["threads:1", "threads:4", "processes:4"],
                        help="settings as MODE:WORKERS, MODE threads or processes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'workers':<22}{'jobs':>6}{'jobs/s':>10}{'to last result':>16}{'master CPU ms/job':>20}{'load':>7}")
    with tempfile.TemporaryDirectory() as workdir:
        for setting in args.modes:
            mode, n = setting.split(":")[0], int(setting.split(":")[1])
            rows = []
            for i in range(args.repeat):
                jobs, rate, dispatch_rate, overhead = measure(mode, n, args.jobs,
                                                              os.path.join(workdir, f"{mode}{n}_{i}"))
                rows.append((rate, dispatch_rate, overhead))
                print(f"{f'{n} {mode}':<22}{jobs:>6}{rate:>10.0f}{dispatch_rate:>16.0f}{overhead:>20.3f}"
                      f"{os.getloadavg()[0]:>7.1f}", flush=True)
            if args.repeat > 1:
                med = [statistics.median(column) for column in zip(*rows, strict=True)]
                print(f"{f'{n} {mode}, median':<22}{'':>6}{med[0]:>10.0f}{med[1]:>16.0f}{med[2]:>20.3f}", flush=True)


if __name__ == "__main__":
    main()
