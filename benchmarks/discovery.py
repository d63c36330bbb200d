"""How long until the master knows a new worker: workers started after the master, and before it.

Thread workers and worker processes; latency from the worker's ``run()`` (for a process: the moment it
has imported everything and calls ``run()``) to the master's ``wait_for_workers`` returning; for workers
started before the master, from the master's construction.

    python benchmarks/discovery.py [--repeats 5]
"""

import argparse
import logging
import statistics
import subprocess
import tempfile
import time

from bandster.core.nameserver import NameServer
from bandster.optimizers import RandomSearch

from _common import InstantWorker, space, start_worker_processes, stop_processes


def one(order, kind, workdir, k):
    run_id = f"disc_{order}_{kind}_{k}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    workers, procs = [], []

    def start_worker():
        if kind == "thread":
            w = InstantWorker(run_id=run_id, nameserver=host, nameserver_port=port)
            w.run(background=True)
            workers.append(w)
        else:
            procs.extend(start_worker_processes(1, run_id, host, port, stdout=subprocess.PIPE))

    def master():
        return RandomSearch(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port,
                            working_directory=workdir)

    if order == "after":
        opt = master()
        t0 = time.time()
        start_worker()
        if procs:
            t0 = float(procs[0].stdout.readline().split()[1])  # the process's clock: same machine
    else:
        start_worker()
        if procs:  # let the process reach its waiting state first
            procs[0].stdout.readline()
            time.sleep(1)
        t0 = time.time()
        opt = master()
    opt.wait_for_workers(1)
    latency = time.time() - t0
    opt.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    stop_processes(procs)
    ns.shutdown()
    return latency


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'worker':<10}{'started':<16}{'median ms':>10}{'max ms':>10}")
    with tempfile.TemporaryDirectory() as workdir:
        for kind in ("thread", "process"):
            for order in ("after master", "before master"):
                lat = [one(order.split()[0], kind, workdir, k) for k in range(args.repeats)]
                print(f"{kind:<10}{order:<16}{1000 * statistics.median(lat):>10.1f}{1000 * max(lat):>10.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
