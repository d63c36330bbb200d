"""End to end on the SimulatedBackend with generator objectives: stopping ASHA, asynchronous Hyperband and BOHB
with stopping, MedianStopping and PASHA; decisions checked against a hand computation, determinism with a seed
(bandster/optimizers/stopping.py and the type="stopping" of bandster/optimizers/asynchronous.py)."""

import collections

import ConfigSpace as CS
import pytest

from bandster.backends import SimulatedBackend
from bandster.optimizers import ASHA, PASHA, AsyncBOHB, AsyncHyperBand, MedianStopping


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def curve(config, budget, previous_budget=None):
    """loss = x + 1 / step at every step (1 virtual second each) from previous_budget (or 0) to budget."""
    start = int(previous_budget or 0)
    for step in range(start + 1, int(budget) + 1):
        yield step, config["x"] + 1 / step, 1.0
    return {"loss": config["x"] + 1 / budget, "info": {}}


def runs_by_config(result):
    id2conf = result.get_id2config_mapping()
    return {round(id2conf[r.config_id]["config"]["x"], 6): r for r in result.get_all_runs()}


def test_stopping_asha_by_hand(tmp_path):
    # levels 1, 3 (max 9, eta 3); one worker: the jobs run one after another, x = 0.5, 0.2, 0.9, 0.3, 0.1.
    # x=.5: rung 1 [1.5] on, rung 3 [.833] on, completes (9). x=.2: rung 1 [1.5, 1.2] keep 1: on; rung 3 on;
    # completes (18). x=.9: rung 1 n=3 keep 1, 2 better: stop at 1 (19). x=.3: rung 1 n=4 keep 2, 1 better: on;
    # rung 3 [.833, .533, .633] keep 1, 1 better: stop at 3 (22). x=.1: rung 1 n=5 keep 2, 0 better; rung 3 n=4
    # keep 2, 0 better: completes (31). The limit (27, one Hyperband iteration on 1, 3, 9) is passed: done.
    points = [{"x": x} for x in (0.5, 0.2, 0.9, 0.3, 0.1, 0.05)]
    opt = ASHA(space(), min_budget=1, max_budget=9, eta=3, type="stopping", seed=0, run_id="s",
               working_directory=str(tmp_path), backend=SimulatedBackend(1, curve), points_to_evaluate=points)
    result = opt.run(n_iterations=1, progress=False)
    runs = runs_by_config(result)
    assert sorted(runs) == [0.1, 0.2, 0.3, 0.5, 0.9]
    assert runs[0.9].loss == pytest.approx(1.9) and runs[0.3].loss == pytest.approx(0.3 + 1 / 3)
    assert runs[0.5].loss == pytest.approx(0.5 + 1 / 9) and runs[0.1].loss == pytest.approx(0.1 + 1 / 9)
    # every job is handed max_budget; a stopped one is recorded at the step it was stopped at, status "stopped"
    assert {x: (r.budget, r.status, r.stopped_at) for x, r in runs.items()} == {
        0.5: (9.0, "ok", None), 0.2: (9.0, "ok", None), 0.9: (1.0, "stopped", 1.0), 0.3: (3.0, "stopped", 3.0),
        0.1: (9.0, "ok", None)}
    stopped = {x: s.stopped_at for x, s in
               ((round(st.config["x"], 6), st) for st in opt.scheduler.jobs.values())}
    assert stopped == {0.5: None, 0.2: None, 0.9: 1.0, 0.3: 3.0, 0.1: None}
    assert opt.scheduler.consumed == 31.0
    # the virtual clock: one second per step, one worker
    assert max(r.time_stamps["finished"] for r in result.get_all_runs()) == pytest.approx(31.0)
    opt.shutdown()


def test_max_budget_spent_counts_consumed_steps(tmp_path):
    points = [{"x": x} for x in (0.5, 0.2, 0.9, 0.3, 0.1, 0.05)]
    opt = ASHA(space(), min_budget=1, max_budget=9, eta=3, type="stopping", seed=0, run_id="s",
               working_directory=str(tmp_path), backend=SimulatedBackend(1, curve), points_to_evaluate=points)
    # 9 + 9 + 1 = 19 consumed after three jobs; each job is charged 9 while it runs: the fourth starts at 19 < 20,
    # is stopped at 3 (22 >= 20): no fifth
    result = opt.run(n_iterations=100, max_budget_spent=20, progress=False)
    assert sorted(runs_by_config(result)) == [0.2, 0.3, 0.5, 0.9]
    assert opt.scheduler.consumed == 22.0
    opt.shutdown()


