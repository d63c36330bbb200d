"""The shared credentials file: private JSON, found by workers, never used when stale."""

import json
import logging
import os
import stat
import threading
import time

import pytest

from bandster.core import credentials
from bandster.core.credentials import (
    CredentialsError,
    credentials_path,
    load_credentials,
    wait_for_credentials,
    write_private_json,
)
from bandster.core.nameserver import NameServer
from bandster.core.worker import Worker


def _stale_file(directory, run_id):
    """Leave the credentials file of a name server that has gone, as a crashed master would."""
    ns = NameServer(run_id=run_id, working_directory=str(directory))
    ns.start()
    with open(ns.conf_fn) as fh:
        record = json.load(fh)
    ns.shutdown()
    assert not os.path.exists(ns.conf_fn)  # a clean shutdown removes it
    write_private_json(ns.conf_fn, record)
    return record


def test_file_is_private_json_with_address_secret_and_start_time(nameserver, run_id, tmp_path):
    path = credentials_path(str(tmp_path), run_id)
    assert nameserver.conf_fn == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as fh:
        record = json.load(fh)
    assert record["host"] == nameserver.host and record["port"] == nameserver.port
    assert record["secret"] == nameserver.secret and record["run_id"] == run_id
    assert abs(record["started"] - time.time()) < 60 and record["pid"] == os.getpid()
    assert load_credentials(str(tmp_path), run_id, num_tries=1) == (nameserver.host, nameserver.port,
                                                                    nameserver.secret)


@pytest.mark.timeout(60)
def test_stale_file_is_never_used(tmp_path, run_id, caplog):
    record = _stale_file(tmp_path, run_id)
    path = credentials_path(str(tmp_path), run_id)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bandster.core.credentials"):
        with pytest.raises(CredentialsError) as info:
            wait_for_credentials(str(tmp_path), run_id, num_tries=4, interval=0.25)
    assert time.monotonic() - start < 10  # bounded by num_tries * interval (+ a ping each)
    message = str(info.value)
    assert path in message and "stale" in message and f"{record['host']}:{record['port']}" in message
    assert "start the master again" in message
    # reported once in the log, not once per try
    assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1
    # HpBandSter-style workers get the same refusal (a RuntimeError naming the file)
    worker = Worker(run_id=run_id)
    with pytest.raises(RuntimeError, match="stale"):
        worker.load_nameserver_credentials(str(tmp_path), num_tries=2, interval=0.1)
    assert worker.nameserver is None and worker.nameserver_secret is None


@pytest.mark.timeout(60)
def test_waiting_worker_takes_the_new_masters_file(tmp_path, run_id):
    stale = _stale_file(tmp_path, run_id)
    started = {}

    def new_master():
        time.sleep(0.8)
        ns = NameServer(run_id=run_id, working_directory=str(tmp_path))
        started["ns"] = ns
        ns.start()

    thread = threading.Thread(target=new_master)
    thread.start()
    try:
        worker = Worker(run_id=run_id)
        worker.load_nameserver_credentials(str(tmp_path), num_tries=100, interval=0.1)
        thread.join()
        ns = started["ns"]
        assert (worker.nameserver, worker.nameserver_port, worker.nameserver_secret) == (ns.host, ns.port, ns.secret)
        assert ns.secret != stale["secret"]
    finally:
        thread.join()
        if "ns" in started:
            started["ns"].shutdown()


def test_a_live_name_server_with_another_secret_counts_as_stale(nameserver, run_id, tmp_path):
    other = tmp_path / "other"
    credentials.write_credentials(str(other), run_id, nameserver.host, nameserver.port, "not-the-secret")
    with pytest.raises(CredentialsError, match="stale"):
        wait_for_credentials(str(other), run_id, num_tries=1, interval=0.1)


def test_missing_and_incomplete_files_are_named(tmp_path, run_id):
    path = credentials_path(str(tmp_path), run_id)
    with pytest.raises(CredentialsError) as info:
        wait_for_credentials(str(tmp_path), run_id, num_tries=2, interval=0.05)
    assert path in str(info.value) and "did not appear" in str(info.value)
    with open(path, "w") as fh:
        fh.write('{"format": "bandster-credentials", "host": ')  # half-written / garbled
    with pytest.raises(CredentialsError) as info:
        wait_for_credentials(str(tmp_path), run_id, num_tries=2, interval=0.05)
    assert path in str(info.value) and "not a complete" in str(info.value)


def test_newer_than_and_unverified_reads(tmp_path, run_id):
    stale = _stale_file(tmp_path, run_id)
    assert wait_for_credentials(str(tmp_path), run_id, num_tries=1, verify=False)["secret"] == stale["secret"]
    with pytest.raises(CredentialsError, match="started before"):
        wait_for_credentials(str(tmp_path), run_id, num_tries=1, verify=False, newer_than=stale["started"] + 1)


def test_new_master_replaces_the_file_and_says_so(tmp_path, run_id, caplog):
    _stale_file(tmp_path, run_id)
    path = credentials_path(str(tmp_path), run_id)
    first = NameServer(run_id=run_id, working_directory=str(tmp_path))
    second = NameServer(run_id=run_id, working_directory=str(tmp_path))
    try:
        with caplog.at_level(logging.INFO, logger="bandster.core.credentials"):
            first.start()
            assert any("replacing the stale credentials file" in r.getMessage() for r in caplog.records)
            assert load_credentials(str(tmp_path), run_id, num_tries=1)[2] == first.secret
            # a second live master of the same run_id in the same directory: replaced, with a warning
            second.start()
            assert any(r.levelno == logging.WARNING and "still running" in r.getMessage() for r in caplog.records)
        first.shutdown()  # leaves the second one's file alone
        assert load_credentials(str(tmp_path), run_id, num_tries=1)[2] == second.secret
        second.shutdown()
        assert not os.path.exists(path)
    finally:
        first.shutdown()
        second.shutdown()
