"""Master crashes and resumes, Ctrl-C, job timeouts, no workers: real processes, real signals."""

import collections
import json
import os
import pickle
import signal
import subprocess
import sys
import threading

import ConfigSpace as CS
import pytest

from bandster.core.result import logged_results_to_HBS_result
from bandster.optimizers import HyperBand

from testutil import HELPERS, result_lines, wait_until
from toy_workers import SleepyWorker

# (1, 9, 3), 4 iterations: 13 + 4 + 3 + 13 runs
HB_4 = {(0, 1.0): 9, (0, 3.0): 3, (0, 9.0): 1, (1, 3.0): 3, (1, 9.0): 1, (2, 9.0): 3, (3, 1.0): 9, (3, 3.0): 3,
        (3, 9.0): 1}




def counts(result):
    return dict(collections.Counter((r.config_id[0], r.budget) for r in result.get_all_runs()))


@pytest.mark.timeout(240)
def test_sigkill_master_then_resume(tmp_path, run_id, spawn):
    shared, log = str(tmp_path / "shared"), str(tmp_path / "computed.log")
    os.makedirs(shared)
    env = {"TOY_SLEEP": "0.15", "TOY_LOG": log}
    master = spawn(os.path.join(HELPERS, "master_script.py"), shared, run_id, "4")
    journal = master.stdout.readline().split()[1]
    workers = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, "--dir", shared, "sleepy", str(i), env=env)
               for i in range(2)]
    wait_until(lambda: len(result_lines(journal)) >= 10)  # mid-run
    master.send_signal(signal.SIGKILL)
    master.wait(timeout=30)
    finished_before = {(tuple(line[0]), line[1]) for line in result_lines(journal)}
    assert 10 <= len(finished_before) < 33

    # the journal's lock died with the master: the restarted one takes the journal over
    again = spawn(os.path.join(HELPERS, "master_script.py"), shared, run_id, "4", "resume")
    assert again.stdout.readline().split()[1] == journal
    out = again.stdout.read()
    assert again.wait(timeout=180) == 0, out
    assert "done 33" in out
    for w in workers:  # they outlived the first master, followed the second, and were shut down by it
        assert w.wait(timeout=30) == 0

    result = logged_results_to_HBS_result(journal)
    assert counts(result) == HB_4
    lines = result_lines(journal)
    keys = [(tuple(line[0]), line[1]) for line in lines]
    assert len(keys) == len(set(keys)) == 33  # every run exactly once
    with open(log) as fh:
        computed = collections.Counter(tuple(line.rsplit(" ", 2)[:2]) for line in fh.read().splitlines())
    for key in finished_before:  # nothing finished before the crash was evaluated again
        assert computed[(str(list(key[0])), str(key[1]))] == 1, key
    with open(os.path.join(journal, "run.json")) as fh:
        manifest = json.load(fh)
    assert manifest["resumed"][0]["runs"] == len(finished_before)
    with open(os.path.join(journal, "results.pkl"), "rb") as fh:
        assert pickle.load(fh) == result


@pytest.mark.timeout(120)
def test_second_master_on_a_live_journal_is_refused(tmp_path, nameserver, run_id):
    cs = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    first = HyperBand(configspace=cs, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                      min_budget=1, max_budget=3, working_directory=str(tmp_path))
    first._open_journal()
    second = HyperBand(configspace=cs, run_id=run_id + "b", nameserver=nameserver.host,
                       nameserver_port=nameserver.port, min_budget=1, max_budget=3, working_directory=str(tmp_path),
                       resume=True)
    second.run_id = run_id  # the same run: its latest journal is the first master's
    with pytest.raises(RuntimeError, match="lock"):
        second._open_journal()
    first.shutdown()
    second.shutdown()


@pytest.mark.timeout(120)
def test_sigint_stops_cleanly(tmp_path, run_id, spawn):
    shared = str(tmp_path / "shared")
    os.makedirs(shared)
    master = spawn(os.path.join(HELPERS, "master_script.py"), shared, run_id, "4")
    journal = master.stdout.readline().split()[1]
    workers = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, "--dir", shared, "sleepy", str(i),
                     env={"TOY_SLEEP": "0.5"}) for i in range(2)]
    wait_until(lambda: len(result_lines(journal)) >= 3)
    master.send_signal(signal.SIGINT)
    out = master.stdout.read()
    assert master.wait(timeout=60) == 0, out
    for w in workers:
        assert w.wait(timeout=30) == 0
    done = int(out.split("done")[1].split()[0])
    assert 3 <= done < 33
    with open(os.path.join(journal, "results.pkl"), "rb") as fh:
        pickled = pickle.load(fh)
    assert len(pickled.get_all_runs()) == done == len(result_lines(journal))
    with open(os.path.join(journal, "events.json")) as fh:
        kinds = [json.loads(line)["event"] for line in fh]
    assert "interrupted" in kinds and "abandoned" not in kinds  # the running jobs finished


