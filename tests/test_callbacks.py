import json

import ConfigSpace as CS
import pytest

from bandster.callbacks import CSVWriter, read_csv
from bandster.core.result import Run
from bandster.optimizers import HyperBand

from toy_workers import BadWorker


@pytest.mark.timeout(60)
def test_result_callbacks_see_every_run_and_cannot_break_the_run(nameserver, run_id, tmp_path):
    seen = []

    def broken(run):
        raise RuntimeError("tracker down")

    cs = CS.ConfigurationSpace(seed=1)
    cs.add(CS.CategoricalHyperparameter("mode", ["ok", "raise"]))
    w = BadWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    csv_path = tmp_path / "runs.csv"
    hb = HyperBand(configspace=cs, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=9, working_directory=str(tmp_path), seed=2,
                   result_callbacks=[broken, seen.append, CSVWriter(str(csv_path))])
    result = hb.run(n_iterations=2)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()
    runs = result.get_all_runs()
    assert len(seen) == len(runs) == 13 + 4
    assert all(isinstance(r, Run) and r.config["mode"] in ("ok", "raise") for r in seen)
    assert sorted((r.config_id, r.budget, r.loss) for r in seen) == sorted((r.config_id, r.budget, r.loss)
                                                                           for r in runs)
    rows = read_csv(str(csv_path))
    assert len(rows) == len(runs)
    failed = [row for row in rows if row["status"] == "failed"]
    assert failed and all("ValueError: boom" in row["error"] and row["loss"] == "" for row in failed)
    assert all(0 <= float(row["started"]) <= float(row["finished"]) for row in rows)
    assert all(json.loads(row["config"])["mode"] in ("ok", "raise") for row in rows)
