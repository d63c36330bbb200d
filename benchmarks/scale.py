"""Scale: many real Pyro workers on one name server; master CPU per job, nothing lost or duplicated.

For each ``--workers`` count N: a name server and a RandomSearch master (min_budget 1, max_budget 3**9,
eta 3: 10 configurations per iteration, journal on) in this process, and N real Pyro workers in worker
processes of ``--threads`` (32) thread workers each (N = 16: one process of 16), each with its own Pyro
daemon and name-server entry, whose compute sleeps ``--seconds`` (0.5 s). The run has
``--jobs_per_worker`` (20) x N jobs. Reported: wall time of ``run()``, jobs per second, utilisation (the
busy time of the runs, finished - started, over wall time x N), master CPU per job (CPU time of this whole
process, all threads, during ``run()``, divided by the jobs), the master's thread count, and the lost and
duplicated results counted on ``results.json`` and on the Result (as in ``benchmarks/load.py``).

    python benchmarks/scale.py [--workers 16 64 256] [--threads 32] [--seconds 0.5] [--jobs_per_worker 20]

Target (issue 12): 256 workers complete with nothing lost or duplicated, and the master CPU per job at 256
workers is at most 1.25 x the 16-worker figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from load import MAX_BUDGET, PER_ITERATION, count_lost_duplicated  # noqa: E402


def measure(n_workers: int, threads: int, seconds: float, jobs_per_worker: int, workdir: str) -> dict:
    from bandster.core.nameserver import NameServer
    from bandster.optimizers import RandomSearch

    from _common import space, start_worker_processes, stop_processes

    per_process = min(threads, n_workers)
    if n_workers % per_process:
        raise SystemExit(f"--workers {n_workers} is not a multiple of --threads {per_process}")
    n_jobs = max(PER_ITERATION, (n_workers * jobs_per_worker) // PER_ITERATION * PER_ITERATION)
    run_id = f"scale_{n_workers}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    procs = start_worker_processes(n_workers // per_process, run_id, host, port, "pause", stdout=subprocess.DEVNULL,
                                   threads=per_process, seconds=seconds)
    rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port, min_budget=1,
                      max_budget=MAX_BUDGET, eta=3, working_directory=workdir, seed=0)
    try:
        rs.wait_for_workers(n_workers)
        peak_threads = threading.active_count()
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = rs.run(n_iterations=n_jobs // PER_ITERATION, min_n_workers=n_workers)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak_threads = max(peak_threads, threading.active_count())
    finally:
        rs.shutdown(shutdown_workers=True)
        stop_processes(procs)
        ns.shutdown()
    runs = result.get_all_runs()
    busy = sum(r.time_stamps["finished"] - r.time_stamps["started"] for r in runs)
    counts = count_lost_duplicated(rs.journal.directory, result, n_jobs)
    return {"workers": n_workers, "processes": n_workers // per_process, "jobs": n_jobs, "wall_s": wall,
            "jobs_per_s": n_jobs / wall, "utilisation": busy / (wall * n_workers),
            "master_cpu_ms_per_job": 1000 * cpu / n_jobs, "master_threads": peak_threads, **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--threads", type=int, default=32, help="thread workers per worker process")
    parser.add_argument("--seconds", type=float, default=0.5, help="seconds each job sleeps")
    parser.add_argument("--jobs_per_worker", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"{'workers':>8}{'procs':>7}{'jobs':>7}{'wall s':>8}{'jobs/s':>8}{'util':>7}{'master CPU ms/job':>19}"
          f"{'threads':>9}{'lost':>6}{'dup':>5}", flush=True)
    bad = []
    with tempfile.TemporaryDirectory() as workdir:
        for n in args.workers:
            f = measure(n, args.threads, args.seconds, args.jobs_per_worker, os.path.join(workdir, str(n)))
            lost = f["lost"] + f["result_lost"] + f["unexpected"]
            duplicated = f["duplicated"] + f["result_duplicated"]
            print(f"{n:>8}{f['processes']:>7}{f['jobs']:>7}{f['wall_s']:>8.1f}{f['jobs_per_s']:>8.0f}"
                  f"{100 * f['utilisation']:>6.1f}%{f['master_cpu_ms_per_job']:>19.3f}{f['master_threads']:>9}"
                  f"{lost:>6}{duplicated:>5}", flush=True)
            if lost or duplicated:
                bad.append(n)
    if bad:
        raise SystemExit(f"lost or duplicated results with {bad} workers")


if __name__ == "__main__":
    main()
