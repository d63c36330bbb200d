"""SuccessiveHalving / SuccessiveResampling driven by hand with fake jobs (no network)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bandster.core.base_iteration import BaseIteration, Datum
from bandster.core.job import Job
from bandster.optimizers.iterations import SuccessiveHalving, SuccessiveResampling


class CountingSampler:
    """config_sampler returning numpy-typed values, numbered in call order."""

    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, budget):
        n = len(self.calls)
        self.calls.append(budget)
        config = {"x": np.float64(n / 10), "n": np.int64(n), "opt": np.str_("sgd"), "flag": np.bool_(n % 2)}
        return config, {"model_based_pick": np.bool_(False), "draw": np.int64(n)}


class RecordingLogger:
    def __init__(self):
        self.configs: list[tuple] = []

    def new_config(self, config_id, config, config_info):
        self.configs.append((config_id, config, config_info))


def make_sh(num_configs=(9, 3, 1), budgets=(1.0, 3.0, 9.0), cls=SuccessiveHalving, **kwargs):
    sampler = CountingSampler()
    rlog = RecordingLogger()
    it = cls(0, list(num_configs), list(budgets), sampler, result_logger=rlog, **kwargs)
    return it, sampler, rlog


def finish(it, run, result, exception=None, worker="w1", attempt=1):
    """Build the Job a dispatcher would hand back for ``run`` and register it."""
    config_id, config, budget = run
    job = Job(config_id, config=config, budget=budget, working_directory=".")
    job.timestamps = {"submitted": 1.0, "started": 2.0, "finished": 3.0}
    job.result = result
    job.exception = exception
    job.worker_name = worker
    job.attempt = attempt
    it.register_result(job)
    return job


def ok(loss):
    return {"loss": loss, "info": {"note": "fine"}}


def take_all(it):
    """Call get_next_run until it returns None; return the runs."""
    runs = []
    while (run := it.get_next_run()) is not None:
        runs.append(run)
    return runs


def test_full_bracket_promotes_exactly_the_best():
    it, sampler, _ = make_sh()
    stage0 = take_all(it)
    assert [r[0] for r in stage0] == [(0, 0, k) for k in range(9)]
    assert all(r[2] == 1.0 for r in stage0)
    assert sampler.calls == [1.0] * 9
    assert it.num_running == 9
    assert it.get_next_run() is None  # stage barrier: 9 outstanding

    losses = [5.0, 3.0, 8.0, 1.0, 9.0, 2.0, 7.0, 4.0, 6.0]
    order = [8, 2, 0, 7, 4, 6, 1, 3, 5]  # results arrive out of order
    for k in order[:-1]:
        finish(it, stage0[k], ok(losses[k]))
        assert it.get_next_run() is None  # still waiting for the last one
    assert it.num_running == 1
    assert it.stage == 0
    finish(it, stage0[order[-1]], ok(losses[order[-1]]))
    assert it.num_running == 0
    assert all(d.status == "REVIEW" for d in it.data.values())

    # best three are k=3 (1.0), k=5 (2.0), k=1 (3.0); handed out in sampling order
    stage1 = take_all(it)
    assert [r[0] for r in stage1] == [(0, 0, 1), (0, 0, 3), (0, 0, 5)]
    assert all(r[2] == 3.0 for r in stage1)
    assert it.stage == 1
    assert it.actual_num_configs == [9, 3, 0]
    assert sampler.calls == [1.0] * 9  # no fresh sample needed
    terminated = {cid for cid, d in it.data.items() if d.status == "TERMINATED"}
    assert terminated == {(0, 0, k) for k in (0, 2, 4, 6, 7, 8)}
    assert it.get_next_run() is None

    for run, loss in zip(stage1, [0.5, 0.7, 0.2], strict=True):
        finish(it, run, ok(loss))
    stage2 = take_all(it)
    assert [(r[0], r[2]) for r in stage2] == [((0, 0, 5), 9.0)]
    assert it.data[(0, 0, 5)].config == {"x": 0.5, "n": 5, "opt": "sgd", "flag": True}
    finish(it, stage2[0], ok(0.1))

    assert it.get_next_run() is None
    assert it.is_finished
    assert not it.is_active()
    assert all(d.status == "COMPLETED" for d in it.data.values())
    winner = it.data[(0, 0, 5)]
    assert winner.results == {1.0: ok(2.0), 3.0: ok(0.2), 9.0: ok(0.1)}
    assert sorted(winner.time_stamps) == [1.0, 3.0, 9.0]
    assert winner.time_stamps[9.0] == {"submitted": 1.0, "started": 2.0, "finished": 3.0}
    assert winner.exceptions == {1.0: None, 3.0: None, 9.0: None}
    assert winner.extras[9.0] == {"worker": "w1", "attempt": 1, "status": "ok"}
    assert winner.budget == 9.0
    assert list(it.data[(0, 0, 0)].results) == [1.0]  # a loser ran only on the smallest budget


def test_ties_are_broken_by_sampling_order():
    it, _, _ = make_sh()
    runs = take_all(it)
    losses = [2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 0.5, 4.0, 1.0]
    for run, loss in zip(runs, losses, strict=True):
        finish(it, run, ok(loss))
    # 0.5 (k=6) then the first two of the five 1.0s in sampling order: k=1, k=2
    assert [r[0] for r in take_all(it)] == [(0, 0, 1), (0, 0, 2), (0, 0, 6)]


BAD_RESULTS = [
    None,
    "not a dict",
    ["loss", 1.0],
    {},
    {"loss": None},
    {"loss": "0.3"},
    {"loss": float("nan")},
    {"loss": float("inf")},
    {"loss": float("-inf")},
    {"loss": True},
    {"loss": [0.1]},
    {"loss": np.float64("nan")},
]


@pytest.mark.parametrize("bad", BAD_RESULTS, ids=repr)
def test_bad_results_are_crashed_never_raise_never_promoted(bad):
    it, _, _ = make_sh()
    runs = take_all(it)
    # the bad result gets the best "loss" slot; every other config is fine
    finish(it, runs[0], bad, exception="Traceback ...")
    for k, run in enumerate(runs[1:], start=1):
        finish(it, run, ok(float(k)))
    datum = it.data[(0, 0, 0)]
    assert datum.status == "CRASHED"
    assert datum.results[1.0] is bad  # stored as returned, for the record
    assert datum.exceptions[1.0] == "Traceback ..."
    assert datum.extras[1.0]["status"] == "failed"
    assert it.num_running == 0
    promoted = [r[0] for r in take_all(it)]
    assert promoted == [(0, 0, 1), (0, 0, 2), (0, 0, 3)]
    assert it.data[(0, 0, 0)].status == "TERMINATED"


def test_too_few_survivors_are_refilled_with_fresh_samples():
    it, sampler, rlog = make_sh()
    runs = take_all(it)
    for k, run in enumerate(runs):
        if k in (4, 7):
            finish(it, run, ok(float(10 - k)))
        else:
            finish(it, run, None if k % 2 else {"loss": float("nan")}, exception="boom")
    stage1 = take_all(it)
    # the two survivors first (sampling order), then one fresh config sampled at stage 1 on budget 3
    assert [r[0] for r in stage1] == [(0, 0, 4), (0, 0, 7), (0, 1, 2)]
    assert [r[2] for r in stage1] == [3.0, 3.0, 3.0]
    assert sampler.calls == [1.0] * 9 + [3.0]
    assert rlog.configs[-1][0] == (0, 1, 2)
    assert it.actual_num_configs == [9, 3, 0]
    assert it.data[(0, 1, 2)].config["n"] == 9  # the tenth draw

    # all of stage 1 crashes: the last stage is filled by a fresh sample (0, 2, 0) on budget 9
    for run in stage1:
        finish(it, run, {"loss": "bad"})
    stage2 = take_all(it)
    assert [(r[0], r[2]) for r in stage2] == [((0, 2, 0), 9.0)]
    assert sampler.calls[-1] == 9.0
    finish(it, stage2[0], ok(1.0))
    assert it.get_next_run() is None
    assert it.is_finished


def test_everything_crashes_in_first_stage():
    it, sampler, _ = make_sh()
    for run in take_all(it):
        finish(it, run, None, exception="worker died")
    stage1 = take_all(it)
    assert [r[0] for r in stage1] == [(0, 1, 0), (0, 1, 1), (0, 1, 2)]
    assert sampler.calls[9:] == [3.0, 3.0, 3.0]
    assert all(it.data[(0, 0, k)].status == "TERMINATED" for k in range(9))


def test_stage_barrier_hands_out_nothing_while_runs_outstanding():
    it, _, _ = make_sh(num_configs=(3, 1), budgets=(3.0, 9.0))
    a, b, c = take_all(it)
    assert it.num_pending() == 0
    finish(it, a, ok(1.0))
    finish(it, c, ok(2.0))
    for _ in range(3):
        assert it.get_next_run() is None
    assert it.stage == 0
    assert it.is_active()
    finish(it, b, ok(3.0))
    run = it.get_next_run()
    assert run[0] == (0, 0, 0) and run[2] == 9.0
    assert it.num_running == 1


def test_process_results_refuses_with_runs_outstanding():
    it, _, _ = make_sh(num_configs=(2, 1), budgets=(1.0, 2.0))
    run = it.get_next_run()
    with pytest.raises(RuntimeError, match="outstanding"):
        it.process_results()
    finish(it, run, ok(1.0))
    it.add_configuration({"x": 1.0})
    assert it.num_pending() == 1
    with pytest.raises(RuntimeError, match="queued"):
        it.process_results()


def test_result_logger_gets_builtins_and_ids_are_int_tuples():
    it, _, rlog = make_sh()
    runs = take_all(it)
    assert len(rlog.configs) == 9
    for k, (config_id, config, info) in enumerate(rlog.configs):
        assert config_id == (0, 0, k)
        assert type(config_id) is tuple and all(type(x) is int for x in config_id)
        assert config == {"x": k / 10, "n": k, "opt": "sgd", "flag": bool(k % 2)}
        assert [type(v) for v in config.values()] == [float, int, str, bool]
        assert info == {"model_based_pick": False, "draw": k}
        assert type(info["model_based_pick"]) is bool and type(info["draw"]) is int
    # the run handed out carries the same builtin config
    assert runs[3][1] == rlog.configs[3][1]
    assert type(runs[3][2]) is float


def test_add_configuration_explicit_and_info_default():
    it = SuccessiveHalving(4, [2], [5.0], config_sampler=None)
    cid = it.add_configuration({"a": np.int32(3)})
    assert cid == (4, 0, 0)
    assert it.data[cid].config == {"a": 3}
    assert it.data[cid].config_info == {}
    assert isinstance(it.data[cid], Datum)
    assert it.data[cid].status == "QUEUED" and it.data[cid].budget == 5.0
    assert it.num_pending() == 1
    assert it.get_next_run() == ((4, 0, 0), {"a": 3}, 5.0)
    with pytest.raises(RuntimeError, match="config_sampler"):
        it.get_next_run()  # a second slot, but nothing to sample with
    with pytest.raises(TypeError, match="dict"):
        it.add_configuration([1, 2])


def test_add_configuration_accepts_configspace_configuration():
    from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float

    cs = ConfigurationSpace(seed=3)
    cs.add([Categorical("opt", ["sgd", "adam"]), Float("mom", (0.0, 1.0))])
    cs.add(EqualsCondition(cs["mom"], cs["opt"], "sgd"))
    config = cs.get_default_configuration()
    it = SuccessiveHalving(0, [1], [1.0], config_sampler=None)
    cid = it.add_configuration(config)
    assert it.data[cid].config == {"opt": "sgd", "mom": 0.5}


def test_sanity_checks():
    it, _, _ = make_sh(num_configs=(2, 1), budgets=(1.0, 2.0))
    run_a, run_b = take_all(it)
    finish(it, run_a, ok(1.0))
    with pytest.raises(ValueError, match="not RUNNING"):
        finish(it, run_a, ok(1.0))  # a duplicate result
    with pytest.raises(ValueError, match="budget"):
        finish(it, (run_b[0], run_b[1], 2.0), ok(1.0))
    with pytest.raises(ValueError, match="does not know"):
        finish(it, ((0, 0, 7), {}, 1.0), ok(1.0))
    with pytest.raises(ValueError, match="does not know"):
        finish(it, ((1, 0, 0), {}, 1.0), ok(1.0))
    assert it.num_running == 1  # the failed registrations changed nothing
    assert it.data[run_b[0]].status == "RUNNING"

    # skipping the checks stores the result but does not count a run that was not handed out
    job = Job(run_a[0], config=run_a[1], budget=1.0, working_directory=".")
    job.result = ok(0.5)
    it.register_result(job, skip_sanity_checks=True)
    assert it.data[run_a[0]].results[1.0] == ok(0.5)
    assert it.num_running == 1


def test_extras_record_worker_and_attempt():
    it, _, _ = make_sh(num_configs=(1,), budgets=(1.0,))
    run = it.get_next_run()
    finish(it, run, ok(0.25), worker="hostA.123", attempt=2)
    assert it.data[run[0]].extras[1.0] == {"worker": "hostA.123", "attempt": 2, "status": "ok"}
    assert it.get_next_run() is None and it.is_finished


def test_base_iteration_is_abstract_and_validates():
    it = BaseIteration(0, [2, 1], [1.0, 2.0], CountingSampler())
    runs = take_all(it)
    for run in runs:
        finish(it, run, ok(1.0))
    with pytest.raises(NotImplementedError):
        it.get_next_run()
    with pytest.raises(ValueError, match="same length"):
        BaseIteration(0, [2, 1], [1.0], CountingSampler())
    with pytest.raises(ValueError, match="integers >= 1"):
        BaseIteration(0, [2, 0], [1.0, 2.0], CountingSampler())


def test_finished_iteration_rejects_new_configs():
    it, _, _ = make_sh(num_configs=(1,), budgets=(1.0,))
    finish(it, it.get_next_run(), ok(1.0))
    assert it.get_next_run() is None
    with pytest.raises(RuntimeError, match="finished"):
        it.add_configuration({"x": 1})


# ---------------------------------------------------------------- SuccessiveResampling


def test_resampling_promotes_a_fraction_and_resamples_the_rest():
    it, sampler, _ = make_sh(cls=SuccessiveResampling, resampling_rate=0.5, min_samples_advance=1)
    runs = take_all(it)
    for run, loss in zip(runs, [5, 3, 8, 1, 9, 2, 7, 4, 6], strict=True):
        finish(it, run, ok(float(loss)))
    # stage 1 has 3 slots: floor(3 * 0.5) = 1 promoted (the best, k=3), 2 fresh samples on budget 3
    stage1 = take_all(it)
    assert [r[0] for r in stage1] == [(0, 0, 3), (0, 1, 1), (0, 1, 2)]
    assert sampler.calls[9:] == [3.0, 3.0]
    for run, loss in zip(stage1, [0.3, 0.1, 0.2], strict=True):
        finish(it, run, ok(loss))
    # stage 2 has 1 slot: max(1, floor(0.5)) = 1 promoted, the fresh (0, 1, 1) with 0.1
    assert [r[0] for r in take_all(it)] == [(0, 1, 1)]


@pytest.mark.parametrize(
    ("rate", "min_adv", "expected"),
    [
        (0.0, 1, [9, 3, 1]),  # plain successive halving
        (0.5, 1, [9, 1, 1]),
        (1.0, 0, [9, 0, 0]),  # everything resampled
        (1.0, 1, [9, 1, 1]),
        (0.5, 5, [9, 3, 1]),  # capped at the stage size
        (2 / 3, 0, [9, 1, 0]),
    ],
)
def test_resampling_counts(rate, min_adv, expected):
    it, _, _ = make_sh(cls=SuccessiveResampling, resampling_rate=rate, min_samples_advance=min_adv)
    assert [9] + [it.num_to_advance(stage) for stage in (1, 2)] == expected


def test_resampling_count_is_robust_to_float_error():
    it = SuccessiveResampling(
        0, [20, 10, 1], [1.0, 3.0, 9.0], CountingSampler(), resampling_rate=0.9, min_samples_advance=0
    )
    assert 10 * (1 - 0.9) < 1  # 0.9999999999999998 in floats
    assert it.num_to_advance(1) == 1


def test_resampling_all_fresh_when_rate_is_one():
    it, sampler, _ = make_sh(cls=SuccessiveResampling, resampling_rate=1.0, min_samples_advance=0)
    for run in take_all(it):
        finish(it, run, ok(1.0))
    assert [r[0] for r in take_all(it)] == [(0, 1, 0), (0, 1, 1), (0, 1, 2)]
    assert all(it.data[(0, 0, k)].status == "TERMINATED" for k in range(9))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"resampling_rate": -0.1}, "resampling_rate"),
        ({"resampling_rate": 1.5}, "resampling_rate"),
        ({"min_samples_advance": -1}, "min_samples_advance"),
        ({"min_samples_advance": 1.5}, "min_samples_advance"),
    ],
)
def test_resampling_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SuccessiveResampling(0, [9, 3, 1], [1.0, 3.0, 9.0], CountingSampler(), **kwargs)


def test_crashed_configs_count_as_inf_in_resampling():
    it, _, _ = make_sh(cls=SuccessiveResampling, resampling_rate=0.0)
    runs = take_all(it)
    for k, run in enumerate(runs):
        finish(it, run, ok(float(k)) if k == 8 else {"loss": math.inf})
    # only one finite loss; two fresh samples fill the stage
    assert [r[0] for r in take_all(it)] == [(0, 0, 8), (0, 1, 1), (0, 1, 2)]


def test_warm_start_iteration_imports_an_earlier_result(tmp_path):
    """Issue 11, item 18: HpBandSter's ``bandster.core.base_iteration.WarmStartIteration``, failed runs included."""
    from bandster.core.base_iteration import WarmStartIteration
    from bandster.core.journal import Journal
    from bandster.core.result import logged_results_to_HBS_result

    directory = str(tmp_path / "old")
    with Journal(directory) as journal:
        journal.write_manifest({"HB_config": {"time_ref": 100.0, "max_budget": 3.0, "budgets": [1.0, 3.0]}})
        for n, (budget, loss) in enumerate([(1.0, 0.5), (3.0, 0.25), (1.0, None)]):
            job = Job((0, 0, n), config={"x": n / 10}, budget=budget)
            job.timestamps = {"submitted": 100.0 + n, "started": 100.5 + n, "finished": 101.0 + n}
            job.result = None if loss is None else {"loss": loss, "info": {"n": n}}
            job.exception = "ValueError: boom" if loss is None else None
            journal.new_config(job.id, job.kwargs["config"], {"model_based_pick": False})
            journal(job)

    class Recorder:
        def __init__(self):
            self.seen = []

        def new_result(self, job, update_model=True):
            self.seen.append((job.id, job.kwargs["budget"], job.result, update_model))

    for source in (directory, logged_results_to_HBS_result(directory)):  # a journal directory or a Result
        recorder = Recorder()
        it = WarmStartIteration(source, recorder)
        assert it.HPB_iter == -1 and it.is_finished and it.get_next_run() is None
        assert sorted(it.data) == [(-1, 0, 0), (-1, 0, 1), (-1, 0, 2)]
        assert it.data[(-1, 0, 1)].config == {"x": 0.1}
        assert it.data[(-1, 0, 1)].config_info == {"model_based_pick": False, "warmstart": True,
                                                   "warmstart_id": [0, 0, 1]}
        assert it.data[(-1, 0, 2)].results == {1.0: None} and "boom" in it.data[(-1, 0, 2)].exceptions[1.0]
        # every run reaches the model, in finishing order, refit once at the end
        assert [(s[0], s[1], s[3]) for s in recorder.seen] == [((-1, 0, 0), 1.0, False), ((-1, 0, 1), 3.0, False),
                                                              ((-1, 0, 2), 1.0, True)]
        # the last run finishes at 0; fix_timestamps moves the runs before a new run's start
        assert it.data[(-1, 0, 2)].time_stamps[1.0]["finished"] == 0.0
        it.fix_timestamps(50.0)
        assert it.data[(-1, 0, 0)].time_stamps[1.0] == {"submitted": 47.0, "started": 47.5, "finished": 48.0}
