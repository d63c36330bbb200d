"""ASHA, AsyncHyperBand and AsyncBOHB end to end: thread and process workers, the promotion rule checked on the
journal, the stopping rules, checkpoint continuation on promotion, and resuming after the master is SIGKILLed."""

import collections
import json
import os
import signal
import threading
import time

import ConfigSpace as CS
import pytest
from async_workers import FlakyWorker, ResumingWorker

from bandster.analysis.status import read_status
from bandster.core.result import logged_results_to_HBS_result
from bandster.core.worker import Worker
from bandster.optimizers import ASHA, AsyncBOHB, AsyncHyperBand, HyperBand
from bandster.optimizers.asha import AsyncSchedule, hyperband_budget

from testutil import HELPERS, result_lines, wait_until


def space(seed=0):
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=seed)


def run_async(cls, nameserver, run_id, tmp_path, n_workers=1, worker=FlakyWorker, run_kwargs=None, **kwargs):
    workers = [worker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id=i)
               for i in range(n_workers)]
    for w in workers:
        w.run(background=True)
    kwargs.setdefault("configspace", space())
    kwargs.setdefault("min_budget", 1)
    kwargs.setdefault("max_budget", 9)
    opt = cls(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
              working_directory=str(tmp_path), **kwargs)
    try:
        result = opt.run(min_n_workers=n_workers, progress=False, **(run_kwargs or {"n_iterations": 2}))
    finally:
        opt.shutdown(shutdown_workers=True)
        for w in workers:
            w.shutdown()
    return opt, result


def events(directory, kind=None):
    with open(os.path.join(directory, "events.json")) as fh:
        out = [json.loads(line) for line in fh if line.strip()]
    return [e for e in out if kind is None or e["event"] == kind]


def dispatch_order(opt):
    return [(tuple(e["config_id"]), float(e["budget"])) for e in events(opt.journal.directory, "dispatch")]


def check_ladders(opt, result):
    """Config ids, budgets, promotions only of configurations that succeeded on the rung below, once each."""
    runs = result.get_all_runs()
    by_id = collections.defaultdict(dict)
    for r in runs:
        bracket, stage, _ = r.config_id
        assert stage == 0 and 0 <= bracket < opt.n_brackets
        assert r.budget in opt.budgets[bracket:]
        assert r.budget not in by_id[r.config_id], "a configuration ran twice on one budget"
        by_id[r.config_id][r.budget] = r
    for cid, per_budget in by_id.items():
        ladder = opt.budgets[cid[0]:]
        reached = sorted(per_budget)
        assert reached == ladder[: len(reached)], f"{cid} skipped a rung: {reached}"
        for lower, upper in zip(reached, reached[1:], strict=False):
            below, above = per_budget[lower], per_budget[upper]
            assert below.status == "ok", f"{cid} was promoted after failing on {lower}"
            assert below.time_stamps["finished"] <= above.time_stamps["submitted"] + 1e-6
    return by_id


def check_budget_rule(opt, result, n_iterations):
    """Jobs start while less than n_iterations Hyperband iterations' budget was started."""
    limit = hyperband_budget(n_iterations, opt.min_budget, opt.max_budget, opt.eta)
    total = sum(r.budget for r in result.get_all_runs())
    assert total >= limit and total - opt.max_budget < limit, (total, limit)
    assert opt.schedule.budget_started == total


