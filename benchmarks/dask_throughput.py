"""Dispatch throughput on Dask, and synchronous HyperBand's worker utilisation on Dask.

Throughput: a compute that returns at once, 4 Dask worker processes (LocalCluster, one thread each), in one
run of this script, each measured ``--repeat`` times:

* ``client.map``: Dask's own map of the function over all jobs, gathered (no bound on tasks in flight);
* ``loop``: a plain loop that submits one task each time one finishes (``as_completed``), with at most
  ``4 x (1 + 2)`` tasks in flight (one running and two queued per worker thread);
* ``bandster dask``: RandomSearch on :class:`~bandster.backends.DaskBackend` (journal on; the same bound:
  ``queued_per_thread=2`` while jobs are short), jobs / wall time of ``run()`` and "to last result" =
  jobs / (last ``finished`` - first ``submitted``);
* ``bandster pyro``: the same RandomSearch on 4 bandster worker processes (the Pyro backend).

Utilisation: HyperBand (eta 3, budgets 1..27), compute sleeps 0.02 s x budget (``benchmarks/parallel.py``'s
workload), on 8 Dask worker processes; busy time / (wall time x 8), started = finished - compute duration. Beside
it, the same budgets through a plain submit-on-completion loop with 8 tasks in flight and no stage barriers
(busy time measured in the tasks): the most Dask itself gives on this machine.

    python benchmarks/dask_throughput.py [--jobs 2000] [--repeat 3] [--iterations 20] [--skip-pyro]
"""

import argparse
import logging
import os
import statistics
import subprocess
import tempfile
import time

from distributed import Client, LocalCluster, as_completed
from parallel import utilisation

from bandster.backends import DaskBackend
from bandster.core.nameserver import NameServer
from bandster.optimizers import HyperBand, RandomSearch

from _common import space, start_worker_processes, stop_processes

BOUND_PER_THREAD = 3  # one running and two queued


def instant(config, budget):
    return {"loss": config["x"], "info": None}


def instant_task(i):
    return i


def sleeping(config, budget):
    time.sleep(0.02 * budget)
    return {"loss": config["x"] / budget, "info": None}


def cluster(n_workers):
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)


def measure_map(client, jobs):
    t0 = time.perf_counter()
    futures = client.map(instant_task, range(jobs), pure=False)
    client.gather(futures)
    return jobs / (time.perf_counter() - t0)


def measure_loop(client, jobs, bound):
    t0 = time.perf_counter()
    submitted = min(bound, jobs)
    pending = as_completed([client.submit(instant_task, i, pure=False) for i in range(submitted)])
    done = 0
    for future in pending:
        future.result()
        done += 1
        if submitted < jobs:
            pending.add(client.submit(instant_task, submitted, pure=False))
            submitted += 1
    assert done == jobs
    return jobs / (time.perf_counter() - t0)


