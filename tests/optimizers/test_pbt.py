"""PBT end to end: every backend, exploits of checkpoints written by another process, a failing member, resume after
a master SIGKILL, and the lineage and schedule read back from a known run."""

import collections
import json
import os
import signal

import ConfigSpace as CS
import pytest
from pbt_helpers import PBTWorker, check_checkpoints, check_population, space, train

from bandster.core.result import logged_results_to_HBS_result
from bandster.optimizers import PBT

from testutil import HELPERS, kill_when_written, result_lines, wait_until


def events(directory, kind):
    with open(os.path.join(directory, "events.json")) as fh:
        return [e for e in map(json.loads, fh) if e["event"] == kind]


def make(backend_name, tmp_path, run_id, request=None, **kwargs):
    if backend_name == "simulated":
        from bandster.backends import SimulatedBackend

        def objective(**kw):
            return {**train(**kw), "cost": 1.0}

        kwargs["backend"] = SimulatedBackend(2, objective)
    elif backend_name == "threads":
        from bandster.backends import ThreadBackend

        kwargs["backend"] = ThreadBackend(2, train)
    elif backend_name == "processes":
        from bandster.backends import ProcessBackend

        kwargs["backend"] = ProcessBackend(2, train, start_method="fork")
    else:
        ns = request.getfixturevalue("nameserver")
        kwargs.update(nameserver=ns.host, nameserver_port=ns.port)
    kwargs.setdefault("population_size", 4)
    kwargs.setdefault("perturbation_interval", 2)
    kwargs.setdefault("max_budget", 8)
    return PBT(space(), seed=3, run_id=run_id, working_directory=str(tmp_path), **kwargs)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend_name", ["simulated", "threads", "processes", "pyro"])
@pytest.mark.parametrize("synchronous", [False, True])
def test_population_trains_on_every_backend(backend_name, synchronous, tmp_path, run_id, request):
    worker = None
    if backend_name == "pyro":
        ns = request.getfixturevalue("nameserver")
        worker = PBTWorker(run_id=run_id, nameserver=ns.host, nameserver_port=ns.port)
        worker.run(background=True)
    pbt = make(backend_name, tmp_path, run_id, request, synchronous=synchronous)
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown(shutdown_workers=True)
        if worker is not None:
            worker.shutdown()
    assert len(result.get_all_runs()) >= 4 * 2  # an exploit may jump a member ahead to its source's budget
    check_population(result, 4, 8)
    exploits = [e for e in result.get_id2config_mapping().values()
                if e["config_info"].get("pbt", {}).get("kind") == "exploit"]
    assert exploits, "no member exploited another"
    assert all(os.path.isdir(pbt.config_directory(cid)) for cid in result.get_id2config_mapping())
    jobs = {(tuple(e["config_id"]), e["budget_end"]): e for e in events(pbt.journal.directory, "pbt_job")}
    for run in result.get_all_runs():  # every job's member and budget range are journaled
        job = jobs[(run.config_id, run.budget)]
        assert job["member"] == run.config_id[0] and job["budget_end"] - job["budget_start"] == 2


@pytest.mark.timeout(180)
def test_worker_processes_exploit_checkpoints_written_by_another_process(tmp_path, run_id, nameserver, spawn):
    # jobs of 50 ms: a worker process holds no jobs ahead (only jobs under 10 ms are), so both take turns
    workers = [spawn(os.path.join(HELPERS, "pbt_helpers.py"), "worker", run_id, nameserver.host,
                     str(nameserver.port), str(i), env={"PBT_SLEEP": "0.05"}) for i in range(2)]
    for w in workers:
        assert w.stdout.readline().startswith("worker ready")
    pbt = PBT(space(), population_size=4, perturbation_interval=2, max_budget=20, seed=1, synchronous=True,
              run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
              working_directory=str(tmp_path))
    try:
        result = pbt.run(min_n_workers=2, progress=False)
    finally:
        pbt.shutdown(shutdown_workers=True)
    for w in workers:
        assert w.wait(timeout=30) == 0
    check_population(result, 4, 20)
    id2conf = result.get_id2config_mapping()
    copied = [r for r in result.get_all_runs() if id2conf[r.config_id]["config_info"].get("pbt", {}).get("kind")
              == "exploit" and r.info["loaded_from"] != list(r.config_id)]
    assert copied
    assert any(r.info["loaded_pid"] != r.info["pid"] for r in copied)  # written by the other worker process
    assert {r.info["pid"] for r in result.get_all_runs()} == {w.pid for w in workers}