@pytest.mark.timeout(120)
def test_asha_with_one_worker_makes_exactly_the_rules_decisions(nameserver, run_id, tmp_path, no_thread_leak):
    opt, result = run_async(ASHA, nameserver, run_id, tmp_path, min_budget=1, max_budget=27, seed=4,
                            run_kwargs={"n_iterations": 3})
    runs = result.get_all_runs()
    assert all(r.config_id[0] == 0 for r in runs)
    assert sum(r.status != "ok" for r in runs) >= 3  # the flaky worker failed some (and NaN'd some)
    check_ladders(opt, result)
    check_budget_rule(opt, result, 3)
    # one worker: the journal's order is the decision order; the pure schedule must make the same decisions
    order = dispatch_order(opt)
    assert order == [(r.config_id, r.budget) for r in runs]
    losses = {(r.config_id, r.budget): r.loss for r in runs}
    sim = AsyncSchedule(opt.budgets, 3)
    sim.budget_limit = hyperband_budget(3, 1, 27, 3)
    n_new = 0
    for cid, budget in order:
        d = sim.propose()
        if d.kind == "new":
            assert cid == (0, 0, n_new) and budget == opt.budgets[0]
            n_new += 1
        else:
            assert (d.key, d.budget) == (cid, budget)
        sim.start(cid, 0, opt.budgets.index(budget))
        sim.finish(cid, losses[(cid, budget)])
    assert sim.propose() is None  # the budget is spent
    # the records: Result from the journal, results.pkl, status shows the rungs
    assert logged_results_to_HBS_result(opt.journal.directory) == result
    status = read_status(opt.journal.directory)
    rungs = [(s.iteration, s.budget, s.done + s.failed) for s in status.stages]
    counts = collections.Counter(r.budget for r in runs)
    assert rungs == [(0, b, counts[b]) for b in opt.budgets]
    assert "ASHA" in status.format()
    manifest = json.load(open(os.path.join(opt.journal.directory, "run.json")))
    assert manifest["optimizer"] == "ASHA" and manifest["optimizer_kwargs"]["n_brackets"] == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", [ASHA, AsyncHyperBand, AsyncBOHB])
def test_thread_workers(cls, nameserver, run_id, tmp_path, no_thread_leak):
    opt, result = run_async(cls, nameserver, run_id, tmp_path, n_workers=3, seed=1, max_budget=27,
                            run_kwargs={"n_iterations": 4})
    by_id = check_ladders(opt, result)
    check_budget_rule(opt, result, 4)
    # promotions happened in bracket 0 and the largest budget was reached (which configuration gets how far
    # depends on the order results arrive from three threads, so only this much is certain)
    assert any(len(v) >= 2 for cid, v in by_id.items() if cid[0] == 0)
    assert any(opt.budgets[-1] in v for v in by_id.values())
    brackets_used = {cid[0] for cid in by_id}
    assert brackets_used == set(range(opt.n_brackets))
    if cls is AsyncHyperBand:
        assert opt.n_brackets == 4 and len(opt.iterations) == 4
        starts = collections.Counter(cid[0] for cid in by_id)  # new configurations follow 27 : 9 : 3 : 4
        assert starts[0] > starts[1] and starts[0] > starts[3]
    if cls is AsyncBOHB:
        picks = [e["config_info"].get("model_based_pick") for e in result.get_id2config_mapping().values()]
        assert any(picks) and not all(picks)
        assert opt.config_generator.model_budget_rule == "full_split"  # AsyncBOHB's default, recorded
        with open(os.path.join(opt.journal.directory, "run.json")) as fh:
            manifest = json.load(fh)
        assert manifest["optimizer_kwargs"]["model_budget_rule"] == "full_split"
    assert result.get_incumbent_id() is not None
    assert len(result.get_learning_curves()) == len(by_id)
    assert all(it.is_finished for it in opt.iterations)
    assert len(events(opt.journal.directory, "iteration_started")) == opt.n_brackets


def check_checkpoints(opt, result, pids=None):
    promoted = 0
    by_id = check_ladders(opt, result)
    for cid, per_budget in by_id.items():
        budgets = sorted(per_budget)
        for i, budget in enumerate(budgets):
            run = per_budget[budget]
            assert run.info["config_directory"] == opt.config_directory(cid)
            if i == 0:
                assert run.info["previous_budget"] is None and run.info["checkpoint"] is None
                assert run.info["trained"] == budget
                continue
            promoted += 1
            below = per_budget[budgets[i - 1]]
            assert run.info["previous_budget"] == budgets[i - 1]
            assert run.info["checkpoint"] == {"budget": budgets[i - 1], "pid": below.info["pid"]}
            assert run.info["trained"] == budget - budgets[i - 1]  # it resumed instead of starting over
            if pids is not None:
                assert run.info["pid"] in pids
    return promoted


@pytest.mark.timeout(120)
def test_checkpoint_continuation_with_thread_workers(nameserver, run_id, tmp_path):
    # one worker: results come back in dispatch order, so the seed fixes the promotions (5); with three, how many
    # promotions happen depends on which thread finishes first (hand-offs across processes are tested below)
    opt, result = run_async(AsyncHyperBand, nameserver, run_id, tmp_path, n_workers=1, worker=ResumingWorker,
                            seed=2, run_kwargs={"n_iterations": 3})
    assert check_checkpoints(opt, result) >= 5


