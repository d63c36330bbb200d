"""Dashboard speed: a 100,000-run journal served by ``bandster dashboard``.

The journal is written through bandster's own :class:`~bandster.records.journal.Journal` (the master's writer: a
manifest, one ``configs.json`` line per configuration, a ``dispatch`` event and a ``results.json`` line per
run, with the user's ``info`` metrics), as a HyperBand run with budgets 1, 3, 9, 27, 81 and two workers would
leave it, only written as fast as the writer takes it (no optimizer, no network: the run itself is not what is
measured here; ``benchmarks/load.py`` measures that).

Then, in this process, the dashboard is started on a free loopback port, as ``bandster dashboard`` starts it
(``freeze_gc=True``: the state of the first read is moved to the garbage collector's permanent generation), and
measured as a browser uses it:

1. ``page``: from a cold server (its first read of the journal just started) to the last byte of ``/``, of the
   page's script (plotly.js) and of the first ``/api/state`` (which says that the journal is being read, with
   the share read so far), each request on a new connection, in the order the page makes them.
2. ``first data``: until the page is usable with its first data: ``/api/state`` has a status (summary,
   progress, workers, running jobs, stages; asked as the page does, every 5 s while the server reads the
   journal, every 2 s after) and ``/api/table`` the first page of the runs table (50 rows, sorted by loss, on
   the server). The server reads a large journal the first time in parts of 1 MiB, and between them answers
   with the state of the part read so far, so this is the state of the first parts (marked as reading).
   ``complete state``: the same once the whole journal was read.
3. ``every panel``: until ``/api/figures`` has the ten figures too (computed once the whole journal was read:
   the time until the whole page is filled).
4. The runs table's other requests: sorted by another column, filtered, the next page, the CSV of a filter.
5. ``update``: ``--append`` (100) results appended to the journal (through a second Journal opened in append
   mode), then what the page asks next: ``/api/state?since=<version>`` and, the version having changed,
   ``/api/table``: the time, and how many bytes of the journal files the update read (it must be those
   appended, not the whole files).

CPU times are of this process (the server's threads and the client's, the client's being small), measured with
``time.process_time``; on a loaded machine the wall times are longer than on an idle one, the CPU times not much.

Usage::

    python benchmarks/dashboard.py [--runs 100000] [--append 100] [--keep DIR]

Targets: the first page, usable with its first data, under 3 s at 100,000 runs; the complete state under 3 s of
CPU; an update reads only the appended lines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bandster.core.job import Job  # noqa: E402
from bandster.records.journal import Journal  # noqa: E402

BUDGETS = [1.0, 3.0, 9.0, 27.0, 81.0]


def write_runs(journal: Journal, first: int, n_runs: int, rng: random.Random) -> None:
    """``n_runs`` runs (config ids from ``first`` on), each a new configuration on a budget of the ladder,
    dispatched (the event's time is now) and finished a few milliseconds later."""
    for k in range(first, first + n_runs):
        cid = (k // 100, 0, k % 100)
        budget = BUDGETS[k % len(BUDGETS)]
        config = {"x": rng.random(), "lr": 10 ** rng.uniform(-4, -1), "units": rng.randint(1, 64),
                  "kind": rng.choice(["a", "b", "c"])}
        journal.new_config(cid, config, {"model_based_pick": k % 3 == 0})
        job = Job(cid, config=config, budget=budget)
        start = time.time()
        job.worker_name = f"bandster.run_bench.worker.host.{k % 2}.{1000 + k % 2}"
        loss = (config["x"] - 0.3) ** 2 + 1.0 / budget
        if k % 50 == 49:
            job.exception = "Traceback (most recent call last):\nRuntimeError: a failure"
        else:
            job.result = {"loss": loss, "info": {"accuracy": 1 - loss, "epochs": int(budget)}}
        journal.event("dispatch", config_id=list(cid), budget=budget, worker=job.worker_name)
        job.timestamps = {"submitted": start, "started": start + 0.001, "finished": start + 0.009}
        journal(job)


def make_journal(directory: str, n_runs: int, seed: int = 0) -> str:
    """A finished 100,000-run-like journal in ``directory``; returns it."""
    rng = random.Random(seed)
    t0 = time.time()
    with Journal(directory, overwrite=True) as journal:
        journal.write_manifest({
            "run_id": "bench", "optimizer": "HyperBand", "created": t0,
            "HB_config": {"eta": 3.0, "min_budget": 1.0, "max_budget": 81.0, "budgets": BUDGETS,
                          "max_SH_iter": 5, "time_ref": t0},
        })
        journal.event("run_started", n_iterations=n_runs // 100)
        write_runs(journal, 0, n_runs, rng)
    return directory


def get(port: int, path: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)  # a loaded machine: CPU time is the figure
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
    finally:
        conn.close()
    return time.perf_counter() - start, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--append", type=int, default=100)
    parser.add_argument("--keep", default=None, help="write the journal here (default: a temporary directory)")
    args = parser.parse_args()

    from bandster.analysis.dashboard import Dashboard

    directory = args.keep or tempfile.mkdtemp(prefix="bandster-dashboard-bench-")
    start = time.perf_counter()
    make_journal(directory, args.runs)
    sizes = {name: os.path.getsize(os.path.join(directory, name))
             for name in ("configs.json", "results.json", "events.json")}
    print(f"journal of {args.runs} runs written in {time.perf_counter() - start:.1f} s "
          f"({sum(sizes.values()) / 2**20:.1f} MiB): {directory}")

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    dashboard = Dashboard(directory, host="127.0.0.1", port=0, freeze_gc=True)  # as ``bandster dashboard`` does
    dashboard.start()
    try:
        port = dashboard.port
        t_page, page = get(port, "/")
        t_js, js = get(port, "/static/plotly.min.js")
        t_state, state = get(port, "/api/state?since=0")
        payload = json.loads(state)
        print(f"page: {time.perf_counter() - wall0:.2f} s wall (page {t_page * 1000:.0f} ms, {len(page) / 1024:.0f} "
              f"KiB; plotly.js {t_js * 1000:.0f} ms, {len(js) / 2**20:.1f} MiB; /api/state {t_state:.2f} s, "
              f"{len(state) / 1024:.1f} KiB{': the journal is being read' if payload.get('loading') else ''})")
        first = None
        while True:  # as the page does: every 2 s, every 5 s while the journal is read (each answer costs it time)
            if "runs" in payload:  # a state: of the part read so far while loading, else of everything
                t_table, table = get(port, "/api/table?sort=loss&page=0&size=50")
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                rows = json.loads(table)
                if first is None:
                    first = (wall, cpu, rows["total"])
                    print(f"first data: {wall:.2f} s wall, {cpu:.2f} s CPU (the state and the table's first page of "
                          f"the {rows['total']} runs read so far{', reading on' if payload.get('loading') else ''})")
                if not payload.get("loading"):
                    break
            time.sleep(5.0 if payload.get("loading") else 2.0)
            t_state, state = get(port, "/api/state?since=0")
            payload = json.loads(state)
        assert rows["total"] == args.runs and len(rows["rows"]) == 50, (rows["total"], len(rows["rows"]))
        print(f"complete state: {wall:.2f} s wall, {cpu:.2f} s CPU (/api/state {len(state) / 1024:.1f} KiB; "
              f"/api/table {t_table * 1000:.0f} ms, 50 of {rows['total']} rows, {len(table) / 1024:.1f} KiB)")
        t_figures, figures = get(port, "/api/figures")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0  # before parsing the answer here
        print(f"every panel: {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"(/api/figures {t_figures:.2f} s, {len(json.loads(figures)['figures'])} figures, "
              f"{len(figures) / 2**20:.1f} MiB)")
        for label, path in (("sorted by finish time, descending", "sort=finished&desc=1"),
                            ("filtered: loss > 0.5 and kind a", "sort=loss&f.loss=%3E0.5&f.kind=a"),
                            ("its next page", "sort=loss&f.loss=%3E0.5&f.kind=a&page=1"),
                            ("filtered: text in config_id", "sort=loss&f.config_id=(12,")):
            cpu1 = time.process_time()
            t_query, body = get(port, "/api/table?" + path)
            print(f"  table {label}: {t_query * 1000:.0f} ms wall, {(time.process_time() - cpu1) * 1000:.0f} ms CPU, "
                  f"{json.loads(body)['matched']} rows match")
        cpu1 = time.process_time()
        t_csv, body = get(port, "/api/table.csv?sort=loss&f.kind=a")
        print(f"  CSV of the rows with kind a: {t_csv:.2f} s wall, {time.process_time() - cpu1:.2f} s CPU, "
              f"{len(body) / 2**20:.1f} MiB")

        version = payload["runs"]["version"]
        read_before = dashboard.bytes_read
        rng = random.Random(1)
        with Journal(directory, append=True) as journal:
            write_runs(journal, args.runs, args.append, rng)
            journal.event("run_finished")
        appended = sum(os.path.getsize(os.path.join(directory, name)) for name in sizes) - sum(sizes.values())
        cpu1 = time.process_time()
        t_update, update = get(port, f"/api/state?since={version}")
        delta = json.loads(update)
        t_rows, body = get(port, "/api/table?sort=loss&page=0&size=50")
        cpu = time.process_time() - cpu1
        read = dashboard.bytes_read - read_before
        assert delta["runs"]["version"] > version and json.loads(body)["total"] == args.runs + args.append
        print(f"update after {args.append} appended runs: {t_update + t_rows:.2f} s wall, {cpu:.2f} s CPU "
              f"(/api/state {t_update:.2f} s, /api/table {t_rows:.2f} s), read {read} bytes of the journal "
              f"(appended: {appended} bytes; whole files: {sum(sizes.values()) + appended} bytes)")
    finally:
        dashboard.stop()


if __name__ == "__main__":
    main()
