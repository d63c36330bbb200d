"""The run journal: line formats, strict JSON, durability, locking and the writer thread."""

from __future__ import annotations

import gc
import json
import math
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from bandster.core.job import Job
from bandster.records.journal import WRITER_THREAD_NAME, Journal, json_result_logger


def _reject_constant(token: str) -> None:
    raise ValueError(f"non-standard JSON token {token}")


def strict_loads(line: str):
    """A parser that refuses the bare NaN/Infinity tokens."""
    return json.loads(line, parse_constant=_reject_constant)


def read_lines(path: str) -> list:
    with open(path) as fh:
        return [strict_loads(line) for line in fh]


def make_job(config_id=(0, 0, 0), budget=1.0, loss=0.5, info=None, exception=None, worker="w1", attempt=1):
    job = Job(config_id, config={"x": 0.25, "c": "a"}, budget=budget, working_directory="/tmp")
    job.timestamps = {"submitted": 100.0, "started": 100.5, "finished": 101.25}
    job.result = None if loss is None else {"loss": loss, "info": {} if info is None else info}
    job.exception = exception
    job.worker_name = worker
    job.attempt = attempt
    return job


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WRITER_THREAD_NAME]


# --- line formats ------------------------------------------------------------------------------------


def test_line_formats(tmp_path):
    with Journal(tmp_path) as journal:
        journal.new_config((0, 0, 0), {"x": 0.25, "c": "a"}, {"model_based_pick": False})
        journal(make_job(loss=0.5, info={"acc": 0.9}))
        journal(make_job(budget=3.0, loss=None, exception="Traceback: boom", worker="w2", attempt=2))
        journal.event("dispatch", config_id=[0, 0, 0], budget=3.0, worker="w2")
    assert read_lines(journal.config_fn) == [[[0, 0, 0], {"x": 0.25, "c": "a"}, {"model_based_pick": False}]]
    stamps = {"submitted": 100.0, "started": 100.5, "finished": 101.25}
    assert read_lines(journal.results_fn) == [
        [
            [0, 0, 0],
            1.0,
            stamps,
            {"loss": 0.5, "info": {"acc": 0.9}},
            None,
            {"worker": "w1", "attempt": 1, "status": "ok"},
        ],
        [[0, 0, 0], 3.0, stamps, None, "Traceback: boom", {"worker": "w2", "attempt": 2, "status": "failed"}],
    ]
    (event,) = read_lines(journal.events_fn)
    assert set(event) == {"time", "event", "config_id", "budget", "worker"}
    assert event["event"] == "dispatch" and event["worker"] == "w2" and abs(event["time"] - time.time()) < 60
    # one value per line, each line terminated
    with open(journal.results_fn) as fh:
        text = fh.read()
    assert text.endswith("\n") and text.count("\n") == 2


def test_new_config_is_deduplicated(tmp_path):
    with Journal(tmp_path) as journal:
        for _ in range(3):
            journal.new_config([1, 0, 2], {"x": 1}, {})
        journal.new_config((1, 0, 3), {"x": 2}, {})
        assert journal.config_ids == {(1, 0, 2), (1, 0, 3)}
    assert [line[0] for line in read_lines(journal.config_fn)] == [[1, 0, 2], [1, 0, 3]]


def test_result_for_unknown_config_writes_config_line(tmp_path):
    with Journal(tmp_path) as journal:
        journal(make_job(config_id=(4, 1, 7)))
        journal(make_job(config_id=(4, 1, 7), budget=3.0))
    assert read_lines(journal.config_fn) == [[[4, 1, 7], {"x": 0.25, "c": "a"}, {}]]
    assert len(read_lines(journal.results_fn)) == 2


