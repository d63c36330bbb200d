"""Workers for the asynchronous optimizers' tests; also runnable as a worker process:

    python async_workers.py RUN_ID NS_HOST NS_PORT [KIND] [ID]
"""

import json
import math
import os
import sys
import time

from bandster.core.worker import Worker


class ResumingWorker(Worker):
    """Continues training from the checkpoint in its config directory.

    The checkpoint holds the budget trained so far; a job trains from there up to ``budget`` (sleeping
    ``ASYNC_SLEEP`` seconds per unit of the increment, default 0) and writes the new checkpoint. The loss is
    ``(x - 0.3)^2 + 1 / budget``; the info reports what the job found.
    """

    def compute(self, config, budget, config_directory, previous_budget, **kwargs):
        path = os.path.join(config_directory, "checkpoint.json")
        checkpoint = None
        if os.path.exists(path):
            with open(path) as fh:
                checkpoint = json.load(fh)
        trained_from = checkpoint["budget"] if checkpoint and previous_budget is not None else 0.0
        time.sleep(float(os.environ.get("ASYNC_SLEEP", "0") or 0) * (budget - trained_from))
        with open(path, "w") as fh:
            json.dump({"budget": budget, "pid": os.getpid()}, fh)
        return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / budget,
                "info": {"previous_budget": previous_budget, "checkpoint": checkpoint, "trained": budget - trained_from,
                         "pid": os.getpid(), "config_directory": config_directory}}


class FlakyWorker(Worker):
    """Raises for x > 0.8, returns NaN for 0.6 < x <= 0.7, else (x - 0.3)^2 + 1 / budget."""

    def compute(self, config, budget, **kwargs):
        x = config["x"]
        if x > 0.8:
            raise RuntimeError("x too large")
        if 0.6 < x <= 0.7:
            return {"loss": math.nan, "info": None}
        return {"loss": (x - 0.3) ** 2 + 1.0 / budget, "info": {"pid": os.getpid()}}


KINDS = {"resuming": ResumingWorker, "flaky": FlakyWorker}

if __name__ == "__main__":
    run_id, host, port = sys.argv[1], sys.argv[2], sys.argv[3]
    kind = sys.argv[4] if len(sys.argv) > 4 else "resuming"
    wid = sys.argv[5] if len(sys.argv) > 5 else None
    if host == "--dir":
        worker = KINDS[kind](run_id=run_id, id=wid)
        worker.load_nameserver_credentials(port, num_tries=600, interval=0.1)
    else:
        worker = KINDS[kind](run_id=run_id, nameserver=host, nameserver_port=int(port), id=wid)
    print("worker ready", worker.worker_id, flush=True)
    worker.run(background=False)
    print("worker exits", flush=True)
