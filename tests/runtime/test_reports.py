"""The runner's side of intermediate reports (bandster/runtime/runner.py): every accepted report is journaled
with the scheduler's decision; reports of jobs that are not running, were stopped, or come from an earlier
attempt are ignored and logged; a stopped job's run is recorded as stopped at its step."""

import json
import logging
import os
import pickle
import signal

import ConfigSpace as CS
import pytest
from stopping_master_script import N_ITERATIONS, SLOW, make

from bandster.backends import SimulatedBackend, ThreadBackend
from bandster.core.job import Job
from bandster.optimizers import ASHA
from bandster.records.format import dispatch_counts, read_reports
from bandster.records.result import logged_results_to_HBS_result
from bandster.schedulers._base import Decision

from testutil import HELPERS, result_lines, wait_until

POINTS = [{"x": x} for x in (0.5, 0.2, 0.9, 0.3, 0.1, 0.05)]


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def curve(config, budget):
    """loss = x + 1 / step at every step, one virtual second each."""
    for step in range(1, int(budget) + 1):
        yield step, config["x"] + 1 / step, 1.0, {"epoch": step}
    return {"loss": config["x"] + 1 / budget, "info": {"epochs": int(budget)}}


def lines(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh]


def asha(tmp_path, backend):
    return ASHA(space(), min_budget=1, max_budget=9, eta=3, type="stopping", seed=0, run_id="r",
                working_directory=str(tmp_path), backend=backend, points_to_evaluate=POINTS)


def test_reports_journaled_with_decisions_and_stopped_runs_recorded(tmp_path):
    # the hand computation of tests/optimizers/test_stopping.py: x=.9 stopped at 1, x=.3 at 3, the rest run to 9
    opt = asha(tmp_path, SimulatedBackend(1, curve))
    result = opt.run(n_iterations=1, progress=False)
    directory = opt.runner.journal.directory
    opt.shutdown()

    reports = lines(os.path.join(directory, "reports.json"))
    assert len(reports) == 9 + 9 + 1 + 3 + 9
    assert set(reports[0]) == {"time", "config_id", "budget", "attempt", "step", "loss", "info", "decision"}
    x_of = {cid: round(e["config"]["x"], 6) for cid, e in result.get_id2config_mapping().items()}
    by_x = {}
    for line in reports:
        by_x.setdefault(x_of[tuple(line["config_id"])], []).append(line)
    assert [(r["step"], r["decision"]) for r in by_x[0.9]] == [(1, "stop")]
    assert [(r["step"], r["decision"]) for r in by_x[0.3]] == [(1, "continue"), (2, "continue"), (3, "stop")]
    assert [r["decision"] for r in by_x[0.5]] == ["continue"] * 9
    assert {r["budget"] for r in reports} == {9.0} and {r["attempt"] for r in reports} == {1}
    assert by_x[0.3][1]["info"] == {"epoch": 2} and by_x[0.3][1]["loss"] == pytest.approx(0.3 + 1 / 2)
    times = [r["time"] for r in reports]
    assert times == sorted(times) and times[0] == 1.0  # the virtual clock: the first report after one second

    # results.json: a stopped run at its step, status "stopped", the handed budget kept
    rows = {x_of[tuple(line[0])]: line for line in lines(os.path.join(directory, "results.json"))}
    assert rows[0.3][1] == 3.0 and rows[0.3][5]["status"] == "stopped"
    assert rows[0.3][5]["stopped_at"] == 3.0 and rows[0.3][5]["requested_budget"] == 9.0
    assert "stopped_at" not in rows[0.3][3]  # moved to the extras
    assert rows[0.5][1] == 9.0 and rows[0.5][5]["status"] == "ok" and "stopped_at" not in rows[0.5][5]

    runs = {x_of[r.config_id]: r for r in result.get_all_runs()}
    assert (runs[0.9].status, runs[0.9].budget, runs[0.9].stopped_at) == ("stopped", 1.0, 1.0)
    assert runs[0.9].loss == pytest.approx(1.9) and runs[0.9].requested_budget == 9.0
    assert (runs[0.1].status, runs[0.1].stopped_at) == ("ok", None)
    assert result.get_incumbent_id() is not None and x_of[result.get_incumbent_id()] == 0.1

    # the Result holds the reports, read back from the journal and from results.pkl alike
    assert len(result.get_reports()) == 31
    assert [(r.step, r.decision) for r in result.get_reports(runs[0.3].config_id)] == [
        (1.0, "continue"), (2.0, "continue"), (3.0, "stop")]
    with open(os.path.join(directory, "results.pkl"), "rb") as fh:
        pickled = pickle.load(fh)
    assert pickled == result == logged_results_to_HBS_result(directory)
    assert pickled.get_reports() == result.get_reports()