def test_median_stopping_by_hand(tmp_path):
    # grace 1, 2 peers needed, max 4, one worker; x = .5, .2, .9, .3. x=.5, x=.2 complete (too few peers).
    # x=.9 at step 1: peers' averages at 1: 1.5, 1.2 -> median 1.35 < 1.9: stop. x=.3: step 1 median of 1.5,
    # 1.2, 1.9 = 1.5 > 1.3; step 2: peers .5 and .2, averages 1.25, .95 -> 1.1 > .8; step 3: 1.111, .811 ->
    # .961 > .633; step 4: 1.0417, .7583 -> .9 > .55: completes.
    points = [{"x": x} for x in (0.5, 0.2, 0.9, 0.3)]
    opt = MedianStopping(space(), max_budget=4, grace_period=1, min_samples_required=2, seed=0, run_id="m",
                         working_directory=str(tmp_path), backend=SimulatedBackend(1, curve),
                         points_to_evaluate=points)
    result = opt.run(n_iterations=10, max_configs=4, progress=False)
    runs = runs_by_config(result)
    assert sorted(runs) == [0.2, 0.3, 0.5, 0.9]
    assert runs[0.9].loss == pytest.approx(1.9) and runs[0.3].loss == pytest.approx(0.55)
    assert opt.scheduler.consumed == 13.0
    opt.shutdown()


def pasha_objective(config, budget, previous_budget=None):
    return {"loss": config["x"] + 1 / budget, "info": {}, "cost": budget - (previous_budget or 0)}


def test_pasha_stays_low_when_rankings_agree(tmp_path):
    # loss = x + 1 / budget: every budget ranks the configurations alike, so the top stays at the second rung
    opt = PASHA(space(), min_budget=1, max_budget=27, eta=3, seed=0, run_id="p", working_directory=str(tmp_path),
                backend=SimulatedBackend(4, pasha_objective))
    result = opt.run(n_iterations=2, progress=False)
    budgets = collections.Counter(r.budget for r in result.get_all_runs())
    assert set(budgets) == {1.0, 3.0} and opt.scheduler.max_budget_now == 3.0
    promoted = [r for r in result.get_all_runs() if r.budget == 3.0]
    assert promoted
    opt.shutdown()


def swapping_objective(config, budget, previous_budget=None):
    # the order of configurations flips between budgets 1 and 3 and flips back at 9
    x = config["x"]
    loss = {1.0: x, 3.0: 1 - x, 9.0: x, 27.0: x}[float(budget)]
    return {"loss": loss, "info": {}, "cost": budget - (previous_budget or 0)}


def test_pasha_grows_when_rankings_swap(tmp_path):
    opt = PASHA(space(), min_budget=1, max_budget=27, eta=3, seed=0, run_id="p", working_directory=str(tmp_path),
                backend=SimulatedBackend(1, swapping_objective))
    result = opt.run(n_iterations=3, progress=False)
    assert opt.scheduler.max_budget_now > 3.0
    assert max(r.budget for r in result.get_all_runs()) > 3.0
    opt.shutdown()


def test_pasha_resumes_with_the_top_budget_it_had(tmp_path):
    def make(start_time, resume):
        return PASHA(space(), min_budget=1, max_budget=27, eta=3, seed=0, run_id="p", working_directory=str(tmp_path),
                     backend=SimulatedBackend(1, swapping_objective, start_time=start_time), resume=resume)

    opt = make(0.0, False)
    result = opt.run(n_iterations=3, progress=False)
    top, epsilon = opt.scheduler.max_budget_now, opt.scheduler.schedule.epsilon
    opt.shutdown()
    assert top > 3.0
    again = make(max(r.time_stamps["finished"] for r in result.get_all_runs()), True)
    again.run(n_iterations=3, progress=False)  # the same grant: the replay, and nothing left to run
    assert (again.scheduler.max_budget_now, again.scheduler.schedule.epsilon) == (top, epsilon)
    again.shutdown()


@pytest.mark.parametrize("make", [
    lambda **kw: ASHA(type="stopping", **kw),
    lambda **kw: AsyncHyperBand(type="stopping", **kw),
    lambda **kw: AsyncBOHB(type="stopping", min_points_in_model=3, **kw),
    lambda **kw: MedianStopping(**{k: v for k, v in kw.items() if k not in ("min_budget", "eta")}),
    lambda **kw: PASHA(**kw),
], ids=["ASHA", "AsyncHyperBand", "AsyncBOHB", "MedianStopping", "PASHA"])
def test_same_seed_same_result(make, tmp_path):
    outcomes = []
    for i in range(2):
        opt = make(configspace=space(), min_budget=1, max_budget=27, eta=3, seed=3, run_id="d",
                   working_directory=str(tmp_path / str(i)), backend=SimulatedBackend(4, curve))
        result = opt.run(n_iterations=2, progress=False)
        outcomes.append([(r.config_id, r.budget, r.loss, r.time_stamps["finished"]) for r in result.get_all_runs()])
        opt.shutdown()
    assert outcomes[0] == outcomes[1] and len(outcomes[0]) > 3


def test_bad_type_is_named():
    with pytest.raises(ValueError, match="type must be 'promotion'"):
        ASHA(space(), min_budget=1, max_budget=9, type="pasha", run_id="x", backend=SimulatedBackend(1, curve))
