"""Workers used by the tests; also runnable as a worker process:

    python toy_workers.py RUN_ID NS_HOST NS_PORT [KIND] [ID]
"""

import json
import math
import os
import sys
import time

import numpy as np

from bandster.core.worker import Worker


class QuadraticWorker(Worker):
    """loss = (x - 0.3)^2 + 1/budget; info holds numpy values on purpose (they must cross the wire)."""

    def __init__(self, *args, sleep=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.sleep = sleep

    def compute(self, config, budget, **kwargs):
        if self.sleep:
            time.sleep(self.sleep)
        x = config["x"]
        return {"loss": np.float64((x - 0.3) ** 2 + 1.0 / budget),
                "info": {"pid": os.getpid(), "worker": self.worker_id, "arr": np.arange(2), "budget": budget,
                         "kwargs": sorted(kwargs)}}


class BadWorker(Worker):
    """Fails in every way HpBandSter hung on, chosen by the config's ``mode``."""

    def compute(self, config, budget, **kwargs):
        mode = config["mode"]
        if mode == "raise":
            raise ValueError("boom")
        if mode == "none":
            return None
        if mode == "noloss":
            return {"info": 1}
        if mode == "strloss":
            return {"loss": "abc", "info": None}
        if mode == "nan":
            return {"loss": math.nan, "info": None}
        if mode == "inf":
            return {"loss": math.inf, "info": None}
        if mode == "object":
            return {"loss": 1.0, "info": {"obj": object()}}
        return {"loss": budget * 0.0 + 1.0, "info": {"mode": mode}}


class TypesWorker(Worker):
    """Reports the Python types its config and budget arrived with (they must be builtins)."""

    def compute(self, config, budget, **kwargs):
        return {"loss": float(config["x"]),
                "info": {"types": {k: type(v).__name__ for k, v in config.items()},
                         "budget_type": type(budget).__name__, "pid": os.getpid(),
                         "np": {"i": np.int64(3), "f": np.float32(0.5), "s": np.str_("s"), "b": np.bool_(True)}}}


class CheckpointWorker(Worker):
    """Resumes from the checkpoint in its config directory; leaves after TOY_MAX_JOBS jobs if that is set."""

    jobs = 0

    def compute(self, config, budget, config_directory, previous_budget, **kwargs):
        path = os.path.join(config_directory, "checkpoint.json")
        previous = None
        if os.path.exists(path):
            with open(path) as fh:
                previous = json.load(fh)
        with open(path, "w") as fh:
            json.dump({"budget": budget, "pid": os.getpid()}, fh)
        self.jobs += 1
        if self.jobs >= int(os.environ.get("TOY_MAX_JOBS", "0") or 10**9):
            self.shutdown()  # from inside compute: the result is delivered, then the worker leaves
        return {"loss": config["x"] / budget, "info": {"previous_budget": previous_budget, "checkpoint": previous,
                                                       "pid": os.getpid(), "config_directory": config_directory}}


class OldStyleWorker(Worker):
    """HpBandSter's documented signature: no **kwargs, so no config_directory / previous_budget."""

    def compute(self, config_id, config, budget, working_directory):
        return {"loss": config["x"], "info": {"id": list(config_id), "wd": working_directory}}


class SleepyWorker(Worker):
    """Sleeps TOY_SLEEP s (default 0.2); appends "config_id budget pid" to TOY_LOG if set; hangs if x > TOY_HANG."""

    def compute(self, config, budget, **kwargs):
        log = os.environ.get("TOY_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"{list(kwargs['config_id'])} {budget} {os.getpid()}\n")
        if config["x"] > float(os.environ.get("TOY_HANG", "2")):
            time.sleep(3600)
        time.sleep(float(os.environ.get("TOY_SLEEP", "0.2")))
        return {"loss": config["x"], "info": {"pid": os.getpid()}}


class CurveWorker(Worker):
    """Reports ``loss = x + 1/step`` after every step up to the budget (sleeping TOY_STEP_SLEEP s per step, default
    0) and stops when told; ``info`` says at which step ``report`` first returned True (None: never) and how many
    reports were made. The configuration whose id is TOY_HANG_ID (``i_j_k``) hangs after its first report."""

    def compute(self, config, budget, config_id, **kwargs):
        told, step, loss = None, 0, math.inf
        pause = float(os.environ.get("TOY_STEP_SLEEP", "0"))
        hang = os.environ.get("TOY_HANG_ID") == "_".join(map(str, config_id))
        for step in range(1, int(budget) + 1):
            if pause:
                time.sleep(pause)
            loss = config["x"] + 1.0 / step
            stop = self.report(step, loss, {"step": step})
            if hang:
                time.sleep(3600)
            if stop:
                told = step
                break
        return {"loss": loss, "info": {"told": told, "steps": step, "pid": os.getpid(),
                                       "should_stop": self.should_stop()}}


KINDS = {"quadratic": QuadraticWorker, "bad": BadWorker, "sleepy": SleepyWorker, "types": TypesWorker,
         "checkpoint": CheckpointWorker, "oldstyle": OldStyleWorker, "curve": CurveWorker}

if __name__ == "__main__":
    run_id, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
    kind = sys.argv[4] if len(sys.argv) > 4 else "quadratic"
    wid = sys.argv[5] if len(sys.argv) > 5 else None
    if host == "--dir":  # find the name server through the shared directory's credentials file
        worker = KINDS[kind](run_id=run_id, id=wid)
        worker.load_nameserver_credentials(port, num_tries=600, interval=0.1)
    else:
        worker = KINDS[kind](run_id=run_id, nameserver=host, nameserver_port=int(port), id=wid)
    print("worker ready", worker.worker_id, flush=True)
    worker.run(background=False)
    print("worker exits", flush=True)
