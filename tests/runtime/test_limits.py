"""run(max_wallclock_time=..., max_budget_spent=...): no new job after the limit, running jobs finish."""

import json
import os

import ConfigSpace as CS
import pytest

from bandster.core.worker import Worker
from bandster.optimizers import HyperBand


class Slow(Worker):
    def compute(self, config, budget, **kwargs):
        import time

        time.sleep(0.05)
        return {"loss": config["x"], "info": None}


def optimizer(nameserver, run_id, tmp_path):
    return HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=nameserver.host,
                     nameserver_port=nameserver.port, min_budget=1, max_budget=9, working_directory=str(tmp_path),
                     seed=0)


@pytest.mark.timeout(60)
def test_max_budget_spent(nameserver, run_id, tmp_path):
    w = Slow(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    hb = optimizer(nameserver, run_id, tmp_path)
    result = hb.run(n_iterations=10, max_budget_spent=30)
    runs = result.get_all_runs()
    spent = sum(r.budget for r in runs)
    # iteration 0 is 9 x 1 + 3 x 3 + 1 x 9 = 27; the next job (budget 3) starts at 27 < 30, the one after does not
    assert spent == 30 and len(runs) == 14
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        limits = [json.loads(line) for line in fh if '"limit_reached"' in line]
    assert limits and limits[0]["limit"] == "max_budget_spent"
    # a later run() continues where the limit stopped it
    more = hb.run(n_iterations=1)
    assert len(more.get_all_runs()) > len(runs)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()


@pytest.mark.timeout(60)
def test_max_wallclock_time(nameserver, run_id, tmp_path):
    w = Slow(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    w.run(background=True)
    hb = optimizer(nameserver, run_id, tmp_path)
    result = hb.run(n_iterations=50, max_wallclock_time=0.5)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()
    runs = result.get_all_runs()
    assert 0 < len(runs) < 50 * 13
    assert all(r.loss is not None for r in runs)  # the running job finished: nothing abandoned
    with open(os.path.join(hb.journal.directory, "events.json")) as fh:
        events = [json.loads(line) for line in fh]
    limit = next(e for e in events if e["event"] == "limit_reached")
    assert limit["limit"] == "max_wallclock_time"
    time_ref = result.HB_config["time_ref"]
    assert all(r.time_stamps["started"] + time_ref <= limit["time"] for r in runs)  # none started after it
