"""metric= and mode= on every optimizer class: one conversion (bandster.core.metric.Metric, applied by the runner)
for every backend, the metric checked by the worker (the job message names it), reports in the metric's units,
run.json recording it."""

import json
import os

import ConfigSpace as CS
import pytest

from bandster.backends import SimulatedBackend, ThreadBackend
from bandster.core.metric import Metric
from bandster.core.protocol import check_result
from bandster.core.worker import Worker
from bandster.optimizers import ASHA, BOHB, HyperBand, RandomSearch


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def accuracy(config, budget):
    return {"accuracy": 1 - abs(config["x"] - 0.3) / budget, "info": {"budget": budget}, "epochs": budget}


def test_metric_converts_and_shows_as_returned():
    m = Metric("accuracy", "max")
    assert m.to_result({"accuracy": 0.75, "info": None, "loss": 0.1}) == {
        "loss": -0.75, "info": {"loss": 0.1, "accuracy": 0.75}}
    assert m.to_result({"loss": 0.5, "info": {}, "stopped_at": 3}) == {  # a stopped job: its reported value
        "loss": -0.5, "info": {"stopped_at": 3, "accuracy": 0.5}}
    assert m.shown(-0.75) == 0.75 and m.shown(None) is None and m.to_loss(0.5) == -0.5
    assert Metric("error").to_result({"error": 0.2, "info": {}}) == {"loss": 0.2, "info": {"error": 0.2}}
    assert Metric.from_manifest({"metric": {"name": "accuracy", "mode": "max"}}) == m
    assert Metric.from_manifest({}) == Metric() and Metric().label == "loss" and m.label == "accuracy (max)"
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        Metric("accuracy", "maximize")
    with pytest.raises(ValueError, match="metric must be a non-empty string"):
        Metric("")


def test_the_worker_checks_the_metric_it_is_sent():
    assert check_result({"accuracy": 0.5}, "accuracy") == ({"accuracy": 0.5, "info": None}, None)
    assert "without 'accuracy'" in check_result({"loss": 0.5}, "accuracy")[1]
    assert "non-numeric 'accuracy'" in check_result({"accuracy": "high"}, "accuracy")[1]
    assert "without 'loss'" in check_result({"accuracy": 0.5})[1]  # the default is unchanged


@pytest.mark.parametrize("cls", [RandomSearch, HyperBand, BOHB, ASHA])
def test_every_optimizer_maximises_a_metric(cls, tmp_path, run_id):
    kwargs = {} if cls is RandomSearch else {"eta": 3}
    opt = cls(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, seed=0, working_directory=str(tmp_path),
              backend=ThreadBackend(1, accuracy), metric="accuracy", mode="max", **kwargs)
    try:
        result = opt.run(n_iterations=1, progress=False)
    finally:
        opt.shutdown()
    runs = result.get_all_runs()
    assert runs and all(r.error_logs is None for r in runs)
    assert all(r.loss == -r.info["accuracy"] and r.info["epochs"] == r.budget == r.info["budget"] for r in runs)
    incumbent = result.get_id2config_mapping()[result.get_incumbent_id()]["config"]
    top = [r for r in runs if r.budget == max(x.budget for x in runs)]
    assert abs(incumbent["x"] - 0.3) == pytest.approx(min(abs(result.get_id2config_mapping()[r.config_id]["config"]
                                                               ["x"] - 0.3) for r in top))
    with open(os.path.join(opt.journal.directory, "run.json")) as fh:
        assert json.load(fh)["metric"] == {"name": "accuracy", "mode": "max"}


class AccuracyWorker(Worker):
    def compute(self, config, budget, **kwargs):
        if config["x"] > 0.8:
            return {"loss": 0.1}  # no accuracy: a failed run, saying so
        return {"accuracy": 1 - config["x"], "info": {}}


def test_pyro_workers_get_the_metric_in_the_job_message(nameserver, run_id, tmp_path):
    worker = AccuracyWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    worker.run(background=True)
    rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=nameserver.host,
                      nameserver_port=nameserver.port, min_budget=1, max_budget=1, working_directory=str(tmp_path),
                      metric="accuracy", mode="max")
    try:
        result = rs.run(n_iterations=12, progress=False)
    finally:
        rs.shutdown(shutdown_workers=True)
    id2config = result.get_id2config_mapping()
    for r in result.get_all_runs():
        x = id2config[r.config_id]["config"]["x"]
        if x > 0.8:
            assert r.loss is None and "compute() returned a dict without 'accuracy'" in r.error_logs
        else:
            assert r.loss == pytest.approx(x - 1) and r.info["accuracy"] == pytest.approx(1 - x)


def test_reports_are_in_the_metric_s_units(tmp_path, run_id):
    def reporting(config, budget):  # a generator objective of the simulated backend: (step, value, cost)
        for step in range(1, int(budget) + 1):
            yield step, 1 - abs(config["x"] - 0.3) - 1 / step, 1.0
        return {"accuracy": 1 - abs(config["x"] - 0.3) - 1 / budget, "info": {}}

    opt = ASHA(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, seed=0, type="stopping",
               working_directory=str(tmp_path), backend=SimulatedBackend(1, reporting), metric="accuracy",
               mode="max")
    try:
        result = opt.run(n_iterations=1, progress=False)
    finally:
        opt.shutdown()
    runs = result.get_all_runs()
    assert runs and all(r.error_logs is None and r.loss == -r.info["accuracy"] for r in runs)
    # the scheduler compared losses: the best accuracies went on (were not stopped at the first rung)
    states = opt.scheduler.jobs
    id2config = result.get_id2config_mapping()
    survivors = [abs(id2config[k]["config"]["x"] - 0.3) for k, s in states.items() if s.stopped_at is None]
    stopped = [abs(id2config[k]["config"]["x"] - 0.3) for k, s in states.items() if s.stopped_at == 1]
    assert survivors and stopped and min(survivors) <= min(stopped)


def test_status_report_and_plots_show_the_metric_as_returned(tmp_path, run_id):
    from bandster.analysis.report import render_report
    from bandster.analysis.status import read_status
    from bandster.visualization.data import get_incumbent_info, get_losses_info

    opt = HyperBand(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, seed=0,
                    working_directory=str(tmp_path), backend=ThreadBackend(1, accuracy), metric="accuracy",
                    mode="max")
    try:
        result = opt.run(n_iterations=1, progress=False)
    finally:
        opt.shutdown()
    best = -min(r.loss for r in result.get_all_runs() if r.budget == 9.0)
    status = read_status(opt.journal.directory)
    text = status.format()
    assert "accuracy (max)" in text and "highest accuracy on max_budget 9" in text
    assert f"accuracy {best:.6g}" in text and status.to_dict()["incumbent_metric"] == pytest.approx(best)
    html = render_report(opt.journal.directory, interactive=False)
    assert "highest accuracy" in html and f"{best:.6g}" in html
    info = get_losses_info(result)
    assert info["label"] == "accuracy (max)"
    assert all((entry["losses"] > 0).all() and entry["best_so_far"][-1] == entry["losses"].max()
               for entry in info["per_budget"].values())
    trajectory = get_incumbent_info(result)
    assert trajectory["label"] == "incumbent's accuracy (max)" and trajectory["values"][-1] == pytest.approx(best)
