"""A PBT compute for the tests that checks whose checkpoint it loads; also a worker process and a master script:

    python pbt_helpers.py worker RUN_ID NS_HOST NS_PORT ID
    python pbt_helpers.py master SHARED_DIR RUN_ID [resume]

Training: ``w`` starts at 0 and each budget unit does ``w += lr * (1 - w)``; the loss is ``(1 - w)^2``. The
checkpoint of budget ``b`` is ``ckpt_<b>.json`` in the config directory (a job re-run after a crash finds the one it
starts from), with the writer's config id and process id; the result's info says which checkpoint was loaded.
``PBT_FAIL=<member>:<budget>:<marker file>`` makes that job fail once; ``PBT_HANG=<member>:<budget>:<pid file>``
makes its first attempt write its process id there and hang (to be killed); ``PBT_SLEEP`` slows every job down;
``PBT_LOG`` appends ``<config_id> <budget>`` per computation.
"""

import json
import os
import sys
import time

from bandster.core.worker import Worker


def checkpoint_path(directory, budget):
    return os.path.join(directory, f"ckpt_{float(budget):g}.json")


def train(config, budget, config_id, config_directory, previous_budget=None, **kwargs):
    start = float(previous_budget or 0.0)
    fail = os.environ.get("PBT_FAIL")
    if fail:
        member, at, marker = fail.split(":", 2)
        if config_id[0] == int(member) and float(budget) == float(at) and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError(f"injected failure of member {member} at budget {at}")
    hang = os.environ.get("PBT_HANG")
    if hang:
        member, at, pid_file = hang.split(":", 2)
        if config_id[0] == int(member) and float(budget) == float(at) and not os.path.exists(pid_file):
            with open(pid_file + ".tmp", "w") as fh:  # the test SIGKILLs this process mid-interval
                fh.write(str(os.getpid()))
            os.rename(pid_file + ".tmp", pid_file)
            time.sleep(120)
    if os.environ.get("PBT_SLEEP"):
        time.sleep(float(os.environ["PBT_SLEEP"]))
    loaded = {"writer": None, "budget": 0.0, "pid": None, "w": 0.0}
    if start > 0:
        with open(checkpoint_path(config_directory, start)) as fh:  # FileNotFoundError: a wrong copy
            loaded = json.load(fh)
        if float(loaded["budget"]) != start:
            raise RuntimeError(f"checkpoint of budget {loaded['budget']} where {start} was expected")
    w = float(loaded["w"])
    os.makedirs(config_directory, exist_ok=True)
    for _ in range(int(round(float(budget) - start))):
        w += config["lr"] * (1.0 - w)
    tmp = checkpoint_path(config_directory, budget) + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"w": w, "budget": float(budget), "writer": list(config_id), "pid": os.getpid()}, fh)
    os.replace(tmp, checkpoint_path(config_directory, budget))
    if os.environ.get("PBT_LOG"):
        with open(os.environ["PBT_LOG"], "a") as fh:
            fh.write(f"{list(config_id)} {float(budget)}\n")
    return {"loss": (1.0 - w) ** 2, "info": {"loaded_from": loaded["writer"], "loaded_budget": loaded["budget"],
                                             "loaded_pid": loaded["pid"], "pid": os.getpid()}}


class PBTWorker(Worker):
    def compute(self, config_id, config, budget, working_directory, config_directory=None, previous_budget=None,
                **kwargs):
        return train(config, budget, config_id, config_directory, previous_budget)


def check_checkpoints(result, failures_allowed=False):
    """Every job loaded the checkpoint its lineage says it started from (and nothing failed unless allowed)."""
    id2conf = result.get_id2config_mapping()
    runs = sorted(result.get_all_runs(), key=lambda r: (r.config_id, r.budget))
    previous = {}
    for run in runs:
        if failures_allowed and run.loss is None:
            continue
        assert run.loss is not None, (run.config_id, run.budget, run.error_logs)
        info = id2conf[run.config_id]["config_info"].get("pbt", {})
        if run.config_id in previous:  # a later job of the same generation: its own checkpoint
            expected = (list(run.config_id), previous[run.config_id])
        elif info.get("source_config_id") is not None:
            expected = (info["source_config_id"], float(info["source_budget"]))
        else:
            expected = (None, 0.0)
        assert (run.info["loaded_from"], float(run.info["loaded_budget"])) == expected, (run.config_id, run.info)
        previous[run.config_id] = float(run.budget)


def check_population(result, population_size, max_budget):
    """Every member trained to max_budget through a contiguous chain of jobs, each loading the right checkpoint."""
    df = result.to_dataframe()
    assert sorted(df["member"].unique().tolist()) == list(range(population_size))
    assert all(df["member"] == [cid[0] for cid in df["config_id"]])
    for member in range(population_size):
        chain = result.get_lineage(member)
        assert chain[-1]["member"] == member and chain[-1]["budget_end"] == max_budget
        assert chain[0]["kind"] == "initial" and chain[0]["budget_start"] == 0.0
        for before, after in zip(chain, chain[1:], strict=False):  # contiguous: each step starts where the last ends
            assert after["budget_start"] == before["budget_end"]
            assert after["source_config_id"] == before["config_id"]
    check_checkpoints(result)


def space():
    import ConfigSpace as CS

    return CS.ConfigurationSpace({"lr": CS.Float("lr", (0.01, 0.5), log=True)}, seed=0)


def master(shared, run_id, resume):
    import logging

    from bandster.backends import ThreadBackend
    from bandster.optimizers import PBT

    logging.basicConfig(level=logging.WARNING)
    pbt = PBT(space(), population_size=4, perturbation_interval=2, max_budget=16, seed=5, run_id=run_id,
              working_directory=shared, resume=resume, backend=ThreadBackend(2, train))
    pbt._open_journal()
    print("journal", pbt.journal.directory, flush=True)
    result = pbt.run(progress=False)
    pbt.shutdown()
    print("done", len(result.get_all_runs()), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        run_id, host, port, wid = sys.argv[2:6]
        worker = PBTWorker(run_id=run_id, nameserver=host, nameserver_port=int(port), id=wid)
        print("worker ready", worker.worker_id, flush=True)
        worker.run(background=False)
    else:
        master(sys.argv[2], sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "resume")
