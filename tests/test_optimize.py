"""bandster.optimize: every backend string, a Backend instance, dict spaces, float and dict returns, mode="max",
bad input recorded as failed runs, the optional arguments, and the errors for bad calls."""

import json
import os

import ConfigSpace as CS
import pytest

import bandster
from bandster.backends import ThreadBackend
from bandster.records.format import latest_journal_directory
from bandster.records.result import logged_results_to_HBS_result

LADDER = {"min_budget": 1, "max_budget": 9, "eta": 3}


def quadratic(config, budget):
    return (config["x"] - 0.3) ** 2 + 1.0 / budget


@pytest.fixture
def wd(tmp_path, no_thread_leak):
    return str(tmp_path)


@pytest.mark.parametrize("backend", ["threads", "processes", "pyro"])
def test_every_backend_string_runs_the_planned_jobs_and_journals_them(wd, backend):
    result = bandster.optimize(quadratic, {"x": (0.0, 1.0)}, "HyperBand", n_iterations=1, n_workers=2,
                               backend=backend, seed=0, working_directory=wd, progress=False, **LADDER)
    runs = result.get_all_runs()
    assert len(runs) == 13 and all(r.error_logs is None for r in runs)
    for r in runs:
        config = result.get_id2config_mapping()[r.config_id]["config"]
        assert r.loss == pytest.approx(quadratic(config, r.budget))
    directory = latest_journal_directory(wd, "optimize")
    assert logged_results_to_HBS_result(directory) == result
    manifest = json.load(open(os.path.join(directory, "run.json")))
    assert manifest["backend"]["name"] == {"threads": "threads", "processes": "processes", "pyro": "pyro"}[backend]


def test_mode_max_minimises_the_negation_and_keeps_the_metric_as_returned(wd):
    def accuracy(config, budget):
        return {"accuracy": 1 - abs(config["x"] - 0.3), "epochs": budget}

    result = bandster.optimize(accuracy, {"x": (0.0, 1.0)}, "RandomSearch", max_configs=5, min_budget=1,
                               max_budget=1, metric="accuracy", mode="max", seed=0, working_directory=wd,
                               progress=False)
    runs = result.get_all_runs()
    assert len(runs) == 5
    for r in runs:
        assert r.loss == -r.info["accuracy"] and r.info["epochs"] == 1.0
    best = result.get_id2config_mapping()[result.get_incumbent_id()]["config"]
    assert abs(best["x"] - 0.3) == min(1 - r.info["accuracy"] for r in runs)
    with open(os.path.join(latest_journal_directory(wd, "optimize"), "events.json")) as fh:
        recorded = [json.loads(line) for line in fh]
    assert any(e["event"] == "objective" and e["metric"] == "accuracy" and e["mode"] == "max" for e in recorded)


def test_a_plain_dict_space_with_log_and_categorical_values(wd):
    seen = []

    def objective(config, budget, config_directory, previous_budget):
        seen.append((previous_budget, os.path.isdir(config_directory)))
        return config["lr"] * (1 if config["opt"] == "adam" else 2)

    space = {"lr": CS.Float("lr", (1e-5, 1e-1), log=True), "opt": ["adam", "sgd"], "depth": (1, 4)}
    result = bandster.optimize(objective, space, "BOHB", n_iterations=1, seed=1, working_directory=wd,
                               progress=False, **LADDER)
    configs = [v["config"] for v in result.get_id2config_mapping().values()]
    assert all(1e-5 <= c["lr"] <= 1e-1 and c["opt"] in ("adam", "sgd") and c["depth"] in range(1, 5)
               for c in configs)
    assert all(created for _, created in seen) and {p for p, _ in seen} == {None, 1.0, 3.0}


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_bad_returns_and_exceptions_are_failed_runs_with_clear_errors(wd, backend):
    def objective(config, budget, config_id):
        k = config_id[0] % 4
        if k == 0:
            return None
        if k == 1:
            return "0.5"
        if k == 2:
            raise ValueError("the data could not be loaded")
        return {"accuracy": 0.5}

    result = bandster.optimize(objective, {"x": (0.0, 1.0)}, "RandomSearch", max_configs=4, min_budget=1,
                               max_budget=1, working_directory=wd, progress=False, backend=backend)
    errors = {r.config_id[0] % 4: r.error_logs for r in result.get_all_runs()}
    assert "the objective returned NoneType (None); return a float (the loss to minimise)" in errors[0]
    assert "the objective returned str ('0.5')" in errors[1]
    assert "ValueError: the data could not be loaded" in errors[2]
    assert "the objective returned a dict without 'loss' (keys: ['accuracy'])" in errors[3]
    assert all(r.loss is None for r in result.get_all_runs())


def test_a_backend_instance_is_used_as_given(wd):
    backend = ThreadBackend(1, lambda config, budget: {"loss": config["x"], "info": {}})
    result = bandster.optimize(quadratic, {"x": (0.0, 1.0)}, "RandomSearch", max_budget_spent=3, min_budget=1,
                               max_budget=1, backend=backend, working_directory=wd, progress=False)
    runs = result.get_all_runs()
    assert len(runs) == 3
    assert all(r.loss == result.get_id2config_mapping()[r.config_id]["config"]["x"] for r in runs)


