"""bandster.analysis.status_parts: each part of read_status alone, and the parts fed a journal in pieces giving what
read_status gives for the whole."""

from __future__ import annotations

import itertools
import os

import pytest
from analysis_helpers import make_run

from bandster.analysis.status import StatusBuilder, read_status, run_record
from bandster.analysis.status_parts import (
    InFlight,
    LifeCycle,
    Progress,
    RunRecord,
    RunTimes,
    WorkerActivity,
    remaining_work,
    stage_statuses,
    worker_time,
)
from bandster.optimizers import BOHB
from bandster.records.format import read_events, read_manifest
from bandster.records.result import logged_results_to_HBS_result

_ids = itertools.count()


def ev(t, kind, **fields):
    return {"time": float(t), "event": kind, **fields}


def run(cid, budget, ok=True, loss=1.0, start=None, stop=None, worker="w", submitted=None):
    return RunRecord(tuple(cid), float(budget), ok, loss if ok else None, submitted, start, stop, worker)


def test_life_cycle_states():
    life = LifeCycle()
    assert life.state(live=False, has_runs=False)[0] == "stopped"  # nothing at all
    assert "no events" in life.state(live=False, has_runs=True)[2][-1]
    life.add_event(ev(10, "run_started", n_iterations=3))
    assert life.state(live=True, has_runs=False)[:2] == ("running", None)
    state, ended, warnings = life.state(live=False, has_runs=False)
    assert state == "stopped" and ended is None and "crashed or killed" in warnings[0]
    life.add_event(ev(20, "interrupted"))
    life.add_event(ev(21, "run_finished"))
    assert life.state(live=False, has_runs=True)[:2] == ("interrupted", 21.0)
    life.add_event(ev(30, "resumed"))  # a new start forgets the earlier end
    assert life.state(live=True, has_runs=True)[0] == "running"
    life.add_event(ev(31, "dispatch"))
    life.add_event(ev(40, "no_workers"))
    state, ended, warnings = life.state(live=False, has_runs=True)
    assert state == "stopped" and ended == 40.0 and "no worker was left" in warnings[0]
    assert life.first_start == 10.0 and life.n_iterations == 3 and life.last_time == 40.0
    assert life.started({}, 5.0) == 10.0 and LifeCycle().started({"created": 7.0}, 5.0) == 7.0


def test_in_flight():
    flight = InFlight()
    flight.add_event(ev(1, "dispatch", config_id=[0, 0, 0], budget=1, worker="w"))
    flight.add_event(ev(1, "dispatch", config_id=[0, 0, 1], budget=1, worker="w"))
    assert set(flight.jobs) == {((0, 0, 0), 1.0), ((0, 0, 1), 1.0)}
    flight.add_run(run((0, 0, 0), 1, stop=2.0))
    flight.add_event(ev(3, "requeued", config_id=[0, 0, 1], budget=1))
    assert flight.jobs == {}
    flight.add_event(ev(4, "dispatch", config_id=[0, 0, 0], budget=1, worker="v"))  # run again after its result
    assert list(flight.jobs) == [((0, 0, 0), 1.0)] and flight.jobs[((0, 0, 0), 1.0)]["worker"] == "v"
    flight.add_event(ev(5, "dispatch", config_id="garbage", budget=1))  # unusable: ignored
    assert len(flight.jobs) == 1


def test_progress_counts_replacements_and_best():
    progress = Progress()
    progress.add_event(ev(0, "iteration_started", iteration=0, num_configs=[3, 1], budgets=[1, 3]))
    progress.add_run(run((0, 0, 0), 1, loss=0.5))
    progress.add_run(run((0, 0, 1), 1, ok=False))
    progress.add_run(run((0, 0, 2), 1, loss=0.2))
    progress.add_run(run((0, 0, 1), 1, loss=0.1))  # the failed run, run again: replaces it
    progress.add_run(run((-1, 0, 0), 1, loss=0.05))  # warm start
    assert progress.warm_runs == 1 and progress.own_ok == 3 and progress.own_failed == 0
    assert progress.top_budget() == 1.0
    assert progress.best(1.0, 2) == [((-1, 0, 0), 0.05), ((0, 0, 1), 0.1)]
    in_flight = {((0, 0, 2), 1.0): {}, ((0, 0, 2), 3.0): {}}
    counts = progress.counts(in_flight)
    assert counts[(0, 1.0)] == [2, 0, 1] and counts[(0, 3.0)] == [0, 0, 1]
    assert progress.own_outcomes(in_flight) == (2, 0, 0)
    stages = stage_statuses(counts, progress.plans, {})
    assert [(s.stage, s.budget, s.planned, s.done, s.running, s.pending) for s in stages] == [
        (0, 1.0, 3, 2, 1, 0), (1, 3.0, 1, 0, 1, 0)]


