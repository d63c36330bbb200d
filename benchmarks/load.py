"""Load: many worker processes and many recorded runs; jobs per second, master memory, nothing lost.

Two measurements, each in a fresh interpreter (so that one's peak memory does not hide the other's):

1. ``processes``: a name server and a RandomSearch master (min_budget 1, max_budget 3**9, eta 3: 10
   configurations per iteration, journal on) in this process, ``--workers`` (32) worker processes whose
   compute returns at once, ``--jobs`` (20,000) jobs. Reported: jobs per second (jobs / wall time of
   ``run()``, from the first dispatch to the Result; worker start-up excluded), the master process's peak
   RSS (``VmHWM``: the name server, dispatcher, journal writer and master together), and the numbers of
   lost and duplicated results, counted on ``results.json`` (every expected (config_id, budget) once) and
   on the Result.
2. ``record``: master peak RSS once ``--runs`` (100,000) runs are recorded. The results come through the
   master's real result path, as fast as it can take them: the same RandomSearch master (10,000
   iterations) with ``--threads`` (1) thread workers in the master's process whose compute returns at once.
   So every run crosses the dispatcher (Pyro over loopback), ``job_callback``, the journal writer, the
   iteration's bookkeeping, and at the end of ``run()`` the journal is read back into the Result and
   pickled to ``results.pkl``. Reported: the peak RSS of the whole process (thread workers included, which
   hold next to nothing), the peak before ``run()`` starts reading the journal back, and the RSS at the
   start; with ``--tracemalloc``, the largest Python allocation sites at the peak of traced memory.

Usage::

    python benchmarks/load.py [--workers 32] [--jobs 20000] [--runs 100000] [--threads 1] [--tracemalloc]
    python benchmarks/load.py --only processes|record ...

Target: master peak RSS <= 300 MB at 100,000 recorded runs; 0 lost and 0 duplicated.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PER_ITERATION = 10  # RandomSearch with (1, 3**9, 3)
MAX_BUDGET = 3**9


def memory_kib(field: str) -> int:
    """A field of /proc/self/status in KiB: VmRSS (now) or VmHWM (peak)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def count_lost_duplicated(directory: str, result, n_jobs: int) -> dict:
    """Lost and duplicated results against the expected (config_id, budget) pairs, in results.json and in
    the Result."""
    expected = {((i, 0, k), float(MAX_BUDGET)) for i in range(n_jobs // PER_ITERATION) for k in range(PER_ITERATION)}
    keys = collections.Counter()
    with open(os.path.join(directory, "results.json"), "rb") as fh:
        for line in fh:
            entry = json.loads(line)
            keys[(tuple(entry[0]), float(entry[1]))] += 1
    runs = [(r.config_id, r.budget) for r in result.get_all_runs()]
    return {
        "journal_lines": sum(keys.values()),
        "lost": len(expected - set(keys)),
        "duplicated": sum(n - 1 for n in keys.values()),
        "unexpected": len(set(keys) - expected),
        "result_runs": len(runs),
        "result_lost": len(expected - set(runs)),
        "result_duplicated": len(runs) - len(set(runs)),
    }


def optimizer(run_id, host, port, workdir):
    from bandster.optimizers import RandomSearch

    from _common import space

    return RandomSearch(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port, min_budget=1,
                        max_budget=MAX_BUDGET, eta=3, working_directory=workdir, seed=0)


def part_processes(args) -> dict:
    from bandster.core.nameserver import NameServer

    from _common import start_worker_processes, stop_processes

    run_id = "load_processes"
    with tempfile.TemporaryDirectory() as workdir:
        ns = NameServer(run_id=run_id)
        host, port = ns.start()
        procs = start_worker_processes(args.workers, run_id, host, port, "instant", stdout=subprocess.DEVNULL)
        rs = optimizer(run_id, host, port, workdir)
        try:
            rs.wait_for_workers(args.workers)
            rss_start = memory_kib("VmRSS")
            t0 = time.perf_counter()
            result = rs.run(n_iterations=args.jobs // PER_ITERATION, min_n_workers=args.workers)
            wall = time.perf_counter() - t0
        finally:
            rs.shutdown(shutdown_workers=True)
            stop_processes(procs)
            ns.shutdown()
        peak = memory_kib("VmHWM")
        counts = count_lost_duplicated(rs.journal.directory, result, args.jobs)
    return {"workers": args.workers, "jobs": args.jobs, "wall_s": wall, "jobs_per_s": args.jobs / wall,
            "rss_start_mib": rss_start / 1024, "peak_rss_mib": peak / 1024, **counts}


def top_allocations(snapshot, n: int = 12) -> list[str]:
    """The ``n`` largest allocation sites of a tracemalloc snapshot, one line each."""
    lines = []
    for stat in snapshot.statistics("lineno")[:n]:
        frame = stat.traceback[0]
        path = os.path.relpath(frame.filename) if "site-packages" not in frame.filename else frame.filename
        lines.append(f"{stat.size / 2**20:8.1f} MiB {stat.count:>9} blocks  {path}:{frame.lineno}")
    return lines


def part_record(args) -> dict:
    from bandster.core.nameserver import NameServer

    from _common import InstantWorker

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(1)
    run_id = "load_record"
    marks: dict[str, float] = {}
    tops: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        ns = NameServer(run_id=run_id)
        host, port = ns.start()
        workers = [InstantWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=i)
                   for i in range(args.threads)]
        for w in workers:
            w.run(background=True)
        rs = optimizer(run_id, host, port, workdir)
        write_result = rs._write_result

        def marked_write_result():  # the master reads the journal back here, at the end of run()
            marks["peak_before_readback_mib"] = memory_kib("VmHWM") / 1024
            marks["rss_before_readback_mib"] = memory_kib("VmRSS") / 1024
            if args.tracemalloc:
                marks["traced_before_readback_mib"] = tracemalloc.get_traced_memory()[0] / 2**20
                tops["before_readback"] = top_allocations(tracemalloc.take_snapshot())
                tracemalloc.reset_peak()
            return write_result()

        rs._write_result = marked_write_result
        try:
            rs.wait_for_workers(args.threads)
            rss_start = memory_kib("VmRSS")
            t0 = time.perf_counter()
            result = rs.run(n_iterations=args.runs // PER_ITERATION, min_n_workers=args.threads)
            wall = time.perf_counter() - t0
            peak = memory_kib("VmHWM")
            if args.tracemalloc:
                current, traced_peak = tracemalloc.get_traced_memory()
                marks["traced_after_mib"] = current / 2**20
                marks["traced_peak_during_readback_mib"] = traced_peak / 2**20
                tops["after_run"] = top_allocations(tracemalloc.take_snapshot())
            counts = count_lost_duplicated(rs.journal.directory, result, args.runs)
            journal_bytes = sum(os.path.getsize(os.path.join(rs.journal.directory, name))
                                for name in ("configs.json", "results.json", "events.json"))
        finally:
            rs.shutdown(shutdown_workers=True)
            for w in workers:
                w.shutdown()
            ns.shutdown()
    return {"threads": args.threads, "runs": args.runs, "wall_s": wall, "jobs_per_s": args.runs / wall,
            "rss_start_mib": rss_start / 1024, "peak_rss_mib": peak / 1024, **marks,
            "journal_mib": journal_bytes / 2**20, **counts, "top_allocations": tops}


def run_part(name: str, argv: list[str]) -> dict:
    """One part in a fresh interpreter; its last stdout line is the JSON of its figures."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--only", name, *argv], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=32, help="worker processes in the first part")
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs in the first part")
    parser.add_argument("--runs", type=int, default=100_000, help="recorded runs in the second part")
    parser.add_argument("--threads", type=int, default=1, help="thread workers in the second part")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations in the second part")
    parser.add_argument("--only", choices=["processes", "record"], help="run one part in this process")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, HERE)
    if args.only:
        figures = part_processes(args) if args.only == "processes" else part_record(args)
        print(json.dumps(figures), flush=True)
        return
    argv = [f"--workers={args.workers}", f"--jobs={args.jobs}", f"--runs={args.runs}", f"--threads={args.threads}"]
    argv += ["--tracemalloc"] if args.tracemalloc else []
    p = run_part("processes", argv)
    print(f"{p['workers']} worker processes, {p['jobs']} instant jobs: {p['jobs_per_s']:.0f} jobs/s "
          f"({p['wall_s']:.1f} s), master peak RSS {p['peak_rss_mib']:.0f} MiB (at start {p['rss_start_mib']:.0f}), "
          f"lost {p['lost']}, duplicated {p['duplicated']} (journal lines {p['journal_lines']}; Result: "
          f"{p['result_runs']} runs, lost {p['result_lost']}, duplicated {p['result_duplicated']})", flush=True)
    r = run_part("record", argv)
    print(f"{r['runs']} runs recorded through the master ({r['threads']} thread worker(s), {r['jobs_per_s']:.0f} "
          f"jobs/s, {r['wall_s']:.1f} s): master peak RSS {r['peak_rss_mib']:.0f} MiB (at start "
          f"{r['rss_start_mib']:.0f}, peak before reading the journal back {r['peak_before_readback_mib']:.0f}), "
          f"journal {r['journal_mib']:.0f} MiB, lost {r['lost']}, duplicated {r['duplicated']} "
          f"(Result: {r['result_runs']} runs)", flush=True)
    for key in ("traced_before_readback_mib", "traced_peak_during_readback_mib", "traced_after_mib"):
        if key in r:
            print(f"  tracemalloc {key}: {r[key]:.0f} MiB")
    for when, lines in r["top_allocations"].items():
        print(f"  largest Python allocation sites, {when.replace('_', ' ')}:")
        for line in lines:
            print("    " + line)
    failed = [name for name, part in (("processes", p), ("record", r)) if part["lost"] or part["duplicated"]
              or part["result_lost"] or part["result_duplicated"] or part["unexpected"]]
    if failed:
        raise SystemExit(f"lost or duplicated results in: {', '.join(failed)}")


if __name__ == "__main__":
    main()
