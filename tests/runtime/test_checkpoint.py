"""Checkpoint hand-off: a promoted configuration finds its own directory, checkpoint and previous budget,
also when the promotion runs in a different worker process."""

import os
import threading

import ConfigSpace as CS
import pytest

from bandster.optimizers import HyperBand

from testutil import HELPERS
from toy_workers import OldStyleWorker


@pytest.mark.timeout(120)
def test_promotion_on_another_process_resumes_from_checkpoint(nameserver, run_id, tmp_path, spawn):
    args = [os.path.join(HELPERS, "toy_workers.py"), run_id, nameserver.host, str(nameserver.port), "checkpoint"]
    first = spawn(*args, "a", env={"TOY_MAX_JOBS": "3"})  # runs the three budget-1 jobs, then leaves
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, min_budget=1, max_budget=3, eta=3,
                   working_directory=str(tmp_path), seed=11)
    out = {}
    runner = threading.Thread(target=lambda: out.setdefault("result", hb.run(n_iterations=1, min_n_workers=1)))
    runner.start()
    assert first.wait(timeout=60) == 0
    second = spawn(*args, "b")  # the promotion can only run here
    runner.join(timeout=60)
    assert not runner.is_alive()
    hb.shutdown(shutdown_workers=True)
    assert second.wait(timeout=30) == 0
    runs = out["result"].get_all_runs()
    assert [r.budget for r in runs] == [1.0, 1.0, 1.0, 3.0]
    for r in runs[:3]:
        assert r.info["previous_budget"] is None and r.info["checkpoint"] is None and r.info["pid"] == first.pid
        assert r.info["config_directory"] == hb.config_directory(r.config_id)
        assert os.path.isabs(r.info["config_directory"])
    promoted = runs[3]
    assert promoted.info["pid"] == second.pid
    assert promoted.info["previous_budget"] == 1.0
    assert promoted.info["checkpoint"] == {"budget": 1.0, "pid": first.pid}
    assert promoted.info["config_directory"] == hb.config_directory(promoted.config_id)
    assert len({r.info["config_directory"] for r in runs}) == 3


@pytest.mark.timeout(60)
def test_hpbandster_signature_keeps_working(nameserver, run_id, tmp_path):
    w = OldStyleWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, min_budget=1, max_budget=3, working_directory=str(tmp_path))
    result = hb.run(n_iterations=1)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()
    runs = result.get_all_runs()
    assert len(runs) == 4 and all(r.loss is not None for r in runs)
    assert all(r.info["wd"] == str(tmp_path) and tuple(r.info["id"]) == r.config_id for r in runs)