@pytest.mark.timeout(120)
def test_a_failing_member_is_replaced_by_exploiting(tmp_path, run_id, monkeypatch):
    monkeypatch.setenv("PBT_FAIL", f"2:4:{tmp_path / 'failed-once'}")
    pbt = make("threads", tmp_path, run_id, synchronous=True)
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    failed = [r for r in result.get_all_runs() if r.loss is None]
    assert [(r.config_id[0], r.budget) for r in failed] == [(2, 4.0)]
    assert "injected failure" in failed[0].error_logs
    journal = pbt.journal.directory
    assert [e["member"] for e in events(journal, "pbt_member_failed")] == [2]
    replaced = events(journal, "pbt_replace")
    assert [e["member"] for e in replaced] == [2]
    replacement = next(e for cid, e in result.get_id2config_mapping().items()
                       if e["config_info"].get("pbt", {}).get("kind") == "replace")
    assert replacement["config_info"]["pbt"]["member"] == 2
    assert replacement["config_info"]["pbt"]["source_member"] == replaced[0]["source_member"] != 2
    assert result.get_lineage(2)[-1]["budget_end"] == 8  # it trained on to the end
    check_checkpoints(result, failures_allowed=True)


@pytest.mark.timeout(120)
def test_a_worker_process_killed_mid_interval_has_its_job_rerun_from_the_last_checkpoint(tmp_path, run_id,
                                                                                      monkeypatch):
    from bandster.backends import ProcessBackend

    pid_file = str(tmp_path / "hung.pid")
    monkeypatch.setenv("PBT_HANG", f"1:6:{pid_file}")  # member 1's job from budget 4 to 6 hangs the first time
    killed = []
    watcher = kill_when_written(pid_file, killed)
    pbt = make("processes", tmp_path, run_id, synchronous=True)  # every member trains from 4 to 6
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
        watcher.join()
    assert len(killed) == 1
    runs = result.get_all_runs()
    assert all(r.loss is not None for r in runs)  # nothing lost or failed
    rerun = [r for r in runs if r.config_id[0] == 1 and r.budget == 6.0]
    assert [r.attempt for r in rerun] == [2] and rerun[0].info["pid"] != killed[0]
    assert float(rerun[0].info["loaded_budget"]) == 4.0  # from the checkpoint the interval started from
    check_population(result, 4, 8)  # every job, the re-run included, loaded the checkpoint its lineage names
    lost = [e for e in events(pbt.journal.directory, "worker_lost")]
    assert lost and isinstance(pbt.backend, ProcessBackend)


@pytest.mark.timeout(240)
def test_sigkill_master_then_resume_continues_the_population(tmp_path, run_id, spawn):
    shared, log = str(tmp_path / "shared"), str(tmp_path / "computed.log")
    os.makedirs(shared)
    env = {"PBT_SLEEP": "0.05", "PBT_LOG": log}
    script = os.path.join(HELPERS, "pbt_helpers.py")
    master = spawn(script, "master", shared, run_id, env=env)
    journal = master.stdout.readline().split()[1]
    wait_until(lambda: len(result_lines(journal)) >= 14)  # exploits made, mid-run
    master.send_signal(signal.SIGKILL)
    master.wait(timeout=30)
    before = {(tuple(line[0]), line[1]) for line in result_lines(journal)}

    again = spawn(script, "master", shared, run_id, "resume", env=env)
    assert again.stdout.readline().split()[1] == journal
    out = again.stdout.read()
    assert again.wait(timeout=180) == 0, out
    result = logged_results_to_HBS_result(journal)
    keys = [(r.config_id, r.budget) for r in result.get_all_runs()]
    assert len(keys) == len(set(keys)) and before <= set(keys)
    with open(log) as fh:
        computed = collections.Counter(tuple(line.rsplit(" ", 1)) for line in fh.read().splitlines())
    for config_id, budget in before:  # nothing finished before the crash ran again
        assert computed[(str(list(config_id)), str(float(budget)))] == 1
    check_population(result, 4, 16)
    with open(os.path.join(journal, "run.json")) as fh:
        assert json.load(fh)["resumed"][0]["runs"] == len(before)


