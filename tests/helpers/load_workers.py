"""The worker of the load test, as a process: ``python load_workers.py RUN_ID NS_HOST NS_PORT ID``.

Its compute returns at once, so the test measures bandster's own bookkeeping; ``info`` names the process.
"""

import os
import sys

from bandster.core.worker import Worker


class InstantWorker(Worker):
    """loss = config["x"], info = {"pid": ...}; no work at all."""

    def compute(self, config, budget, **kwargs):
        return {"loss": config["x"], "info": {"pid": os.getpid()}}


if __name__ == "__main__":
    run_id, host, port, wid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    worker = InstantWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=wid)
    worker.run(background=False)