def test_strict_json_for_nonfinite_and_numpy(tmp_path):
    info = {
        "f32": np.float32(0.5),
        "i64": np.int64(3),
        "arr": np.arange(3),
        "flag": np.bool_(True),
        "curve": [1.0, float("nan"), float("inf")],
        "np_nan": np.float64("nan"),
    }
    with Journal(tmp_path) as journal:
        journal(make_job(config_id=(0, 0, 0), loss=float("nan"), info=info))
        journal(make_job(config_id=(0, 0, 1), loss=float("inf")))
        journal(make_job(config_id=(0, 0, 2), loss=-math.inf))
        journal(make_job(config_id=(0, 0, 3), loss=np.float64(0.125), budget=np.float64(9.0)))
        journal.new_config((0, 0, 4), {"s": np.str_("a"), "n": np.int64(2)}, {"score": np.float32("nan")})
        journal.event("worker_lost", value=float("-inf"), arr=np.zeros(2))
    results = read_lines(journal.results_fn)  # strict parser: would raise on a bare NaN
    assert [r[3]["loss"] for r in results] == ["NaN", "Infinity", "-Infinity", 0.125]
    assert [r[5]["status"] for r in results] == ["failed", "failed", "failed", "ok"]
    assert results[3][1] == 9.0
    assert results[0][3]["info"] == {
        "f32": 0.5,
        "i64": 3,
        "arr": [0, 1, 2],
        "flag": True,
        "curve": [1.0, "NaN", "Infinity"],
        "np_nan": "NaN",
    }
    assert read_lines(journal.config_fn)[-1] == [[0, 0, 4], {"s": "a", "n": 2}, {"score": "NaN"}]
    (event,) = read_lines(journal.events_fn)
    assert event["value"] == "-Infinity" and event["arr"] == [0.0, 0.0]


def test_unencodable_info_is_kept_as_repr(tmp_path, caplog):
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with Journal(tmp_path) as journal:
        journal(make_job(loss=1.0, info=cyclic))
    (line,) = read_lines(journal.results_fn)
    assert line[3]["loss"] == 1.0 and isinstance(line[3]["info"], str)
    assert "cannot be journaled" in caplog.text


# --- existing journals, overwrite, append ------------------------------------------------------------


def test_existing_journal_raises_file_exists(tmp_path):
    Journal(tmp_path).close()
    with pytest.raises(FileExistsError) as info:
        Journal(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "configs.json") in message and str(tmp_path / "results.json") in message
    assert "overwrite=True" in message and "new_journal_directory" in message
    # the failed attempt released the lock: the next journal can open
    Journal(tmp_path, overwrite=True).close()


def test_only_results_file_existing_is_named(tmp_path):
    (tmp_path / "results.json").write_text("")
    with pytest.raises(FileExistsError, match="results.json") as info:
        json_result_logger(str(tmp_path))
    assert "configs.json" not in str(info.value)


def test_overwrite_truncates_and_removes_stale_files(tmp_path):
    with Journal(tmp_path) as journal:
        journal.new_config((0, 0, 0), {"x": 1}, {})
        journal(make_job())
        journal.event("run_started")
        journal.write_manifest({"HB_config": {"eta": 3}})
        journal.write_result_pickle({"old": True})
    with Journal(tmp_path, overwrite=True) as journal:
        assert journal.config_ids == set()
    for name in ("configs.json", "results.json", "events.json"):
        assert (tmp_path / name).read_text() == ""
    assert not (tmp_path / "run.json").exists() and not (tmp_path / "results.pkl").exists()


def test_append_continues_after_torn_line(tmp_path):
    with Journal(tmp_path) as journal:
        journal.new_config((0, 0, 0), {"x": 1}, {})
        journal(make_job())
    with open(tmp_path / "results.json", "a") as fh:
        fh.write('[[0, 0, 0], 3.0, {"submitted"')  # a crash mid-line
    with Journal(tmp_path, append=True) as journal:
        assert journal.config_ids == {(0, 0, 0)}
        journal.new_config((0, 0, 0), {"x": 1}, {})  # known: not written again
        journal(make_job(budget=9.0))
    with open(tmp_path / "results.json") as fh:
        lines = fh.read().split("\n")
    assert lines[-1] == "" and len(lines) == 4
    assert strict_loads(lines[2])[1] == 9.0
    assert len(read_lines(journal.config_fn)) == 1


