"""Real runs for the analysis tests (plots, status, report, notebook): a name server, thread workers, an optimizer.

Also runnable as a master process for the live-status tests::

    python analysis_helpers.py WORKING_DIRECTORY GATE_FILE

runs HyperBand with one worker whose every job waits until GATE_FILE exists, so a test can look at the run
while exactly one job is in flight.
"""

from __future__ import annotations

import math
import os
import sys
import time

import ConfigSpace as CS

from bandster.core.base_iteration import Datum
from bandster.core.nameserver import NameServer
from bandster.core.result import Result
from bandster.core.worker import Worker


def space(seed: int = 0) -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([
        CS.UniformFloatHyperparameter("x", 0.0, 1.0),
        CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True),
        CS.CategoricalHyperparameter("kind", ["a", "b", "bad"], weights=[0.45, 0.45, 0.1]),
        CS.UniformIntegerHyperparameter("units", 1, 8),
    ])
    return cs


class AnalysisWorker(Worker):
    """A deterministic loss; each worker's first job fails, and so does the 'bad' kind on small budgets."""

    jobs = 0

    def compute(self, config, budget, **kwargs):
        self.jobs += 1
        if self.jobs == 1:
            raise RuntimeError("every worker's first job fails (so that every run has failures)")
        if config["kind"] == "bad" and budget < 9:
            raise ValueError("the bad kind fails on small budgets")
        loss = (config["x"] - 0.3) ** 2 + (math.log10(config["lr"]) + 2.5) ** 2 / 4 + 1.0 / budget
        loss += 0.2 * (config["kind"] == "b") + config["units"] / 100
        return {"loss": loss, "info": {"budget": budget, "units": config["units"]}}


