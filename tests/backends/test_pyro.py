"""End-to-end runs over a real name server, real thread workers and real worker processes."""

import collections
import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import time

import ConfigSpace as CS
import pytest

from bandster.core.result import logged_results_to_HBS_result
from bandster.optimizers import HyperBand, RandomSearch

from testutil import HELPERS, wait_until
from toy_workers import BadWorker, QuadraticWorker


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def counts(result):
    return dict(collections.Counter((r.config_id[0], r.budget) for r in result.get_all_runs()))


# (1, 9, 3): iteration 0 runs 9 @ 1, 3 @ 3, 1 @ 9; iteration 1 runs 3 @ 3, 1 @ 9; iteration 2 runs 3 @ 9
HB_1_9_3 = {(0, 1.0): 9, (0, 3.0): 3, (0, 9.0): 1, (1, 3.0): 3, (1, 9.0): 1, (2, 9.0): 3, (3, 1.0): 9,
            (3, 3.0): 3, (3, 9.0): 1}


def start_thread_workers(cls, n, run_id, ns, **kwargs):
    workers = [cls(run_id=run_id, nameserver=ns.host, nameserver_port=ns.port, id=i, **kwargs) for i in range(n)]
    for w in workers:
        w.run(background=True)
    return workers


@pytest.mark.timeout(120)
def test_hyperband_three_thread_workers(nameserver, run_id, tmp_path, no_thread_leak):
    workers = start_thread_workers(QuadraticWorker, 3, run_id, nameserver, sleep=0.02)
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=1)
    result = hb.run(n_iterations=4, min_n_workers=3)
    hb.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    assert counts(result) == HB_1_9_3
    runs = result.get_all_runs()
    assert all(r.loss is not None and math.isfinite(r.loss) for r in runs)
    # every worker took part, every run names its worker, kwargs reached compute
    assert {r.info["worker"] for r in runs} == {w.worker_id for w in workers}
    assert all(r.info["kwargs"] == ["config_directory", "config_id", "previous_budget", "working_directory"]
               for r in runs)
    assert all(r.info["arr"] == [0, 1] for r in runs)
    # promotion: the config on budget 9 of iteration 0 was the best of the three on budget 3
    it0_b3 = [r for r in runs if r.config_id[0] == 0 and r.budget == 3.0]
    it0_b9 = [r for r in runs if r.config_id[0] == 0 and r.budget == 9.0]
    assert it0_b9[0].config_id == min(it0_b3, key=lambda r: r.loss).config_id
    # the journal rebuilds the same Result
    rebuilt = logged_results_to_HBS_result(hb.journal.directory)
    assert rebuilt == result
    assert rebuilt.get_incumbent_id() == result.get_incumbent_id()
    assert rebuilt.HB_config == result.HB_config
    with open(os.path.join(hb.journal.directory, "results.pkl"), "rb") as fh:
        assert pickle.load(fh) == result


@pytest.mark.timeout(180)
def test_hyperband_two_worker_processes(nameserver, run_id, tmp_path, spawn):
    procs = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port),
                   "quadratic", str(i)) for i in range(2)]
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=2)
    result = hb.run(n_iterations=4, min_n_workers=2)
    hb.shutdown(shutdown_workers=True)
    for proc in procs:
        assert proc.wait(timeout=30) == 0, proc.stdout.read()
    assert counts(result) == HB_1_9_3
    pids = {r.info["pid"] for r in result.get_all_runs()}
    assert pids == {p.pid for p in procs}


@pytest.mark.timeout(120)
def test_random_search_counts(nameserver, run_id, tmp_path, no_thread_leak):
    workers = start_thread_workers(QuadraticWorker, 2, run_id, nameserver)
    rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=nameserver.host,
                      nameserver_port=nameserver.port, min_budget=9, max_budget=243, eta=3,
                      working_directory=str(tmp_path), seed=3)
    result = rs.run(n_iterations=3, min_n_workers=2)
    rs.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    # (9, 243, 3): one bracket spends 4 x 243, so 4 configurations per iteration, all on 243
    assert counts(result) == {(0, 243.0): 4, (1, 243.0): 4, (2, 243.0): 4}
    assert result.HB_config["budgets"] == [243.0]
    assert len(result.get_id2config_mapping()) == 12