# --- locking -----------------------------------------------------------------------------------------


def test_lock_refuses_second_journal(tmp_path):
    first = Journal(tmp_path)
    try:
        with pytest.raises(RuntimeError, match="already open for writing") as info:
            Journal(tmp_path, overwrite=True)
        assert str(os.getpid()) in str(info.value)
        assert (tmp_path / "configs.json").exists()  # the refused journal touched nothing
    finally:
        first.close()
    Journal(tmp_path, overwrite=True).close()


def test_lock_refuses_other_process(tmp_path):
    code = (
        "import sys\n"
        "from bandster.records.journal import Journal\n"
        "try:\n"
        "    Journal(sys.argv[1], overwrite=True)\n"
        "except RuntimeError as err:\n"
        "    print('REFUSED', err)\n"
    )
    with Journal(tmp_path):
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "REFUSED" in done.stdout, done.stderr
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "REFUSED" not in done.stdout, done.stderr


def test_dropped_journal_releases_its_lock(tmp_path):
    journal = Journal(tmp_path)
    journal.new_config((0, 0, 0), {"x": 1}, {})
    del journal
    gc.collect()
    assert writer_threads() == []
    assert len(read_lines(tmp_path / "configs.json")) == 1  # flushed on finalization
    Journal(tmp_path, overwrite=True).close()


# --- durability and the writer thread ----------------------------------------------------------------


def test_flush_makes_lines_durable_without_close(tmp_path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd):
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    journal = Journal(tmp_path, fsync_interval=30.0)
    try:
        journal(make_job())  # without flush() these would wait up to 30 s for their fsync
        journal(make_job(budget=3.0))
        started = time.monotonic()
        before = len(synced)
        journal.flush()
        assert time.monotonic() - started < 10
        assert len(synced) > before  # flush() forced the fsync instead of waiting for the interval
        assert [line[1] for line in read_lines(journal.results_fn)] == [1.0, 3.0]
        assert journal.flush() is None  # nothing pending: returns at once
    finally:
        journal.close()


