"""A worker started before its name server waits for it (saying so), then gives up the way the caller asked."""

import logging
import threading

import ConfigSpace as CS
import pytest

from bandster.core import waiting
from bandster.core.nameserver import NameServer
from bandster.optimizers import RandomSearch

from testutil import wait_until
from toy_workers import QuadraticWorker


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


@pytest.fixture
def quick_warnings(monkeypatch):
    """Waits report themselves after 0.2 s instead of a few seconds."""
    monkeypatch.setattr(waiting, "WARNING_INTERVAL", 0.2)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_worker_started_before_its_name_server_waits_for_it_and_serves(run_id, tmp_path, caplog, quick_warnings,
                                                                        no_thread_leak):
    port = _free_port()
    worker = QuadraticWorker(run_id=run_id, nameserver="127.0.0.1", nameserver_port=port, nameserver_wait=60)
    with caplog.at_level(logging.WARNING, logger="bandster"):
        worker.run(background=True)
        wait_until(lambda: "waited" in caplog.text and "for the name server" in caplog.text, timeout=30)
    assert f"127.0.0.1:{port}" in caplog.text and "nameserver_wait" in caplog.text
    assert worker.thread is not None and worker.thread.is_alive() and worker.error is None
    ns = NameServer(run_id=run_id, host="127.0.0.1", port=port)
    ns.start()
    try:
        opt = RandomSearch(configspace=space(), run_id=run_id, nameserver="127.0.0.1", nameserver_port=port,
                           working_directory=str(tmp_path), min_budget=1, max_budget=1)
        result = opt.run(n_iterations=1, min_n_workers=1)
        opt.shutdown(shutdown_workers=True)
        worker.thread.join(30)  # HpBandSter users join Worker.thread
        assert not worker.thread.is_alive()
        assert len(result.get_all_runs()) == 1 and result.get_all_runs()[0].loss is not None
    finally:
        worker.shutdown()
        ns.shutdown()


@pytest.mark.timeout(60)
def test_foreground_worker_raises_after_its_bound(run_id, no_thread_leak):
    port = _free_port()
    worker = QuadraticWorker(run_id=run_id, nameserver="127.0.0.1", nameserver_port=port, nameserver_wait=0.5)
    with pytest.raises(RuntimeError, match=rf"cannot reach the name server at 127.0.0.1:{port}.*after waiting 0.5 s"):
        worker.run(background=False)
    assert not worker.is_running


@pytest.mark.timeout(60)
def test_background_worker_logs_the_error_and_its_thread_ends(run_id, caplog, no_thread_leak):
    port = _free_port()
    worker = QuadraticWorker(run_id=run_id, nameserver="127.0.0.1", nameserver_port=port, nameserver_wait=0.5)
    with caplog.at_level(logging.ERROR, logger="bandster"):
        worker.run(background=True)  # does not raise in the caller (HpBandSter's behaviour)
        worker.thread.join(30)
    assert not worker.thread.is_alive()
    assert "cannot reach the name server" in worker.error
    assert any(r.levelno == logging.ERROR and "cannot reach the name server" in r.getMessage() for r in caplog.records)


@pytest.mark.timeout(60)
def test_a_worker_waiting_for_its_name_server_can_be_stopped(run_id, no_thread_leak):
    worker = QuadraticWorker(run_id=run_id, nameserver="127.0.0.1", nameserver_port=_free_port(), nameserver_wait=600)
    worker.run(background=True)
    stopper = threading.Timer(0.3, worker.request_stop)
    stopper.start()
    assert worker.wait(30)
    stopper.join()
    assert worker.error is None and not worker.is_running


@pytest.mark.timeout(60)
def test_worker_with_a_wrong_run_id_says_which_runs_exist(nameserver, run_id, tmp_path, caplog, quick_warnings):
    opt = RandomSearch(configspace=space(), run_id=run_id, nameserver=nameserver.host,
                       nameserver_port=nameserver.port, working_directory=str(tmp_path), min_budget=1, max_budget=1)
    worker = QuadraticWorker(run_id="typo_" + run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    try:
        with caplog.at_level(logging.WARNING, logger="bandster"):
            worker.run(background=True)
            wait_until(lambda: "for a master of run" in caplog.text, timeout=30)
        line = next(r.getMessage() for r in caplog.records if "for a master of run" in r.getMessage())
        assert f"'typo_{run_id}'" in line and f"run {run_id!r} (a master)" in line
    finally:
        worker.shutdown()
        opt.shutdown()


@pytest.mark.timeout(60)
def test_master_without_workers_warns_repeatedly_and_names_other_runs(nameserver, run_id, tmp_path, caplog,
                                                                        quick_warnings):
    stray = QuadraticWorker(run_id="other_" + run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    stray.run(background=True)
    opt = RandomSearch(configspace=space(), run_id=run_id, nameserver=nameserver.host,
                       nameserver_port=nameserver.port, working_directory=str(tmp_path), min_budget=1, max_budget=1,
                       max_wait_for_workers=1.5)
    try:
        with caplog.at_level(logging.WARNING, logger="bandster"):
            with pytest.raises(RuntimeError, match="max_wait_for_workers"):
                opt.run(n_iterations=1, min_n_workers=2)
        lines = [r.getMessage() for r in caplog.records
                 if r.levelno == logging.WARNING and r.getMessage().startswith("waiting")]
        assert len(lines) >= 2, caplog.text  # it repeats
        assert "2 workers (0 present)" in lines[0] and f"run {run_id}" in lines[0]
        assert f"--nameserver {nameserver.host} --nameserver-port {nameserver.port} --run-id {run_id}" in lines[0]
        assert f"run 'other_{run_id}' (1 worker)" in lines[0]
    finally:
        opt.shutdown()
        stray.shutdown()