def test_ignored_reports_are_logged_not_journaled(tmp_path, caplog):
    holder = {}
    seen = []

    def objective(config, budget, config_id):
        runner = holder["runner"]
        for step in range(1, int(budget) + 1):
            if tuple(config_id) == (0, 0, 0) and step == 2:
                stale = Job(config_id, config=config, budget=budget)
                stale.attempt = 0  # an earlier attempt than the one that reports
                seen.append(("stale", runner.job_report(stale, step, 0.0)))
            decision = runner.job_report(Job(config_id, config=config, budget=budget), step, config["x"] + 1 / step)
            if decision is not Decision.CONTINUE:
                # a report after the stop: ignored, the answer stays STOP
                seen.append(("after stop", runner.job_report(Job(config_id, config=config, budget=budget), step + 1,
                                                             0.0)))
                return {"loss": config["x"] + 1 / step, "info": {}}
        return {"loss": config["x"] + 1 / budget, "info": {}}

    opt = asha(tmp_path, ThreadBackend(1, objective))
    holder["runner"] = opt.runner
    with caplog.at_level(logging.INFO):
        result = opt.run(n_iterations=1, progress=False)
        finished = result.get_all_runs()[0]
        late = opt.runner.job_report(Job(finished.config_id, config={}, budget=9.0), 10, 0.0)
    directory = opt.runner.journal.directory
    opt.shutdown()

    assert late is Decision.STOP
    assert seen[0] == ("stale", Decision.STOP)
    assert ("after stop", Decision.STOP) in seen and len(seen) == 3  # x=.9 and x=.3 were stopped
    journaled = list(read_reports(directory))
    assert len(journaled) == 31  # the same as on the simulated backend: nothing ignored was journaled
    assert all(line.loss != 0.0 for line in journaled)
    messages = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert any("earlier" in m or "attempt 0" in m for m in messages)
    assert any("was stopped at step" in m for m in messages)
    assert any("not running" in m for m in messages)
    # the runner marks the run it stopped even though the objective returned no stopped_at
    statuses = sorted(r.status for r in result.get_all_runs())
    assert statuses == ["ok", "ok", "ok", "stopped", "stopped"]


def test_report_with_a_bad_step_or_a_failing_scheduler_continues(tmp_path, caplog):
    holder = {}
    answers = []

    def objective(config, budget, config_id):
        runner = holder["runner"]
        job = Job(config_id, config=config, budget=budget)
        answers.append(runner.job_report(job, float("nan"), 0.5))  # not journaled
        answers.append(runner.job_report(job, 2, 0.5))  # the scheduler raises: journaled, continues
        return {"loss": config["x"], "info": {}}

    opt = ASHA(space(), min_budget=1, max_budget=9, eta=3, type="stopping", seed=0, run_id="r",
               working_directory=str(tmp_path), backend=ThreadBackend(1, objective))
    holder["runner"] = opt.runner

    def broken(job, step, loss, info=None):
        raise RuntimeError("scheduler bug")

    opt.scheduler.on_report = broken
    with caplog.at_level(logging.WARNING):
        opt.run(n_iterations=1, max_configs=1, progress=False)
    directory = opt.runner.journal.directory
    opt.shutdown()
    assert answers == [Decision.CONTINUE, Decision.CONTINUE]
    assert [(line.step, line.decision) for line in read_reports(directory)] == [(2.0, "continue")]
    messages = [r.getMessage() for r in caplog.records]
    assert any("finite number" in m for m in messages)
    assert any("could not take the report" in m for m in messages)


# ---------------------------------------------------------------------------------------------------- resume
def report_keys(journal):
    return {tuple(line.config_id) for line in read_reports(journal)}


@pytest.mark.timeout(180)
def test_reports_survive_a_master_sigkill_and_resume(tmp_path, spawn):
    """Stopping ASHA on one simulated worker, killed (SIGKILL) while a job reports, then resumed: every journaled
    report is kept, the rung records are rebuilt from them (so the resumed run decides exactly as an uninterrupted
    one), and the job that was running runs again (attempt 2)."""
    reference = make(str(tmp_path / "reference"), "ref")
    expected = reference.run(n_iterations=N_ITERATIONS, progress=False)
    reference.shutdown()

    def outcome(result):
        x_of = {cid: e["config"]["x"] for cid, e in result.get_id2config_mapping().items()}
        return sorted((x_of[r.config_id], r.status, r.budget, r.stopped_at) for r in result.get_all_runs())

    working = str(tmp_path / "run")
    script = os.path.join(HELPERS, "stopping_master_script.py")
    master = spawn(script, working, "crash", "0.01")
    journal = master.stdout.readline().split()[1]
    wait_until(lambda: SLOW in report_keys(journal), timeout=120)  # the slow job has reported: it is running
    master.send_signal(signal.SIGKILL)
    master.wait(timeout=30)
    before = list(read_reports(journal))
    finished_before = {tuple(line[0]) for line in result_lines(journal)}
    assert SLOW not in finished_before and len(before) > 0

    # a fresh scheduler given the killed journal records the finished jobs' reports again: its rungs hold them
    killed = logged_results_to_HBS_result(journal)
    fresh = make(str(tmp_path / "unused"), "fresh")
    requeued, counts = fresh.scheduler.replay(killed, dispatch_counts(journal))
    assert [r.config_id for r in requeued] == [SLOW] and requeued[0].attempt == 2
    finished_reports = [line for line in before if tuple(line.config_id) in finished_before]
    assert counts["reports"] == len(finished_reports) and counts["runs"] == len(finished_before)
    reached = {level: len({line.config_id for line in finished_reports if line.step >= level}) for level in (1, 3)}
    assert fresh.scheduler.rung_sizes() == [[reached[1], reached[3]]]
    fresh.shutdown()

    again = spawn(script, working, "crash", "0", "resume")
    assert again.stdout.readline().split()[1] == journal
    out = again.stdout.read()
    assert again.wait(timeout=120) == 0, out

    after = list(read_reports(journal))
    assert after[:len(before)] == before  # every report journaled before the kill is kept, in its place
    result = logged_results_to_HBS_result(journal)
    assert outcome(result) == outcome(expected)  # the same decisions as without the crash
    slow_run = result.get_runs_by_id(SLOW)[0]
    assert slow_run.attempt == 2  # run again from the start after the resume
    attempts = [r.attempt for r in result.get_reports(SLOW)]
    assert attempts[0] == 1 and attempts[-1] == 2
    assert [r.step for r in result.get_reports(SLOW) if r.attempt == 2][0] == 1
    with open(os.path.join(journal, "results.pkl"), "rb") as fh:
        assert pickle.load(fh) == result
