"""A master process for the asynchronous optimizers' crash-and-resume test:

    python async_master_script.py SHARED_DIR RUN_ID N_ITERATIONS OPTIMIZER [resume]

Starts a name server (credentials in SHARED_DIR) and an ASHA or AsyncHyperBand run (budgets 1..9, eta 3) over
workers found through it, with the journal in SHARED_DIR. Prints "journal <dir>" once the run has started, and
"done <n runs> <budget started>" at the end.
"""

import logging
import sys

import ConfigSpace as CS

from bandster.core.nameserver import NameServer
from bandster.optimizers import ASHA, AsyncHyperBand


def main():
    logging.basicConfig(level=logging.WARNING)
    shared, run_id, n_iterations, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    resume = len(sys.argv) > 5 and sys.argv[5] == "resume"
    ns = NameServer(run_id=run_id, working_directory=shared)
    host, port = ns.start()
    cls = {"ASHA": ASHA, "AsyncHyperBand": AsyncHyperBand}[name]
    opt = cls(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=1), run_id=run_id, nameserver=host,
              nameserver_port=port, min_budget=1, max_budget=9, eta=3, working_directory=shared, seed=3,
              resume=resume, ping_interval=0.5, stop_grace_period=30)
    opt._open_journal()
    print("journal", opt.journal.directory, flush=True)
    result = opt.run(n_iterations=n_iterations, min_n_workers=2, progress=False)
    opt.shutdown(shutdown_workers=True)
    ns.shutdown()
    print("done", len(result.get_all_runs()), opt.schedule.budget_started, flush=True)


if __name__ == "__main__":
    main()
