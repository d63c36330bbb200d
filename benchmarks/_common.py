"""Helpers shared by the benchmark scripts: worker classes, process pools, a name server."""

import os
import subprocess
import sys
import time

import ConfigSpace as CS

from bandster.core.worker import Worker

HERE = os.path.dirname(os.path.abspath(__file__))


class InstantWorker(Worker):
    """Returns at once: measures bandster's own cost per job."""

    def compute(self, config, budget, **kwargs):
        return {"loss": config["x"], "info": None}


class SleepWorker(Worker):
    """Sleeps ``seconds_per_budget * budget``: simulated training on 2 cores."""

    def __init__(self, *args, seconds_per_budget=0.02, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds_per_budget = seconds_per_budget

    def compute(self, config, budget, **kwargs):
        time.sleep(self.seconds_per_budget * budget)
        return {"loss": config["x"] / budget, "info": None}


class PauseWorker(Worker):
    """Sleeps a fixed ``seconds`` per job, whatever the budget: many workers busy at once on 2 cores."""

    def __init__(self, *args, seconds=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds = seconds

    def compute(self, config, budget, **kwargs):
        time.sleep(self.seconds)
        return {"loss": config["x"], "info": None}


class ReportWorker(Worker):
    """Reports every step up to the budget with the same loss (so a stopping scheduler never stops it); ``info``
    holds the seconds the reports took in total (the worker's time spent in ``report``)."""

    def compute(self, config, budget, **kwargs):
        n = int(budget)
        report = self.report
        start = time.perf_counter()
        for step in range(1, n + 1):
            report(step, 0.5)
        return {"loss": 0.5, "info": {"report_seconds": time.perf_counter() - start, "reports": n}}


def space(seed=0):
    cs = CS.ConfigurationSpace(seed=seed)
    cs.add([CS.UniformFloatHyperparameter("x", 0, 1), CS.UniformFloatHyperparameter("y", 1e-3, 1, log=True),
            CS.UniformIntegerHyperparameter("n", 1, 64), CS.CategoricalHyperparameter("c", ["a", "b", "c"])])
    return cs


def start_worker_processes(n, run_id, host, port, kind="instant", stdout=None, threads=1, seconds=None):
    """``n`` worker processes (``benchmarks/_worker_process.py``), each with ``threads`` workers."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    extra = [str(threads)] + ([] if seconds is None else [str(seconds)])
    return [subprocess.Popen([sys.executable, "-m", "_worker_process", run_id, host, str(port), kind, str(i), *extra],
                             env=env, cwd=HERE, stdout=stdout, text=True) for i in range(n)]


def stop_processes(procs):
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