@pytest.mark.timeout(120)
def test_bad_results_are_recorded_and_the_run_goes_on(nameserver, run_id, tmp_path, no_thread_leak):
    cs = CS.ConfigurationSpace(seed=4)
    modes = ["ok", "raise", "none", "noloss", "strloss", "nan", "inf", "object"]
    cs.add(CS.CategoricalHyperparameter("mode", modes))
    workers = start_thread_workers(BadWorker, 2, run_id, nameserver)
    hb = HyperBand(configspace=cs, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=5)
    result = hb.run(n_iterations=3, min_n_workers=2)
    hb.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    runs = result.get_all_runs()
    id2conf = result.get_id2config_mapping()
    by_mode = collections.defaultdict(list)
    for r in runs:
        by_mode[id2conf[r.config_id]["config"]["mode"]].append(r)
    assert len(runs) >= 9 + 3 + 1
    for mode in ("raise", "none", "noloss", "strloss"):
        for r in by_mode.get(mode, []):
            assert r.loss is None and r.error_logs, (mode, r)
    for r in by_mode.get("raise", []):
        assert "ValueError: boom" in r.error_logs
    for r in by_mode.get("strloss", []):
        assert "non-numeric loss" in r.error_logs
    for r in by_mode.get("nan", []):
        assert math.isnan(r.loss)
    for r in by_mode.get("object", []):
        assert r.loss == 1.0 and r.info["obj"].startswith("<object object")
    # failed runs are never promoted: every config on a larger budget had a finite loss before
    for r in runs:
        if r.budget > 1.0 and r.config_id[1] == 0:
            earlier = [q for q in result.get_runs_by_id(r.config_id) if q.budget < r.budget]
            assert all(q.loss is not None and math.isfinite(q.loss) for q in earlier)


@pytest.mark.timeout(120)
def test_worker_started_after_master_is_found(nameserver, run_id, tmp_path, no_thread_leak):
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=3, max_budget=9, eta=3, working_directory=str(tmp_path), seed=6)
    joined = {}

    def late_worker():
        time.sleep(0.3)
        joined["t0"] = time.time()
        joined["workers"] = start_thread_workers(QuadraticWorker, 1, run_id, nameserver)

    thread = threading.Thread(target=late_worker)
    thread.start()
    result = hb.run(n_iterations=1, min_n_workers=1)
    thread.join()
    hb.shutdown(shutdown_workers=True)
    for w in joined["workers"]:
        w.shutdown()
    assert counts(result) == {(0, 3.0): 3, (0, 9.0): 1}


@pytest.mark.timeout(60)
def test_script_exits_after_shutdown(tmp_path):
    """A whole run in a fresh interpreter: it must exit by itself once shutdown() returns."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(f"""
        import sys, threading
        sys.path.insert(0, {HELPERS!r})
        import ConfigSpace as CS
        from bandster.core.nameserver import NameServer
        from bandster.optimizers import HyperBand
        from toy_workers import QuadraticWorker
        ns = NameServer(run_id="exit"); host, port = ns.start()
        w = QuadraticWorker(run_id="exit", nameserver=host, nameserver_port=port); w.run(background=True)
        hb = HyperBand(configspace=CS.ConfigurationSpace({{"x": (0.0, 1.0)}}), run_id="exit", nameserver=host,
                       nameserver_port=port, min_budget=1, max_budget=3, working_directory={str(tmp_path)!r})
        res = hb.run(n_iterations=2)
        hb.shutdown(shutdown_workers=True)
        ns.shutdown()
        w.shutdown()
        print("runs", len(res.get_all_runs()))
        print("threads", sorted(t.name for t in threading.enumerate()))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=50)
    assert out.returncode == 0, out.stderr
    assert "runs 6" in out.stdout
    assert "threads ['MainThread']" in out.stdout



@pytest.mark.timeout(120)
def test_sigkilled_worker_process_job_runs_again_elsewhere(nameserver, run_id, tmp_path, spawn):
    env = {"TOY_SLEEP": "1.0"}
    procs = {}
    for i in range(2):
        p = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port),
                  "sleepy", str(i), env=env)
        procs[f".{p.pid}.{i}"] = p
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=3, eta=3, working_directory=str(tmp_path), seed=7, ping_interval=0.3)
    out = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", hb.run(n_iterations=1, min_n_workers=2)))
    runner.start()
    # as soon as a job is running, kill its worker for real
    wait_until(lambda: any(j.worker_name for j in list(hb.dispatcher._running.values())))
    victim_job = next(j for j in list(hb.dispatcher._running.values()) if j.worker_name)
    victim = next(p for suffix, p in procs.items() if victim_job.worker_name.endswith(suffix))
    victim.kill()
    runner.join(timeout=90)
    assert not runner.is_alive()
    hb.shutdown(shutdown_workers=True)
    result = out["result"]
    assert counts(result) == {(0, 1.0): 3, (0, 3.0): 1}
    runs = result.get_all_runs()
    assert all(r.loss is not None for r in runs)
    again = [r for r in runs if r.config_id == victim_job.id and r.budget == victim_job.kwargs["budget"]]
    assert len(again) == 1 and again[0].attempt == 2
    assert again[0].info["pid"] != victim.pid
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        events = [json.loads(line) for line in fh]
    kinds = [e["event"] for e in events]
    assert "worker_lost" in kinds and "requeued" in kinds
    assert kinds.index("worker_lost") < kinds.index("requeued")


