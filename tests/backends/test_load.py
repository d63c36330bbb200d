"""Load: 16 worker processes, 3,000 instant jobs; nothing lost, nothing run twice (issue 5)."""

import collections
import json
import os

import ConfigSpace as CS
import pytest

from bandster.optimizers import RandomSearch

from testutil import HELPERS

N_WORKERS = 16
N_ITERATIONS = 300  # RandomSearch with (1, 3**9, 3) evaluates 10 configurations per iteration: 3,000 jobs
PER_ITERATION = 10
MAX_BUDGET = 3**9


def read_lines(path):
    """Every line of a journal file, parsed; a line that does not parse fails the test."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


@pytest.mark.timeout(150)
def test_16_processes_3000_instant_jobs_nothing_lost_or_duplicated(nameserver, run_id, tmp_path, spawn):
    procs = [spawn(os.path.join(HELPERS, "load_workers.py"), run_id, nameserver.host, str(nameserver.port), str(i))
             for i in range(N_WORKERS)]
    space = CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    rs = RandomSearch(configspace=space, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                      min_budget=1, max_budget=MAX_BUDGET, eta=3, working_directory=str(tmp_path), seed=0)
    try:
        result = rs.run(n_iterations=N_ITERATIONS, min_n_workers=N_WORKERS)
    finally:
        rs.shutdown(shutdown_workers=True)
    for proc in procs:  # every worker process leaves when the master tells it to
        assert proc.wait(timeout=30) == 0, proc.stdout.read()

    expected = {((i, 0, k), float(MAX_BUDGET)) for i in range(N_ITERATIONS) for k in range(PER_ITERATION)}
    assert len(expected) == 3000

    # the journal: one results.json line per job, none missing, none twice
    directory = rs.journal.directory
    lines = read_lines(os.path.join(directory, "results.json"))
    per_key = collections.Counter((tuple(line[0]), float(line[1])) for line in lines)
    assert len(lines) == 3000
    assert [key for key, n in per_key.items() if n > 1] == []
    assert set(per_key) == expected
    assert all(line[3] is not None and line[4] is None and line[5]["status"] == "ok" for line in lines)
    config_lines = read_lines(os.path.join(directory, "configs.json"))
    assert sorted(tuple(line[0]) for line in config_lines) == sorted(cid for cid, _ in expected)

    # the Result (rebuilt from the journal by run()) holds the same 3,000 runs with the right values
    runs = result.get_all_runs()
    assert len(runs) == 3000
    assert {(r.config_id, r.budget) for r in runs} == expected
    configs = result.get_id2config_mapping()
    assert all(r.loss == configs[r.config_id]["config"]["x"] and r.status == "ok" for r in runs)
    assert all(r.attempt == 1 for r in runs)

    # every worker process took part
    jobs_per_pid = collections.Counter(r.info["pid"] for r in runs)
    assert set(jobs_per_pid) == {proc.pid for proc in procs}, jobs_per_pid