@pytest.mark.timeout(120)
def test_job_timeout_kills_the_computation_of_a_worker_process(nameserver, run_id, tmp_path, spawn):
    # configs with x > 0.5 hang forever; the worker process survives and goes on with other jobs
    proc = spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "sleepy",
                 env={"TOY_SLEEP": "0.01", "TOY_HANG": "0.5"})
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=2), run_id=run_id,
                   nameserver=nameserver.host, nameserver_port=nameserver.port, min_budget=1, max_budget=3,
                   working_directory=str(tmp_path), seed=12, job_timeout=lambda budget: 0.5 + 0.1 * budget)
    result = hb.run(n_iterations=2)
    hb.shutdown(shutdown_workers=True)
    assert proc.wait(timeout=30) == 0
    runs = result.get_all_runs()
    id2conf = result.get_id2config_mapping()
    hung = [r for r in runs if id2conf[r.config_id]["config"]["x"] > 0.5]
    ok = [r for r in runs if id2conf[r.config_id]["config"]["x"] <= 0.5]
    assert hung and ok
    for r in hung:
        assert r.loss is None and "job_timeout" in r.error_logs and "killed" in r.error_logs
        assert r.time_stamps["finished"] - r.time_stamps["started"] < 30
    assert all(r.loss is not None for r in ok)
    # with a job_timeout, each job ran in a child process of the worker process
    assert all(r.info["pid"] != proc.pid for r in ok) and len({r.info["pid"] for r in ok}) == len(ok)
    # the killed computations left no child process behind
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children == []


RELEASE = threading.Event()


class HangingThreadWorker(SleepyWorker):
    """Worker "hang" hangs in its first job (until the test releases it); the others return at once."""

    def compute(self, config, budget, **kwargs):
        if self.id == "hang":
            RELEASE.wait(120)
        return {"loss": config["x"], "info": {"worker": self.worker_id}}


@pytest.mark.timeout(120)
def test_hung_thread_worker_is_retired_and_reported(nameserver, run_id, tmp_path):
    def start(wid):
        w = HangingThreadWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id=wid)
        w.run(background=True)
        return w

    hanging = start("hang")
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=3), run_id=run_id,
                   nameserver=nameserver.host, nameserver_port=nameserver.port, min_budget=1, max_budget=3,
                   working_directory=str(tmp_path), seed=4, job_timeout=0.5)
    out = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", hb.run(n_iterations=1, min_n_workers=1)))
    runner.start()
    try:
        wait_until(lambda: hanging.busy)  # it took the first job and hangs in it
        others = [start("a"), start("b")]
        runner.join(timeout=60)
        assert not runner.is_alive()
    finally:
        RELEASE.set()
    hb.shutdown(shutdown_workers=True)
    for w in [hanging, *others]:
        w.shutdown()
    runs = out["result"].get_all_runs()
    assert len(runs) == 3 + 1  # (1, 3, 3): three runs on budget 1, one promotion
    failed = [r for r in runs if r.loss is None]
    assert len(failed) == 1 and failed[0].worker_name == hanging.worker_id
    assert "job_timeout" in failed[0].error_logs and "retired" in failed[0].error_logs
    assert all(r.info["worker"] in {o.worker_id for o in others} for r in runs if r.loss is not None)
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        retired = [json.loads(line) for line in fh if '"worker_retired"' in line]
    assert [e["worker"] for e in retired] == [hanging.worker_id]


@pytest.mark.timeout(60)
def test_max_wait_for_workers_ends_the_run_with_a_clear_error(nameserver, run_id, tmp_path):
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, min_budget=1, max_budget=3, working_directory=str(tmp_path),
                   max_wait_for_workers=0.5)
    with pytest.raises(RuntimeError, match="max_wait_for_workers"):
        hb.run(n_iterations=1)
    hb.shutdown()
    assert os.path.exists(os.path.join(hb.journal.directory, "results.pkl"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("which", ["working_directory", "with_run_id"])
def test_bandster_stop_from_another_shell(tmp_path, run_id, spawn, which):
    shared = str(tmp_path / "shared")
    os.makedirs(shared)
    master = spawn(os.path.join(HELPERS, "master_script.py"), shared, run_id, "4")
    journal = master.stdout.readline().split()[1]
    workers = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, "--dir", shared, "sleepy", str(i),
                     env={"TOY_SLEEP": "0.3"}) for i in range(2)]
    wait_until(lambda: len(result_lines(journal)) >= 2)
    # the working directory alone is accepted, as by `bandster status` (issue 11, item 4)
    extra = ["--run-id", run_id] if which == "with_run_id" else []
    stop = subprocess.run([sys.executable, "-m", "bandster", "stop", shared, *extra],
                          capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0, stop.stderr
    assert f"pid {master.pid}" in stop.stdout
    out = master.stdout.read()
    assert master.wait(timeout=60) == 0, out
    for w in workers:
        assert w.wait(timeout=30) == 0
    done = int(out.split("done")[1].split()[0])
    assert 2 <= done < 33 and done == len(result_lines(journal))
    # nothing holds the journal any more
    again = subprocess.run([sys.executable, "-m", "bandster", "stop", journal], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 1 and "no master is running" in again.stderr