@pytest.mark.timeout(120)
def test_worker_processes_started_before_master_are_found(nameserver, run_id, tmp_path, spawn):
    procs = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port),
                   "quadratic", str(i)) for i in range(2)]
    for p in procs:
        assert p.stdout.readline().startswith("worker ready")
    time.sleep(0.5)  # let them register and wait for a dispatcher
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=3, max_budget=9, eta=3, working_directory=str(tmp_path), seed=8)
    t0 = time.monotonic()
    hb.wait_for_workers(2)
    assert time.monotonic() - t0 < 30
    result = hb.run(n_iterations=1, min_n_workers=2)
    hb.shutdown(shutdown_workers=True)
    for p in procs:
        assert p.wait(timeout=30) == 0
    assert counts(result) == {(0, 3.0): 3, (0, 9.0): 1}
    assert {r.info["pid"] for r in result.get_all_runs()} <= {p.pid for p in procs}


@pytest.mark.timeout(120)
def test_configspace_values_cross_to_worker_processes_as_builtins(nameserver, run_id, tmp_path, spawn):
    """ConfigSpace 1.x hands out np.str_/np.int64 values; they must reach a worker process as builtins."""
    cs = CS.ConfigurationSpace(seed=9)
    cs.add([CS.UniformFloatHyperparameter("x", 0, 1), CS.UniformIntegerHyperparameter("n", 1, 100, log=True),
            CS.CategoricalHyperparameter("c", ["a", "b"]), CS.OrdinalHyperparameter("o", [1, 2, 4]),
            CS.Constant("k", "const")])
    proc = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "types")
    opt = RandomSearch(configspace=cs, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                       min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=10)
    result = opt.run(n_iterations=2)
    opt.shutdown(shutdown_workers=True)
    assert proc.wait(timeout=30) == 0
    runs = result.get_all_runs()
    assert len(runs) == 6 and all(r.loss is not None for r in runs)
    for r in runs:
        assert r.info["types"] == {"x": "float", "n": "int", "c": "str", "o": "int", "k": "str"}
        assert r.info["budget_type"] == "float"
        assert r.info["np"] == {"i": 3, "f": 0.5, "s": "s", "b": True}


@pytest.mark.timeout(60)
def test_idle_worker_times_out_after_its_last_job(nameserver, run_id, tmp_path):
    idle = QuadraticWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, timeout=0.5)
    idle.run(background=True)
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=9, max_budget=9, working_directory=str(tmp_path))
    result = hb.run(n_iterations=1)
    assert len(result.get_all_runs()) == 1
    wait_until(lambda: not idle.is_running, timeout=30)  # HpBandSter's Worker(timeout=): idle shutdown
    wait_until(lambda: hb.dispatcher.number_of_workers() == 0, timeout=30)  # it said goodbye
    hb.shutdown()
    idle.shutdown()
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        assert any('"worker_left"' in line for line in fh)


@pytest.mark.timeout(60)
def test_worker_that_never_gets_a_job_times_out_too(nameserver, run_id, tmp_path):
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=9, max_budget=9, working_directory=str(tmp_path))
    idle = QuadraticWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, timeout=0.5)
    idle.run(background=True)
    wait_until(lambda: hb.dispatcher.number_of_workers() == 1, timeout=30)  # it joined, and gets no job
    wait_until(lambda: not idle.is_running, timeout=30)
    wait_until(lambda: hb.dispatcher.number_of_workers() == 0, timeout=30)
    hb.shutdown()
    idle.shutdown()


@pytest.mark.timeout(60)
def test_workers_that_joined_before_run_are_in_the_journal(nameserver, run_id, tmp_path):
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=9, max_budget=9, working_directory=str(tmp_path))
    workers = start_thread_workers(QuadraticWorker, 2, run_id, nameserver)
    hb.wait_for_workers(2)  # both joined before run() opens the journal
    hb.run(n_iterations=1, min_n_workers=2)
    hb.shutdown(shutdown_workers=True)
    for w in workers:
        w.shutdown()
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        events = [json.loads(line) for line in fh]
    joined = [e for e in events if e["event"] == "worker_joined"]
    assert sorted(e["worker"] for e in joined) == sorted(w.worker_id for w in workers)  # each once
    started = next(e for e in events if e["event"] == "run_started")
    assert all(e["time"] <= started["time"] for e in joined)  # with the time they joined