def test_bad_calls_say_what_to_fix(wd):
    with pytest.raises(ValueError, match="needs at least one limit"):
        bandster.optimize(quadratic, {"x": (0.0, 1.0)}, min_budget=1, max_budget=9, working_directory=wd)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        bandster.optimize(quadratic, {"x": (0.0, 1.0)}, "TPE", min_budget=1, max_budget=9, n_iterations=1,
                          working_directory=wd)
    with pytest.raises(ValueError, match="backend must be one of"):
        bandster.optimize(quadratic, {"x": (0.0, 1.0)}, min_budget=1, max_budget=9, n_iterations=1,
                          backend="ray", working_directory=wd)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        bandster.optimize(quadratic, {"x": (0.0, 1.0)}, min_budget=1, max_budget=9, n_iterations=1,
                          mode="maximize", working_directory=wd)
    with pytest.raises(ValueError, match="ConfigSpace does not accept this dict"):
        bandster.optimize(quadratic, {"x": (2.0, 1.0)}, min_budget=1, max_budget=9, n_iterations=1,
                          working_directory=wd)

    class Client:  # stands in for distributed.Client (the dask extra is not installed here)
        __module__ = "distributed.client"

    with pytest.raises(NotImplementedError, match="DaskBackend"):
        bandster.optimize(quadratic, {"x": (0.0, 1.0)}, min_budget=1, max_budget=9, n_iterations=1,
                          backend=Client(), working_directory=wd)


@pytest.mark.timeout(300)
def test_a_notebook_function_and_lambda_run_on_worker_processes(tmp_path):
    """A real kernel (nbclient): a function and a lambda defined in cells, sent to ProcessBackend children."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import bandster, os\nscale = 2.0\n"
        "def objective(config, budget):\n    return {'loss': scale * config['x'] / budget, 'pid': os.getpid()}",
        "result = bandster.optimize(objective, {'x': (0.0, 1.0)}, 'HyperBand', min_budget=1, max_budget=9,\n"
        "    n_iterations=1, n_workers=2, backend='processes', seed=0, progress=False)\n"
        "runs = result.get_all_runs()\n"
        "print('runs', len(runs), 'failed', sum(r.loss is None for r in runs),\n"
        "      'other pids', all(r.info['pid'] != os.getpid() for r in runs))",
        "result = bandster.optimize(lambda config, budget: config['x'] * scale, {'x': (0.0, 1.0)},\n"
        "    'RandomSearch', min_budget=1, max_budget=1, max_configs=3, progress=False, run_id='lam',\n"
        "    backend='processes')\n"
        "print('lambda runs', sum(r.loss is not None for r in result.get_all_runs()))",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "runs 13 failed 0 other pids True" in text
    assert "lambda runs 3" in text


def test_resume_continues_the_run_of_the_same_run_id(wd):
    kwargs = dict(min_budget=1, max_budget=9, eta=3, seed=0, working_directory=wd, progress=False)
    first = bandster.optimize(quadratic, {"x": (0.0, 1.0)}, "HyperBand", n_iterations=1, max_budget_spent=5,
                              **kwargs)
    assert 0 < len(first.get_all_runs()) < 13
    result = bandster.optimize(quadratic, {"x": (0.0, 1.0)}, "HyperBand", n_iterations=1, resume=True, **kwargs)
    assert len(result.get_all_runs()) == 13
    before = {(r.config_id, r.budget): r.loss for r in first.get_all_runs()}
    assert all(r.loss == before.get((r.config_id, r.budget), r.loss) for r in result.get_all_runs())
    assert len(os.listdir(os.path.join(wd, "bandster_runs"))) == 1


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_an_objective_that_names_report_is_stopped_and_mode_max_negates_its_reports(wd, backend):
    def accuracy(config, budget, report):
        told = None
        for epoch in range(1, int(budget) + 1):
            acc = config["x"] * epoch / budget
            if report(epoch, acc):
                told = epoch
                break
        return {"accuracy": acc, "told": told}

    result = bandster.optimize(accuracy, {"x": (0.0, 1.0)}, "ASHA", type="stopping", n_iterations=1, n_workers=2,
                               backend=backend, metric="accuracy", mode="max", seed=0, working_directory=wd,
                               progress=False, **LADDER)
    with open(os.path.join(latest_journal_directory(wd, "optimize"), "events.json")) as fh:
        stopped = [json.loads(line) for line in fh]
    stopped = {(tuple(e["config_id"]), e["step"]): e["loss"] for e in stopped if e["event"] == "job_stopped"}
    assert stopped and all(loss <= 0 for loss in stopped.values())  # the scheduler ranked -accuracy
    told = {(r.config_id, float(r.info["told"])) for r in result.get_all_runs() if r.info["told"] is not None}
    assert told == set(stopped)