@pytest.mark.timeout(180)
def test_worker_processes_resume_each_others_checkpoints(nameserver, run_id, tmp_path, spawn):
    script = os.path.join(HELPERS, "async_workers.py")
    procs = [spawn(script, run_id, nameserver.host, str(nameserver.port), "resuming", str(i),
                   env={"ASYNC_SLEEP": "0.01"}) for i in range(2)]
    opt = ASHA(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
               min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=5)
    result = opt.run(n_iterations=3, min_n_workers=2, progress=False)
    opt.shutdown(shutdown_workers=True)
    for p in procs:
        assert p.wait(timeout=30) == 0
    pids = {p.pid for p in procs}
    assert check_checkpoints(opt, result, pids) >= 4
    assert {r.info["pid"] for r in result.get_all_runs()} == pids
    check_budget_rule(opt, result, 3)


@pytest.mark.timeout(120)
def test_max_configs_then_promotions_only(nameserver, run_id, tmp_path):
    opt, result = run_async(ASHA, nameserver, run_id, tmp_path, seed=3, configspace=space(3),
                            run_kwargs={"n_iterations": 50, "max_configs": 9}, worker=ResumingWorker)
    by_id = check_ladders(opt, result)
    assert len(by_id) == 9
    assert opt.schedule.budget_started < opt.budget_limit(50)  # ended because nothing was eligible any more
    assert opt.schedule.finished
    # at the end the rung sizes satisfy ASHA's rule: nothing in the top 1/eta of a rung is left behind
    for rung in range(len(opt.budgets) - 1):
        assert opt.schedule.ladders[0].candidates(rung) == []


@pytest.mark.timeout(120)
def test_max_budget_spent_and_later_calls_add_up(nameserver, run_id, tmp_path):
    w = ResumingWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    opt = ASHA(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
               min_budget=1, max_budget=9, working_directory=str(tmp_path), seed=0)
    try:
        first = opt.run(n_iterations=5, max_budget_spent=20, progress=False)
        spent = sum(r.budget for r in first.get_all_runs())
        assert 20 <= spent < 29
        assert [e["limit"] for e in events(opt.journal.directory, "limit_reached")] == ["max_budget_spent"]
        second = opt.run(n_iterations=1, progress=False)  # 6 iterations in total now: 27 + 18 + 27 + 27 + 18 + 27
        check_ladders(opt, second)
        check_budget_rule(opt, second, 6)
        assert len(second.get_all_runs()) > len(first.get_all_runs())
        limits = events(opt.journal.directory, "async_limits")
        assert [(e["n_iterations"], e["budget_limit"]) for e in limits] == [(5, 117.0), (6, 144.0)]
        # the job taken when max_budget_spent stopped the first call waited for the second; it counts as started
        assert spent <= limits[1]["budget_started"] < spent + 9
    finally:
        opt.shutdown(shutdown_workers=True)
        w.shutdown()


class Slow(Worker):
    def compute(self, config, budget, **kwargs):
        time.sleep(0.03)
        return {"loss": config["x"], "info": None}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", [ASHA, HyperBand])
def test_jobs_withdrawn_at_a_limit_run_in_the_next_call(cls, nameserver, run_id, tmp_path):
    workers = [Slow(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id=i)
               for i in range(2)]
    for w in workers:
        w.run(background=True)
    opt = cls(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
              min_budget=1, max_budget=9, working_directory=str(tmp_path), seed=0, job_queue_sizes=(0, 4))
    try:
        first = opt.run(n_iterations=2, min_n_workers=2, max_wallclock_time=0.2, progress=False)
        limit = events(opt.journal.directory, "limit_reached")[0]
        assert limit["limit"] == "max_wallclock_time" and limit["withdrawn"] > 0  # 4 jobs were queued ahead
        second = opt.run(n_iterations=1, min_n_workers=2, progress=False)  # must not wait for the withdrawn jobs
        done_first = {(r.config_id, r.budget) for r in first.get_all_runs()}
        done = {(r.config_id, r.budget) for r in second.get_all_runs()}
        assert done_first < done
        assert all(it.is_finished for it in opt.iterations)
    finally:
        opt.shutdown(shutdown_workers=True)
        for w in workers:
            w.shutdown()


