"""A master process for the stopping + resume test: stopping-type ASHA on a SimulatedBackend whose objective
reports every step (and sleeps a little in real time, so that the process can be killed mid-run):

    python stopping_master_script.py WORKING_DIR RUN_ID SLEEP [resume]

Prints "journal <dir>" once the journal is open and "done <n runs>" at the end. ``make()`` builds the same
optimizer in a test's own process (with ``sleep=0``: the uninterrupted reference).
"""

import logging
import sys
import time

import ConfigSpace as CS

from bandster.backends import SimulatedBackend
from bandster.optimizers import ASHA

#: enough configurations that the budget limit ends the run before they run out (no random sampling)
POINTS = [{"x": round((0.618034 * i) % 1.0, 6)} for i in range(1, 61)]
#: the configuration whose steps take longest in real time: the test kills the master while it runs
SLOW = (0, 0, 4)


def make_curve(sleep):
    def curve(config, budget, config_id):
        for step in range(1, int(budget) + 1):
            time.sleep(sleep * (30 if tuple(config_id) == SLOW else 1))
            yield step, config["x"] + 1 / step, 1.0, {"epoch": step}
        return {"loss": config["x"] + 1 / budget, "info": {"epochs": int(budget)}}

    return curve


def make(working_directory, run_id, sleep=0.0, resume=False):
    return ASHA(CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), min_budget=1, max_budget=9, eta=3,
                type="stopping", seed=0, run_id=run_id, working_directory=working_directory,
                backend=SimulatedBackend(1, make_curve(sleep)), points_to_evaluate=POINTS, resume=resume)


N_ITERATIONS = 2


def main():
    logging.basicConfig(level=logging.WARNING)
    working_directory, run_id, sleep = sys.argv[1], sys.argv[2], float(sys.argv[3])
    opt = make(working_directory, run_id, sleep, resume=len(sys.argv) > 4 and sys.argv[4] == "resume")
    opt._open_journal()
    print("journal", opt.journal.directory, flush=True)
    result = opt.run(n_iterations=N_ITERATIONS, progress=False)
    opt.shutdown()
    print("done", len(result.get_all_runs()), flush=True)


if __name__ == "__main__":
    main()