def random_search(backend_kwargs, jobs, workdir, run_id):
    per_iteration = 10  # (1, 3**9, 3): a bracket's budget is 10 x max_budget
    rs = RandomSearch(configspace=space(), run_id=run_id, min_budget=1, max_budget=3**9, eta=3,
                      working_directory=workdir, seed=0, **backend_kwargs)
    t0 = time.perf_counter()
    result = rs.run(n_iterations=jobs // per_iteration, progress=False)
    wall = time.perf_counter() - t0
    return rs, result, wall


def rates(result, wall):
    runs = result.get_all_runs()
    span = max(r.time_stamps["finished"] for r in runs) - min(r.time_stamps["submitted"] for r in runs)
    return len(runs) / wall, len(runs) / span


def measure_bandster_dask(client, jobs, workdir):
    rs, result, wall = random_search({"backend": DaskBackend(client, instant)}, jobs, workdir, "tp_dask")
    rs.shutdown()
    return rates(result, wall)


def measure_bandster_pyro(jobs, workdir):
    run_id = "tp_pyro"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    procs = start_worker_processes(4, run_id, host, port, "instant", stdout=subprocess.DEVNULL)
    try:
        rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port, min_budget=1,
                          max_budget=3**9, eta=3, working_directory=workdir, seed=0)
        rs.wait_for_workers(4)
        t0 = time.perf_counter()
        result = rs.run(n_iterations=jobs // 10, min_n_workers=4, progress=False)
        wall = time.perf_counter() - t0
        rs.shutdown(shutdown_workers=True)
    finally:
        stop_processes(procs)
        ns.shutdown()
    return rates(result, wall)


def sleep_task(budget):
    start = time.time()
    time.sleep(0.02 * budget)
    return start, time.time()


def measure_utilisation(n_workers, iterations, workdir):
    """HyperBand on Dask, then the same budgets through a plain submit-on-completion loop with ``n_workers``
    tasks in flight (no stage barriers: what Dask itself allows on this machine)."""
    with cluster(n_workers) as c, Client(c) as client:
        client.wait_for_workers(n_workers)
        client.gather(client.map(sleep_task, [0] * 2 * n_workers, pure=False))  # warm up
        hb = HyperBand(configspace=space(), run_id="util_dask", min_budget=1, max_budget=27, eta=3, seed=0,
                       working_directory=workdir, backend=DaskBackend(client, sleeping))
        result = hb.run(n_iterations=iterations, min_n_workers=n_workers, progress=False)
        hb.shutdown()
        budgets = [r.budget for r in sorted(result.get_all_runs(), key=lambda r: r.time_stamps["submitted"])]
        t0 = time.time()
        pending = as_completed([client.submit(sleep_task, b, pure=False) for b in budgets[:n_workers]])
        busy, rest = 0.0, iter(budgets[n_workers:])
        for future in pending:
            start, end = future.result()
            busy += end - start
            budget = next(rest, None)
            if budget is not None:
                pending.add(client.submit(sleep_task, budget, pure=False))
        loop = busy / ((time.time() - t0) * n_workers)
    return (*utilisation(result, n_workers), loop)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20, help="HyperBand iterations of the utilisation run")
    parser.add_argument("--skip-pyro", action="store_true")
    parser.add_argument("--skip-utilisation", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        with cluster(4) as c, Client(c) as client:
            client.wait_for_workers(4)
            client.gather(client.map(instant_task, range(200), pure=False))  # warm up: imports on the workers
            bound = 4 * BOUND_PER_THREAD
            for i in range(args.repeat):
                measured = {
                    "client.map": measure_map(client, args.jobs),
                    f"loop, {bound} in flight": measure_loop(client, args.jobs, bound),
                }
                rate, dispatch = measure_bandster_dask(client, args.jobs, os.path.join(workdir, f"dask{i}"))
                measured["bandster dask: run()"] = rate
                measured["bandster dask: to last result"] = dispatch
                for name, value in measured.items():
                    rows.setdefault(name, []).append(value)
                print(f"repeat {i + 1}: " + ", ".join(f"{k} {v:.0f}/s" for k, v in measured.items())
                      + f"; load {os.getloadavg()[0]:.1f}", flush=True)
        if not args.skip_pyro:
            for i in range(args.repeat):
                rate, dispatch = measure_bandster_pyro(args.jobs, os.path.join(workdir, f"pyro{i}"))
                rows.setdefault("bandster pyro (4 processes): run()", []).append(rate)
                rows.setdefault("bandster pyro (4 processes): to last result", []).append(dispatch)
        print(f"\n{'4 Dask worker processes, instant compute':<48}{'median jobs/s':>14}  all")
        for name, values in rows.items():
            print(f"{name:<48}{statistics.median(values):>14.0f}  {' '.join(f'{v:.0f}' for v in values)}")
        loop = statistics.median(rows[f"loop, {4 * BOUND_PER_THREAD} in flight"])
        ours = statistics.median(rows["bandster dask: run()"])
        print(f"bandster dask run() / plain loop: {100 * ours / loop:.0f}% (target >= 80%)")
        if not args.skip_utilisation:
            runs, wall, util, loop = measure_utilisation(8, args.iterations, os.path.join(workdir, "util"))
            print(f"\nsync HyperBand on 8 Dask workers: {runs} runs, {wall:.1f} s, utilisation {100 * util:.1f}% "
                  f"(target >= 90%); the same tasks in a plain loop, 8 in flight, no barriers: {100 * loop:.1f}%; "
                  f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
