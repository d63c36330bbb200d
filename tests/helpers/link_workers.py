"""Worker processes for tests/core/test_dispatcher.py: python link_workers.py RUN_ID HOST PORT LOG [THREADS]

Each compute appends ``<config_id> <pid> start`` and ``... end`` lines to LOG, then acts on the config's
``mode``: ``instant`` returns at once, ``slow`` sleeps ``config['seconds']``, ``hang`` sleeps for an hour when
the environment has LINK_HANG=1 (and returns at once otherwise), ``handback`` raises HandBack when LINK_HANG=1.
SIGUSR1 asks every worker to stop (it finishes its current job and leaves). THREADS > 1 runs that many workers
as threads of the process.
"""

import logging
import os
import signal
import sys
import time

from bandster.core.worker import HandBack, Worker


class LinkWorker(Worker):
    def __init__(self, *args, log, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = log

    def _note(self, config_id, what):
        with open(self.log, "a") as fh:
            fh.write(f"{list(config_id)} {os.getpid()} {what}\n")

    def compute(self, config_id, config, budget, **kwargs):
        self._note(config_id, "start")
        mode = config.get("mode", "instant")
        if mode == "slow":
            time.sleep(float(config["seconds"]))
        elif mode == "hang" and os.environ.get("LINK_HANG") == "1":
            time.sleep(3600)
        elif mode == "handback" and os.environ.get("LINK_HANG") == "1":
            raise HandBack("the test's node goes away")
        self._note(config_id, "end")
        return {"loss": float(budget), "info": {"pid": os.getpid()}}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    run_id, host, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    workers = [LinkWorker(run_id=run_id, nameserver=host, nameserver_port=port, id=f"{os.getpid()}.{i}", log=log)
               for i in range(threads)]
    signal.signal(signal.SIGUSR1, lambda *_: [w.request_stop() for w in workers])
    for w in workers:
        w.run(background=True)
    print("ready", flush=True)
    for w in workers:
        w.wait()
