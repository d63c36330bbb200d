"""bandster.visualization.pbt: the data on a known PBT run, then the drawings."""

import ConfigSpace as CS
import pytest
from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.backends import SimulatedBackend
from bandster.optimizers import PBT
from bandster.visualization.pbt import best_member, get_pbt_population_info, get_pbt_schedule_info


def objective(config, budget, previous_budget=None):
    # the loss depends only on the budget reached and the lr: a larger lr is better, so members copy the largest
    return {"loss": 1.0 / (1.0 + config["lr"] * budget), "cost": budget - (previous_budget or 0.0)}


@pytest.fixture(scope="module")
def pbt_result(tmp_path_factory):
    space = CS.ConfigurationSpace({"lr": CS.Float("lr", (0.01, 0.5), log=True), "opt": ["sgd", "adam"]})
    pbt = PBT(space, population_size=2, perturbation_interval=1, max_budget=3, quantile_fraction=0.5,
              resample_probability=0.0, perturbation_factors=(2.0,), synchronous=True, seed=0,
              hyperparam_mutations={"lr": None}, points_to_evaluate=[{"lr": 0.02, "opt": "sgd"},
                                                                     {"lr": 0.05, "opt": "adam"}],
              run_id="vispbt", working_directory=str(tmp_path_factory.mktemp("pbt")),
              backend=SimulatedBackend(2, objective))
    try:
        return pbt.run(progress=False)
    finally:
        pbt.shutdown()


def test_schedule_data(pbt_result):
    # member 0 copies member 1 (lr 0.05 -> 0.1) after interval 1; member 1 copies member 0 (0.1 -> 0.2) after 2
    assert best_member(pbt_result) == 1
    info = get_pbt_schedule_info(pbt_result)
    assert info["member"] == 1
    lr = info["hyperparameters"]["lr"]
    assert lr["numeric"] and lr["starts"].tolist() == [0.0, 1.0, 2.0] and lr["ends"].tolist() == [1.0, 2.0, 3.0]
    assert lr["values"].tolist() == pytest.approx([0.05, 0.1, 0.2])
    opt = info["hyperparameters"]["opt"]
    assert not opt["numeric"] and opt["values"] == ["adam"]  # not mutated: one piece
    assert info["exploits"] == {"budget": [1.0, 2.0], "source_member": [1, 0]}
    assert get_pbt_schedule_info(pbt_result, member=0)["hyperparameters"]["lr"]["values"].tolist() == \
        pytest.approx([0.05, 0.1])


def test_population_data(pbt_result):
    info = get_pbt_population_info(pbt_result)
    assert sorted(info["members"]) == [0, 1]
    assert info["members"][0]["budgets"].tolist() == [1.0, 2.0, 3.0]
    assert info["members"][0]["losses"][0] == pytest.approx(1 / 1.02)
    ex = info["exploits"]
    assert ex["member"] == [0, 1] and ex["budget"] == [1.0, 2.0] and ex["source_member"] == [1, 0]
    assert ex["loss"][0] == pytest.approx(1 / 1.05) and ex["kind"] == ["exploit", "exploit"]


def test_no_pbt_run(known):
    assert get_pbt_schedule_info(known)["member"] is None
    assert get_pbt_population_info(known)["members"] == {}


def test_figures(pbt_result, known, tmp_path, shows):
    fig, axes = vis.pbt_schedule(pbt_result)
    assert [ax.get_ylabel() for ax in axes] == ["lr", "opt"]
    check_png(fig, tmp_path / "schedule.png")
    fig, ax = vis.pbt_population(pbt_result)
    check_png(fig, tmp_path / "population.png")
    fig, axes = vis.pbt_schedule(known)
    assert [t.get_text() for t in axes[0].texts] == ["no PBT member in this run"]
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert shows == []