class GatedWorker(AnalysisWorker):
    """Waits for a file to exist before computing: the test decides when the run may go on."""

    def __init__(self, *args, gate: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = gate

    def compute(self, config, budget, **kwargs):
        while not os.path.exists(self.gate):
            time.sleep(0.02)
        return super().compute(config, budget, **kwargs)


def make_run(optimizer: type, working_directory: str, run_id: str, n_iterations: int = 4, n_workers: int = 2,
             worker: type = AnalysisWorker, **kwargs) -> str:
    """Run ``optimizer`` over thread workers (of class ``worker``) and return its journal directory."""
    ns = NameServer(run_id=run_id, working_directory=working_directory)
    host, port = ns.start()
    workers = [worker(run_id=run_id, nameserver=host, nameserver_port=port, id=i) for i in range(n_workers)]
    try:
        for w in workers:
            w.run(background=True)
        options = {"min_budget": 1, "max_budget": 9, "eta": 3, "seed": 1}
        options.update(kwargs)
        opt = optimizer(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port,
                        working_directory=working_directory, **options)
        try:
            opt.run(n_iterations=n_iterations, min_n_workers=n_workers, progress=False)
        finally:
            opt.shutdown(shutdown_workers=True)
        return opt.journal.directory
    finally:
        for w in workers:
            w.shutdown()
        ns.shutdown()


def gated_master(working_directory: str, gate: str) -> None:
    from bandster.optimizers import HyperBand

    run_id = "live"
    ns = NameServer(run_id=run_id, working_directory=working_directory)
    host, port = ns.start()
    worker = GatedWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=0, gate=gate)
    worker.run(background=True)
    opt = HyperBand(configspace=space(), run_id=run_id, nameserver=host, nameserver_port=port,
                    working_directory=working_directory, min_budget=1, max_budget=9, eta=3, seed=0)
    print("journal", opt.working_directory, flush=True)
    try:
        opt.run(n_iterations=2, min_n_workers=1, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
        worker.shutdown()
        ns.shutdown()
    print("master done", flush=True)


KNOWN_T0 = 1_700_000_000.0


def _datum(config: dict, runs: dict, model: bool = False) -> Datum:
    """``runs``: budget -> (loss or None, started, finished, worker)."""
    d = Datum(config=config, config_info={"model_based_pick": model})
    for budget, (loss, started, finished, worker) in runs.items():
        d.time_stamps[budget] = {"submitted": KNOWN_T0 + started, "started": KNOWN_T0 + started,
                                 "finished": KNOWN_T0 + finished}
        d.results[budget] = None if loss is None else {"loss": loss, "info": {"acc": 1 - loss / 10}}
        d.exceptions[budget] = "ValueError: boom" if loss is None else None
        d.extras[budget] = {"worker": worker, "attempt": 1, "status": "ok" if loss is not None else "failed"}
    return d


def known_result() -> Result:
    """A hand-made Result whose figures' data is known exactly: two workers, budgets 1 and 3, one failure, one
    model-based configuration (times relative to the run's start)::

    ======== ================ =========================== ===========================
    id        config           budget 1                    budget 3
    ======== ================ =========================== ===========================
    (0,0,0)   x=0.1, kind a    loss 5, w0, 0 -> 2          loss 4, w0, 4 -> 6
    (0,0,1)   x=0.2, kind b    loss 2, w1, 0 -> 3          loss 1, w1, 6 -> 8
    (0,0,2)   x=0.9, kind a    failed, w0, 2 -> 4
    (1,0,0)   x=0.5, kind b                                loss 3, w0, 8 -> 9 (model)
    ======== ================ =========================== ===========================
    """
    it0 = {
        (0, 0, 0): _datum({"x": 0.1, "kind": "a"}, {1.0: (5.0, 0, 2, "w0"), 3.0: (4.0, 4, 6, "w0")}),
        (0, 0, 1): _datum({"x": 0.2, "kind": "b"}, {1.0: (2.0, 0, 3, "w1"), 3.0: (1.0, 6, 8, "w1")}),
        (0, 0, 2): _datum({"x": 0.9, "kind": "a"}, {1.0: (None, 2, 4, "w0")}),
    }
    it1 = {(1, 0, 0): _datum({"x": 0.5, "kind": "b"}, {3.0: (3.0, 8, 9, "w0")}, model=True)}
    return Result([it0, it1], {"time_ref": KNOWN_T0, "eta": 3.0, "min_budget": 1.0, "max_budget": 3.0,
                               "budgets": [1.0, 3.0], "max_SH_iter": 2})


def synthetic_result(configs: list[dict], runs: list[tuple], max_budget: float | None = None) -> Result:
    """A Result from ``runs``: ``(index into configs, budget, loss or None, started, finished)`` (seconds since the
    start, worker ``w0``); configuration ``k`` gets the id ``(0, 0, k)``."""
    data: dict[tuple, Datum] = {}
    for k, budget, loss, started, finished in runs:
        config_id = (0, 0, k)
        if config_id not in data:
            data[config_id] = _datum(configs[k], {})
        data[config_id] = _datum(configs[k], {**_runs_of(data[config_id]), budget: (loss, started, finished, "w0")})
    budgets = sorted({float(r[1]) for r in runs})
    return Result([data], {"time_ref": KNOWN_T0, "min_budget": budgets[0] if budgets else 1.0,
                           "max_budget": max_budget or (budgets[-1] if budgets else 1.0), "budgets": budgets})


def _runs_of(d: Datum) -> dict:
    return {b: (None if d.results[b] is None else d.results[b]["loss"], d.time_stamps[b]["started"] - KNOWN_T0,
                d.time_stamps[b]["finished"] - KNOWN_T0, d.extras[b]["worker"]) for b in d.results}


def dominated(n: int = 60, seed: int = 0):
    """A synthetic Result of ``n`` configurations on budgets 1 and 3, and its space: ``x`` explains nearly all
    of the loss; ``units`` and ``kind`` a little; ``lr`` nothing."""
    import numpy as np

    rng = np.random.default_rng(seed)
    configs, runs = [], []
    for k in range(n):
        config = {"x": float(rng.uniform()), "lr": float(10 ** rng.uniform(-4, -1)), "units": int(rng.integers(1, 9)),
                  "kind": str(rng.choice(["a", "b"]))}
        configs.append(config)
        for budget in (1.0, 3.0):
            loss = 5 * (config["x"] - 0.3) ** 2 + 0.02 * config["units"] / 8 + 0.01 * (config["kind"] == "b")
            runs.append((k, budget, loss + 1 / budget, 2 * k, 2 * k + budget / 3))
    space = CS.ConfigurationSpace(seed=seed)
    space.add([CS.UniformFloatHyperparameter("x", 0, 1), CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True),
               CS.UniformIntegerHyperparameter("units", 1, 8), CS.CategoricalHyperparameter("kind", ["a", "b"])])
    return synthetic_result(configs, runs), space