def test_worker_activity_and_times():
    activity, times = WorkerActivity(), RunTimes()
    activity.add_event(ev(0, "worker_joined", worker="bandster.run_x.worker.hostA.12.0"))
    activity.add_event(ev(1, "dispatch", config_id=[0, 0, 0], budget=1, worker="bandster.run_x.worker.hostA.12.0"))
    first = run((0, 0, 0), 1, start=1.5, stop=3.5, worker="bandster.run_x.worker.hostA.12.0", submitted=1.0)
    second = run((0, 0, 1), 1, start=4.5, stop=5.0, worker="bandster.run_x.worker.hostA.12.0", submitted=4.0)
    for r in (first, second):
        activity.add_run(r)
        times.add_run(r)
    activity.add_event(ev(10, "worker_left", worker="bandster.run_x.worker.hostA.12.0", reason="done"))
    (w,) = activity.statuses({}, running=True)
    assert (w.short_name, w.host, w.state, w.reason, w.runs, w.busy) == ("hostA.12.0", "hostA", "left", "done", 2,
                                                                         2.5)
    assert worker_time([w], run_start=0.0, end_time=20.0) == 10.0
    assert times.compute_time == 2.5 and times.latency() == 0.5 and times.gap() == 1.0
    # a re-run replaces the earlier run's time and counts
    again = run((0, 0, 1), 1, start=6.0, stop=6.25, worker="bandster.run_x.worker.hostA.12.0", submitted=5.5)
    activity.add_run(again)
    times.add_run(again)
    assert activity.statuses({}, running=True)[0].busy == 2.25 and times.compute_time == 2.25
    # not running: idle or busy workers are gone; a job in flight makes its worker busy
    other = WorkerActivity()
    other.add_event(ev(0, "worker_joined", worker="w2"))
    key = ((0, 0, 2), 1.0)
    assert other.statuses({key: {"worker": "w2"}}, running=True)[0].state == "busy"
    assert other.statuses({key: {"worker": "w2"}}, running=False)[0].state == "gone"


def test_remaining_work():
    stages = stage_statuses({(0, 1.0): [1, 0, 1]}, {0: ([4], [1.0])}, {})
    times = RunTimes()
    times.add_run(run((0, 0, 0), 1, start=0.0, stop=2.0))
    left = remaining_work("running", stages, {1: ([2], [3.0])}, 2, None, 2.0, 1.0, 1, times, 2)
    assert left.runs == 2 + 2 + 1 and left.seconds == pytest.approx((2 * 1 + 2 * 3 + 0.5) * 2.0 / 2)
    assert remaining_work("finished", stages, {}, 1, None, 0, 0, 0, times, 1) == (0, None,
                                                                                  "none, the run has finished")
    asynchronous = remaining_work("running", [], {}, None, 10.0, 4.0, 0.0, 0, times, 1)
    assert asynchronous.runs is None and asynchronous.seconds == pytest.approx(6 * 2.0)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    return make_run(BOHB, str(tmp_path_factory.mktemp("bohb")), f"sp{os.getpid()}_{next(_ids)}", n_iterations=3)


def test_fed_in_pieces_equals_read_status(finished_run):
    """The builder fed events and runs interleaved in small pieces (as the dashboard does) ends where read_status,
    fed everything at once, does."""
    whole = read_status(finished_run, now=2e9, top=7).to_dict()
    events = read_events(finished_run)
    result = logged_results_to_HBS_result(finished_run)
    hb = dict(result.HB_config)
    runs = [run_record(r, hb["time_ref"]) for r in result.get_all_runs()]
    builder = StatusBuilder()
    for k in range(max(len(events), len(runs))):
        for event in events[k * 3:(k + 1) * 3]:
            builder.add_event(event)
        if k < len(runs):
            builder.add_run(runs[k])
    pieces = builder.status(finished_run, read_manifest(finished_run), hb, live=False, now=2e9, top=7,
                            config_of=lambda cid: dict(result[cid].config)).to_dict()
    assert pieces == whole
    assert whole["state"] == "finished" and whole["runs"]["ok"] > 0 and whole["runs"]["failed"] > 0