def test_lineage_and_schedule_of_a_known_run(tmp_path, run_id):
    """Two members, synchronous, quantile 0.5: after every interval the worse copies the better (whose lr is
    larger: the loss falls faster), and explores with no resampling and the factor 2 only."""
    from bandster.backends import SimulatedBackend

    def objective(**kw):
        return {**train(**kw), "cost": 1.0}

    cs = CS.ConfigurationSpace({"lr": CS.Float("lr", (0.01, 0.5), log=True)})
    pbt = PBT(cs, population_size=2, perturbation_interval=1, max_budget=3, quantile_fraction=0.5,
              resample_probability=0.0, perturbation_factors=(2.0,), synchronous=True, seed=0,
              points_to_evaluate=[{"lr": 0.02}, {"lr": 0.05}], run_id=run_id, working_directory=str(tmp_path),
              backend=SimulatedBackend(2, objective))
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    # interval 1: member 1 (lr 0.05) is better: it trains on in a fresh directory (1, 0, 1), and member 0 copies
    # its frozen (1, 0, 0) with lr 0.1 into (0, 0, 1). Interval 2: member 0 (one step at 0.05, one at 0.1) is
    # better than member 1 (two at 0.05): it moves on to (0, 0, 2), and member 1 copies (0, 0, 1) with lr 0.2.
    chain = result.get_lineage(1)
    assert [(s["member"], s["config_id"], s["kind"], s["budget_start"], s["budget_end"]) for s in chain] == [
        (1, (1, 0, 0), "initial", 0.0, 1.0),
        (0, (0, 0, 1), "exploit", 1.0, 2.0),
        (1, (1, 0, 2), "exploit", 2.0, 3.0),
    ]
    assert chain[2]["config"] == {"lr": 0.2} and chain[2]["config_before_explore"] == {"lr": 0.1}
    assert chain[1]["source_member"] == 1 and chain[2]["source_member"] == 0
    assert [loss for _, loss in chain[2]["losses"]] == [result.get_runs_by_id((1, 0, 2))[0].loss]
    assert [(s["config_id"], s["kind"]) for s in result.get_lineage(0)] == [
        ((1, 0, 0), "initial"), ((0, 0, 1), "exploit"), ((0, 0, 2), "continue")]
    assert result.get_schedule(1) == {"lr": [(0.0, 1.0, 0.05), (1.0, 2.0, 0.1), (2.0, 3.0, 0.2)]}
    assert result.get_schedule(0) == {"lr": [(0.0, 1.0, 0.05), (1.0, 3.0, 0.1)]}
    assert result.get_pbt_members() == [0, 1]
    with pytest.raises(KeyError, match="member 5"):
        result.get_lineage(5)
    df = result.to_dataframe()
    assert list(df["member"]) == [cid[0] for cid in df["config_id"]]


def test_max_configs_is_refused_with_what_to_use_instead(tmp_path, run_id):
    pbt = make("simulated", tmp_path, run_id)
    try:
        with pytest.raises(ValueError, match="max_configs does not apply to PBT.*max_budget_spent"):
            pbt.run(max_configs=5, progress=False)
        result = pbt.run(max_budget_spent=8, progress=False)  # the limit that does apply: 4 jobs of 2 units
    finally:
        pbt.shutdown()
    assert sum(r.budget - (r.info.get("loaded_budget") or 0) for r in result.get_all_runs()) == 8