# ---------------------------------------------------------------------------------------------------- reports
def stopped_events(opt):
    with open(os.path.join(opt.journal.directory, "events.json")) as fh:
        return {(tuple(e["config_id"]), e["step"]) for e in map(json.loads, fh) if e["event"] == "job_stopped"}


def told(result):
    return {(r.config_id, float(r.info["told"])) for r in result.get_all_runs()
            if r.info and r.info["told"] is not None}


@pytest.mark.timeout(120)
def test_stopping_asha_stops_a_thread_worker_and_a_worker_process_on_the_rung_report(nameserver, run_id, tmp_path,
                                                                                      spawn, no_thread_leak):
    from bandster.optimizers import ASHA

    from toy_workers import CurveWorker

    thread_worker = CurveWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id="t")
    thread_worker.run(background=True)
    proc = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "curve", "p")
    # job_timeout: the worker process runs each job in a forked child, which reports over a connection of its own
    opt = ASHA(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
               min_budget=1, max_budget=9, eta=3, type="stopping", working_directory=str(tmp_path), seed=3,
               job_timeout=60)
    result = opt.run(n_iterations=3, min_n_workers=2, progress=False)
    opt.shutdown(shutdown_workers=True)
    assert proc.wait(timeout=30) == 0, proc.stdout.read()
    stops = stopped_events(opt)
    assert stops and told(result) == stops
    assert {(r.config_id, r.stopped_at) for r in result.get_all_runs() if r.status == "stopped"} == stops
    assert all(r.info["should_stop"] is (r.info["told"] is not None) for r in result.get_all_runs())


@pytest.mark.timeout(120)
def test_a_sigkilled_reporting_worker_process_job_runs_again(nameserver, run_id, tmp_path, spawn):
    from bandster.optimizers import MedianStopping

    procs = {}
    for i in range(2):
        p = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "curve",
                  str(i), env={"TOY_STEP_SLEEP": "0.1"})
        procs[f".{p.pid}.{i}"] = p
    opt = MedianStopping(configspace=space(), run_id=run_id, nameserver=nameserver.host,
                         nameserver_port=nameserver.port, max_budget=6, working_directory=str(tmp_path), seed=7,
                         ping_interval=0.3)
    out = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", opt.run(n_iterations=1, min_n_workers=2,
                                                                                max_configs=4, progress=False)))
    runner.start()
    # as soon as a running job has reported, kill its worker for real
    wait_until(lambda: any(j.last_step is not None for j in list(opt.dispatcher._running.values())))
    victim_job = next(j for j in list(opt.dispatcher._running.values()) if j.last_step is not None)
    victim = next(p for suffix, p in procs.items() if victim_job.worker_name.endswith(suffix))
    victim.kill()
    runner.join(timeout=90)
    assert not runner.is_alive()
    opt.shutdown(shutdown_workers=True)
    runs = out["result"].get_all_runs()
    assert len(runs) == 4 and all(r.loss is not None for r in runs)
    again = [r for r in runs if r.config_id == victim_job.id]
    assert len(again) == 1 and again[0].attempt == 2 and again[0].info["pid"] != victim.pid


@pytest.mark.timeout(120)
def test_a_reporting_job_past_its_job_timeout_on_a_worker_process_fails_and_the_others_go_on(nameserver, run_id,
                                                                                               tmp_path, spawn):
    from bandster.optimizers import ASHA

    proc = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "curve", "p",
                 env={"TOY_HANG_ID": "0_0_1"})
    opt = ASHA(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
               min_budget=1, max_budget=9, eta=3, type="stopping", working_directory=str(tmp_path), seed=3,
               job_timeout=1.5)
    result = opt.run(n_iterations=1, max_configs=4, min_n_workers=1, progress=False)
    opt.shutdown(shutdown_workers=True)
    assert proc.wait(timeout=30) == 0, proc.stdout.read()
    runs = {r.config_id: r for r in result.get_all_runs()}
    assert sorted(runs) == [(0, 0, i) for i in range(4)]
    assert runs[(0, 0, 1)].loss is None and "job_timeout of 1.5 s" in runs[(0, 0, 1)].error_logs
    others = [r for key, r in runs.items() if key != (0, 0, 1)]
    assert all(r.error_logs is None for r in others)
    assert {(r.config_id, float(r.info["told"])) for r in others if r.info["told"] is not None} == {
        stop for stop in stopped_events(opt) if stop[0] != (0, 0, 1)}