@pytest.mark.timeout(120)
def test_points_to_evaluate_and_warm_start(nameserver, run_id, tmp_path):
    old, old_result = run_async(ASHA, nameserver, run_id, tmp_path / "old", seed=1,
                                points_to_evaluate=[{"x": 0.31}, {"x": 0.29}])
    id2conf = old_result.get_id2config_mapping()
    assert id2conf[(0, 0, 0)]["config"] == {"x": 0.31} and id2conf[(0, 0, 1)]["config"] == {"x": 0.29}
    new, result = run_async(AsyncBOHB, nameserver, run_id, tmp_path / "new", seed=2,
                            previous_result=old.journal.directory, run_kwargs={"n_iterations": 1})
    warm = [r for r in result.get_all_runs() if r.config_id[0] == -1]
    assert len(warm) == len(old_result.get_all_runs())
    picks = [e["config_info"].get("model_based_pick") for cid, e in sorted(result.get_id2config_mapping().items())
             if cid[0] == 0]
    assert any(picks[:4])  # the model existed from the start


def test_bad_arguments(nameserver, run_id, tmp_path):
    common = dict(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                  working_directory=str(tmp_path), min_budget=1, max_budget=9)
    with pytest.raises(ValueError, match="configspace"):
        ASHA(**common)
    for bad in (0, 4, 1.5, True):
        with pytest.raises(ValueError, match="n_brackets must be an integer between 1 and the number of budgets"):
            AsyncHyperBand(configspace=space(), n_brackets=bad, **common)
    with pytest.raises(ValueError, match="eta must be > 1"):
        AsyncBOHB(configspace=space(), eta=1, **common)
    with pytest.raises(ValueError, match="model_budget_rule"):
        AsyncBOHB(configspace=space(), model_budget_rule="largest", **common)
    opt = ASHA(configspace=space(), **common)
    try:
        with pytest.raises(ValueError, match="n_iterations"):
            opt.run(n_iterations=0)
        with pytest.raises(ValueError, match="max_configs"):
            opt.run(n_iterations=1, max_configs=0)
    finally:
        opt.shutdown()
    # the model's rule by type: the stopping variant ranks configurations by the rung they reached
    for kind, rule in (("promotion", "full_split"), ("stopping", "reached")):
        opt = AsyncBOHB(configspace=space(), type=kind, **common)
        try:
            assert opt.config_generator.model_budget_rule == rule
        finally:
            opt.shutdown()
    opt = AsyncBOHB(configspace=space(), type="stopping", model_budget_rule="full_split", **common)
    try:
        assert opt.config_generator.model_budget_rule == "full_split"
    finally:
        opt.shutdown()


# ------------------------------------------------------------------ crash and resume




@pytest.mark.timeout(240)
@pytest.mark.parametrize("optimizer", ["ASHA", "AsyncHyperBand"])
def test_sigkill_master_then_resume(optimizer, tmp_path, run_id, spawn):
    shared, log = str(tmp_path / "shared"), str(tmp_path / "computed.log")
    os.makedirs(shared)
    env = {"TOY_SLEEP": "0.1", "TOY_LOG": log}
    script = os.path.join(HELPERS, "async_master_script.py")
    master = spawn(script, shared, run_id, "4", optimizer)
    journal = master.stdout.readline().split()[1]
    workers = [spawn(os.path.join(HELPERS, "toy_workers.py"), run_id, "--dir", shared, "sleepy", str(i), env=env)
               for i in range(2)]
    wait_until(lambda: len(result_lines(journal)) >= 12)  # mid-run, promotions made
    master.send_signal(signal.SIGKILL)
    master.wait(timeout=30)
    finished_before = {(tuple(line[0]), line[1]) for line in result_lines(journal)}
    assert any(budget > 1 for _, budget in finished_before)

    again = spawn(script, shared, run_id, "4", optimizer, "resume")
    assert again.stdout.readline().split()[1] == journal
    out = again.stdout.read()
    assert again.wait(timeout=180) == 0, out
    for w in workers:  # they outlived the first master and were shut down by the second
        assert w.wait(timeout=30) == 0

    result = logged_results_to_HBS_result(journal)
    runs = result.get_all_runs()
    keys = [(r.config_id, r.budget) for r in runs]
    assert len(keys) == len(set(keys))  # every run exactly once
    assert finished_before <= set(keys)
    with open(log) as fh:
        computed = collections.Counter(tuple(line.rsplit(" ", 2)[:2]) for line in fh.read().splitlines())
    for key in finished_before:  # nothing finished before the crash was evaluated again
        assert computed[(str(list(key[0])), str(key[1]))] == 1, key
    # the whole run, across the crash, followed the ladders and the budget rule of 4 Hyperband iterations
    total = sum(r.budget for r in runs)
    assert 99 <= total < 99 + 9, total
    assert f"done {len(runs)} {total}" in out
    budgets = [1.0, 3.0, 9.0]
    by_id = collections.defaultdict(dict)
    for r in runs:
        by_id[r.config_id][r.budget] = r
    for cid, per_budget in by_id.items():
        reached = sorted(per_budget)
        assert reached == budgets[cid[0]: cid[0] + len(reached)]
        assert all(per_budget[b].status == "ok" for b in reached[:-1])
    with open(os.path.join(journal, "run.json")) as fh:
        manifest = json.load(fh)
    assert manifest["resumed"][0]["runs"] == len(finished_before)
    assert manifest["optimizer"] == optimizer


