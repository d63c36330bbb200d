"""A benchmark worker process: python -m _worker_process RUN_ID HOST PORT KIND ID."""

import logging
import sys

from _common import InstantWorker, SleepWorker

logging.basicConfig(level=logging.WARNING)
run_id, host, port, kind, wid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
cls = {"instant": InstantWorker, "sleep": SleepWorker}[kind]
import time  # noqa: E402

worker = cls(run_id=run_id, nameserver=host, nameserver_port=port, id=wid)
print("ready", time.time(), flush=True)  # after imports: the discovery benchmark starts its clock here
worker.run(background=False)
