"""The cost of intermediate reports (issue 14): a report's cost to a thread worker, and the reports per second the
master takes from 4 worker processes.

Every job reports each step up to its budget with the same loss, under ``ASHA(type="stopping")`` (rung levels
1, 3, 9, ... of ``max_budget = 3**k``; equal losses are never stopped), so the runner asks the scheduler at every
report and the worker waits for the answer at each rung level.

* ``thread``: one job of ``--steps`` reports from a worker in the master's process, on the ``ThreadBackend`` and
  as a Pyro thread worker (``Worker.run(background=True)``); the figure is the worker's time in ``report()``
  divided by the reports (µs per report), beside a report outside any job (checked and dropped: the floor).
* ``processes``: 4 Pyro worker processes (and a ``ProcessBackend`` of 4), one job of ``--steps`` reports each, all
  at once; reports/s = all reports / (last job's end - first job's start), on the master's clock; master CPU per
  report = the master process's CPU time during ``run()`` / reports (its inverse is what the master could take).

    nice -n 19 python benchmarks/reports.py [--steps 19683] [--repeat 3] [--modes thread processes]
"""

import argparse
import logging
import statistics
import subprocess
import tempfile
import time

from bandster.backends import ProcessBackend, ThreadBackend
from bandster.core.nameserver import NameServer
from bandster.core.reporting import current_reporter
from bandster.optimizers import ASHA

from _common import ReportWorker, space, start_worker_processes, stop_processes


def objective(config, budget, report):
    n = int(budget)
    start = time.perf_counter()
    for step in range(1, n + 1):
        report(step, 0.5)
    return {"loss": 0.5, "info": {"report_seconds": time.perf_counter() - start, "reports": n}}


def floor(steps):
    """µs per report outside any job (checked and dropped)."""
    report = current_reporter().report
    start = time.perf_counter()
    for step in range(1, steps + 1):
        report(step, 0.5)
    return 1e6 * (time.perf_counter() - start) / steps


def optimizer(run_id, steps, workdir, **kwargs):
    return ASHA(configspace=space(), run_id=run_id, min_budget=1, max_budget=steps, eta=3, type="stopping",
                working_directory=workdir, seed=0, **kwargs)


def run(opt, n_workers, n_jobs):
    cpu0 = time.process_time()
    result = opt.run(n_iterations=1, max_configs=n_jobs, min_n_workers=n_workers, progress=False)
    cpu = time.process_time() - cpu0
    runs = result.get_all_runs()
    assert len(runs) == n_jobs and all(r.loss == 0.5 for r in runs), runs
    return runs, cpu


def thread_cost(backend, steps, workdir):
    run_id = f"rep_thread_{backend}"
    if backend == "threads":
        opt = optimizer(run_id, steps, workdir, backend=ThreadBackend(1, objective))
        runs, _ = run(opt, 1, 1)
        opt.shutdown()
    else:
        ns = NameServer(run_id=run_id)
        host, port = ns.start()
        worker = ReportWorker(run_id=run_id, nameserver=host, nameserver_port=port)
        worker.run(background=True)
        opt = optimizer(run_id, steps, workdir, nameserver=host, nameserver_port=port)
        runs, _ = run(opt, 1, 1)
        opt.shutdown(shutdown_workers=True)
        worker.shutdown()
        ns.shutdown()
    info = runs[0].info
    return 1e6 * info["report_seconds"] / info["reports"]


def processes_rate(backend, steps, workdir, n=4):
    run_id = f"rep_proc_{backend}"
    if backend == "processes":
        opt = optimizer(run_id, steps, workdir, backend=ProcessBackend(n, objective))
        runs, cpu = run(opt, n, n)
        opt.shutdown()
    else:
        ns = NameServer(run_id=run_id)
        host, port = ns.start()
        procs = start_worker_processes(n, run_id, host, port, "report", stdout=subprocess.DEVNULL)
        opt = optimizer(run_id, steps, workdir, nameserver=host, nameserver_port=port)
        opt.wait_for_workers(n)
        runs, cpu = run(opt, n, n)
        opt.shutdown(shutdown_workers=True)
        stop_processes(procs)
        ns.shutdown()
    reports = sum(r.info["reports"] for r in runs)
    span = max(r.time_stamps["finished"] for r in runs) - min(r.time_stamps["started"] for r in runs)
    return reports / span, 1e6 * cpu / reports


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3**9, help="reports per job (also max_budget)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["thread", "processes"], choices=["thread", "processes"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        if "thread" in args.modes:
            print(f"report() outside a job (the floor): {floor(args.steps):.2f} µs per report")
            for backend in ("threads", "pyro"):
                figures = [thread_cost(backend, args.steps, workdir) for _ in range(args.repeat)]
                print(f"thread worker, {backend:7s}: {' '.join(f'{f:.1f}' for f in figures)} µs per report "
                      f"(median {statistics.median(figures):.1f}; target <= 50)")
        if "processes" in args.modes:
            for backend in ("pyro", "processes"):
                figures = [processes_rate(backend, args.steps, workdir) for _ in range(args.repeat)]
                rates = [f[0] for f in figures]
                cpus = [f[1] for f in figures]
                print(f"4 worker processes, {backend:9s}: {' '.join(f'{r:,.0f}' for r in rates)} reports/s "
                      f"(median {statistics.median(rates):,.0f}; target >= 10,000); master CPU "
                      f"{statistics.median(cpus):.1f} µs per report")


if __name__ == "__main__":
    main()
