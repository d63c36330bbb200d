"""Resuming a crashed run (``resume=True``): rebuild the master's state from its journal.

Every iteration recorded in the journal is rebuilt by replaying it: the iteration is created again with
the bracket the schedule gives it, its configurations are handed out again in their recorded order (so
config ids and configurations are the same), and every recorded result is registered again, which
re-does the promotions. Runs that the journal has no result for (in flight at the crash, or never
started) are handed back to the master to be submitted first. Every recorded result, warm-start runs
included, is also fed to the config generator, so the model continues where it stopped.
"""

from __future__ import annotations

import collections
import logging
from typing import TYPE_CHECKING, Any

from bandster.core.job import Job
from bandster.records.format import dispatch_counts
from bandster.records.result import Result, logged_results_to_HBS_result

if TYPE_CHECKING:  # pragma: no cover
    from bandster.core.master import Master

logger = logging.getLogger(__name__)


def replay(master: Master, result: Result, attempts: collections.Counter) -> dict[str, int]:
    """Rebuild ``master``'s iterations from ``result`` (the journal read back); return counts for the log."""
    time_ref = result.HB_config.get("time_ref") or 0.0
    id2conf = result.get_id2config_mapping()
    done = {(r.config_id, float(r.budget)): r for r in result.get_all_runs()}
    generator = master.config_generator

    # the model sees everything recorded, warm-start runs included
    for run in result.get_all_runs():
        generator.new_result(Job.from_run(run, id2conf[run.config_id]["config"], time_ref), update_model=False)

    # initial-design points already handed out are not handed out again
    infos = [e["config_info"] for e in id2conf.values()]
    used = sum(1 for info in infos if isinstance(info, dict) and info.get("initial_design"))
    for _ in range(used):
        if master._initial_design is None or master._initial_design.pop() is None:
            break

    n_iterations = max((cid[0] for cid in id2conf), default=-1) + 1
    pending = 0
    for index in range(n_iterations):
        recorded = {cid: e for cid, e in id2conf.items() if cid[0] == index}
        iteration = master._new_iteration(index)
        fresh = iteration.config_sampler

        def sampler(budget: float, it: Any = iteration, recorded: dict = recorded, fresh: Any = fresh) -> tuple:
            entry = recorded.get((it.HPB_iter, it.stage, it.actual_num_configs[it.stage]))
            if entry is not None:
                return entry["config"], entry["config_info"]
            return fresh(budget)

        iteration.config_sampler = sampler
        while True:
            run = iteration.get_next_run()
            if run is None:
                break
            config_id, config, budget = run
            recorded_run = done.get((tuple(config_id), float(budget)))
            if recorded_run is None:
                master._pending_runs.append((run, attempts[(tuple(config_id), float(budget))] + 1))
                pending += 1
                continue
            iteration.register_result(Job.from_run(recorded_run, config, time_ref))
        iteration.config_sampler = fresh
    return {"iterations": n_iterations, "runs": len(done), "requeued": pending}


def load(directory: str) -> tuple[Result, collections.Counter]:
    """The journal in ``directory`` read back, and its dispatch counts."""
    return logged_results_to_HBS_result(directory), dispatch_counts(directory)