def test_fsync_is_batched(tmp_path, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    with Journal(tmp_path, fsync_interval=0.2) as journal:
        for i in range(2000):
            journal(make_job(config_id=(0, 0, i)))
        journal.flush()
    assert len(read_lines(journal.results_fn)) == 2000
    assert len(synced) < 100  # 4000 lines in two files, a handful of fsyncs


def test_lines_from_many_threads_stay_whole(tmp_path):
    with Journal(tmp_path) as journal:

        def produce(t: int) -> None:
            for i in range(300):
                journal(make_job(config_id=(t, 0, i), info={"pad": "x" * (i % 50)}))
                journal.event("dispatch", thread=t, i=i)

        threads = [threading.Thread(target=produce, args=(t,), name=f"producer-{t}") for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    results = read_lines(journal.results_fn)
    assert len(results) == 1200 and len({tuple(r[0]) for r in results}) == 1200
    assert len(read_lines(journal.events_fn)) == 1200
    assert len(journal.config_ids) == 1200


def test_close_joins_writer_and_is_idempotent(tmp_path, caplog):
    journal = Journal(tmp_path)
    assert len(writer_threads()) == 1 and writer_threads()[0].daemon
    journal(make_job())
    journal.close()
    journal.close()
    assert journal.closed and writer_threads() == []
    journal(make_job(budget=3.0))  # after close: dropped with a warning, no exception
    journal.event("late")
    assert "closed" in caplog.text
    assert len(read_lines(journal.results_fn)) == 1
    with Journal(tmp_path, overwrite=True) as again:
        assert not again.closed
    assert again.closed and writer_threads() == []


def test_caller_side_cost_is_small(tmp_path):
    jobs = [make_job(config_id=(i // 100, 0, i % 100), info={"acc": 0.9, "curve": [0.1, 0.2]}) for i in range(3000)]
    with Journal(tmp_path) as journal:
        started = time.perf_counter()
        for job in jobs:
            journal.new_config(job.id, job.kwargs["config"], {"model_based_pick": True})
            journal(job)
            journal.event("dispatch", config_id=list(job.id), budget=1.0, worker="w")
        per_job = (time.perf_counter() - started) / len(jobs)
    assert per_job < 1e-3, f"journaling costs {per_job * 1e6:.0f} us per job"
    assert len(read_lines(journal.results_fn)) == 3000


# --- manifest and pickle -----------------------------------------------------------------------------


def test_write_manifest_atomically_and_again(tmp_path):
    with Journal(tmp_path) as journal:
        assert journal.manifest is None
        journal.write_manifest({"version": 1, "HB_config": {"eta": 3.0, "budgets": (1.0, 3.0)}, "nan": float("nan")})
        assert json.loads((tmp_path / "run.json").read_text(), parse_constant=_reject_constant) == {
            "version": 1,
            "HB_config": {"eta": 3.0, "budgets": [1.0, 3.0]},
            "nan": "NaN",
        }
        journal.write_manifest({"version": 2, "n": np.int64(5)})
        assert journal.manifest == {"version": 2, "n": 5}
    assert json.loads((tmp_path / "run.json").read_text()) == {"version": 2, "n": 5}
    assert not [name for name in os.listdir(tmp_path) if ".tmp" in name]


def test_write_result_pickle(tmp_path):
    with Journal(tmp_path) as journal:
        journal.write_result_pickle({"a": [1, 2]})
        journal.write_result_pickle({"a": [3]})
    with open(tmp_path / "results.pkl", "rb") as fh:
        assert pickle.load(fh) == {"a": [3]}
    assert not [name for name in os.listdir(tmp_path) if ".tmp" in name]


def test_json_result_logger_is_hpbandster_compatible(tmp_path):
    import bandster.core.result as result_module

    assert result_module.json_result_logger is json_result_logger
    logger = json_result_logger(str(tmp_path / "logs"), True)  # HpBandSter's positional signature
    try:
        assert isinstance(logger, Journal)
        assert logger.config_fn == str(tmp_path / "logs" / "configs.json")
        assert logger.results_fn == str(tmp_path / "logs" / "results.json")
        assert logger.config_ids == set()
    finally:
        logger.close()


# --- json_result_logger as HpBandSter users call it (issue 11, items 13 and 14) ---


def _lines(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.mark.parametrize("given, written", [(0, 0), ("12", "12"), ((0, 0, 1), [0, 0, 1]), ([1, 2, 3], [1, 2, 3])])
def test_user_logger_keeps_ids_as_given(tmp_path, given, written):
    job = Job(given, budget=1, config={})
    assert job.id == (tuple(given) if isinstance(given, list) else given)  # only a list becomes a tuple
    logger = json_result_logger(str(tmp_path / "log"))
    try:
        logger.new_config(given, {"x": 1}, {})
        assert _lines(logger.config_fn) == [[written, {"x": 1}, {}]]
    finally:
        logger.close()


def test_user_logger_lines_are_readable_when_the_call_returns(tmp_path):
    """50 configurations and results, each read back right after its call (no flush, no close in between)."""
    logger = json_result_logger(str(tmp_path / "log"))
    try:
        for i in range(50):
            logger.new_config((0, 0, i), {"x": i}, {})
            assert _lines(logger.config_fn)[-1] == [[0, 0, i], {"x": i}, {}]
            job = Job((0, 0, i), budget=1.0, config={"x": i})
            job.timestamps = {"submitted": 1.0, "started": 2.0, "finished": 3.0}
            job.result = {"loss": float(i), "info": None}
            logger(job)
            assert _lines(logger.results_fn)[-1][:4] == [[0, 0, i], 1.0, job.timestamps, job.result]
    finally:
        logger.close()