def check_png(fig, path, min_size=(400, 250)):
    """Save the matplotlib figure ``fig`` as a PNG and check it is of sensible size and not blank."""
    import matplotlib.image
    import matplotlib.pyplot as plt
    import numpy as np

    fig.savefig(path, dpi=80)
    plt.close(fig)
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert min_size[0] <= width <= 2500 and min_size[1] <= height <= 2500, (path, width, height)
    rgb = image[..., :3]
    not_white = np.mean(np.any(rgb < 0.95, axis=-1))
    assert not_white > 0.03, f"{path} is nearly blank ({not_white:.1%} non-white pixels)"
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20, f"{path} has almost no colours"
    assert os.path.getsize(path) > 5000
    return width, height


if __name__ == "__main__":
    gated_master(sys.argv[1], sys.argv[2])


# ---------------------------------------------------------------------------------------------------- reports
#: the reporting journal of :func:`write_reporting_journal`: (config_id, worker, [(step, loss, decision)], result)
#: with result ``(loss, stopped_at)`` or None while the job runs; every job is handed budget 9, time_ref 1000
REPORTING_JOBS = [
    ((0, 0, 0), "w0", [(1, 0.9, "continue"), (3, 0.5, "continue"), (9, 0.2, "continue")], (0.2, None)),
    ((0, 0, 1), "w1", [(1, 1.5, "continue"), (3, 1.2, "stop")], (1.2, 3.0)),
    ((0, 0, 2), "w0", [(1, 2.0, "stop")], (2.0, 1.0)),
    ((0, 0, 3), "w1", [(1, 0.8, "continue"), (2, 0.6, "continue")], None),
]
REPORTING_T0 = 1000.0


def write_reporting_journal(directory: str, keep_open: bool = False):
    """A journal of a stopping scheduler's run (:data:`REPORTING_JOBS`): dispatches, reports with decisions,
    results (two stopped). Job (0, 0, 3) is still running: with ``keep_open`` the Journal is returned open (the
    run is live; close it), else closed."""
    from bandster.core.job import Job
    from bandster.records.journal import Journal

    journal = Journal(directory)
    journal.write_manifest({"run_id": "reporting", "optimizer": "ASHA", "HB_config": {
        "time_ref": REPORTING_T0, "min_budget": 1.0, "max_budget": 9.0, "eta": 3.0, "budgets": [1.0, 3.0, 9.0]}})
    journal.event("run_started", time=REPORTING_T0)
    clock = REPORTING_T0
    for k, (cid, worker, reports, outcome) in enumerate(REPORTING_JOBS):
        journal.new_config(cid, {"x": 0.1 * (k + 1)}, {"model_based_pick": False})
        journal.event("dispatch", time=clock, config_id=list(cid), budget=9.0, worker=worker, attempt=1)
        start = clock
        for step, loss, decision in reports:
            clock += 1.0
            journal.report(cid, 9.0, 1, float(step), loss, {"epoch": step}, decision, clock)
        if outcome is not None:
            job = Job(cid, config={"x": 0.1 * (k + 1)}, budget=9.0)
            job.timestamps = {"submitted": start, "started": start, "finished": clock}
            job.result = {"loss": outcome[0], "info": {}}
            if outcome[1] is not None:
                job.result["stopped_at"] = outcome[1]
            job.worker_name = worker
            journal(job)
    journal.flush()
    if keep_open:
        return journal
    journal.event("run_finished", time=clock)
    journal.close()
    return None
