"""A master on a Dask cluster reached through a scheduler file (the resume test SIGKILLs it mid-run):
``python dask_master.py SCHEDULER_FILE WORKING_DIRECTORY RUN_ID [resume | wait_for_workers=N]``."""

import logging
import sys

import ConfigSpace as CS
import dask_jobs
from distributed import Client

from bandster.backends import DaskBackend
from bandster.optimizers import HyperBand

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    scheduler_file, working_directory, run_id = sys.argv[1:4]
    resume = sys.argv[4:] == ["resume"]
    client = Client(scheduler_file=scheduler_file, timeout=60)
    for arg in sys.argv[4:]:
        if arg.startswith("wait_for_workers="):
            client.wait_for_workers(int(arg.split("=", 1)[1]), timeout=120)
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), run_id=run_id, min_budget=1,
                   max_budget=9, eta=3, seed=0, working_directory=working_directory, resume=resume,
                   backend=DaskBackend(client, dask_jobs.slow))
    result = hb.run(n_iterations=1, progress=False)
    print("RUNS", len(result.get_all_runs()), flush=True)
    hb.shutdown()
    client.close()