class GatedWorker(Worker):
    """Returns at once for its first ``open_jobs`` jobs, then holds the next one until ``gate`` is set."""

    def __init__(self, *args, open_jobs, gate, holding, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_jobs, self.gate, self.holding = open_jobs, gate, holding

    def compute(self, config, budget, **kwargs):
        self.open_jobs -= 1
        if self.open_jobs < 0:
            self.holding.set()
            self.gate.wait()
        time.sleep(0.001)
        return {"loss": config["x"], "info": None}


@pytest.mark.timeout(120)
def test_status_estimates_the_rest_of_an_asynchronous_run_from_its_budget(nameserver, run_id, tmp_path):
    gate, holding = threading.Event(), threading.Event()
    w = GatedWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, open_jobs=12,
                    gate=gate, holding=holding)
    w.run(background=True)
    opt = ASHA(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
               min_budget=1, max_budget=9, working_directory=str(tmp_path), seed=0)
    runner = threading.Thread(target=opt.run, kwargs={"n_iterations": 3, "progress": False}, name="test-master")
    try:
        runner.start()
        assert holding.wait(60), "the worker never got its 13th job"
        limit = hyperband_budget(3, 1, 9, 3)
        started = opt.schedule.budget_started  # nothing starts while the only worker is held
        note = f"a budget of {limit - started:g} of {limit:g} is still to start"

        def caught_up():  # the journal writer may still be writing the last lines when the worker is held
            s = read_status(opt.journal.directory)
            return s if s.runs_running == 1 and note in (s.remaining_note or "") else None

        wait_until(lambda: caught_up() is not None, timeout=30)
        status = caught_up()
        assert status.state == "running" and status.remaining_runs is None
        assert status.remaining_seconds is not None
        assert note in status.remaining_note
        assert "remaining: about " in status.format() and " runs (" not in status.format().split("remaining:")[-1]
    finally:
        gate.set()
        runner.join(60)
        opt.shutdown(shutdown_workers=True)
        w.shutdown()
    assert not runner.is_alive()


@pytest.mark.parametrize("n_floats, constants, expected", [(3, 0, 4), (8, 2, 9), (16, 1, 9)])
def test_async_bohb_min_points_default_is_d_plus_one_capped_at_nine(nameserver, run_id, tmp_path, n_floats,
                                                                    constants, expected):
    cs = CS.ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(n_floats)})
    cs.add([CS.Constant(f"c{i}", "k") for i in range(constants)])
    common = dict(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                  working_directory=str(tmp_path), min_budget=1, max_budget=9)
    opt = AsyncBOHB(configspace=cs, **common)
    try:
        assert opt.config_generator.min_points_in_model == expected
        assert opt.optimizer_kwargs["min_points_in_model"] == expected  # recorded in the manifest
    finally:
        opt.shutdown()
    opt = AsyncBOHB(configspace=cs, min_points_in_model=17, **common)  # an explicit value is kept
    try:
        assert opt.config_generator.min_points_in_model == 17
    finally:
        opt.shutdown()
