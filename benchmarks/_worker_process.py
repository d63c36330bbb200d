"""A benchmark worker process: python -m _worker_process RUN_ID HOST PORT KIND ID [THREADS [SECONDS]].

KIND is ``instant``, ``sleep``, ``pause`` or ``report``; THREADS > 1 runs that many workers as threads of this process
(each a real Pyro worker with its own daemon, named ID.0, ID.1, ...); SECONDS is the pause of ``pause``.
"""

import logging
import sys

from _common import InstantWorker, PauseWorker, ReportWorker, SleepWorker

logging.basicConfig(level=logging.WARNING)
run_id, host, port, kind, wid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
threads = int(sys.argv[6]) if len(sys.argv) > 6 else 1
extra = {"seconds": float(sys.argv[7])} if kind == "pause" and len(sys.argv) > 7 else {}
cls = {"instant": InstantWorker, "sleep": SleepWorker, "pause": PauseWorker, "report": ReportWorker}[kind]
import time  # noqa: E402

if threads == 1:
    worker = cls(run_id=run_id, nameserver=host, nameserver_port=port, id=wid, **extra)
    print("ready", time.time(), flush=True)  # after imports: the discovery benchmark starts its clock here
    worker.run(background=False)
else:
    workers = [cls(run_id=run_id, nameserver=host, nameserver_port=port, id=f"{wid}.{i}", **extra)
               for i in range(threads)]
    for w in workers:
        w.run(background=True)
    print("ready", time.time(), flush=True)
    for w in workers:
        w.wait()
