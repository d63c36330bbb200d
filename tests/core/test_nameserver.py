"""Name server, credentials and handshake secrets, against a real Pyro5 name server."""

import json
import os
import socket
import stat

import Pyro5.errors
import pytest

from bandster.core import credentials
from bandster.core.nameserver import NameServer, nic_name_to_host, validate_run_id
from bandster.core.security import nameserver_proxy
from bandster.core.worker import Worker


def test_nic_name_to_host_loopback():
    assert nic_name_to_host("lo") == "127.0.0.1"


def test_nic_name_to_host_unknown_lists_interfaces():
    with pytest.raises(ValueError) as err:
        nic_name_to_host("no_such_nic0")
    assert "no_such_nic0" in str(err.value) and "lo (127.0.0.1)" in str(err.value)


@pytest.mark.parametrize("bad", ["a.b", "x y", "", "run/1"])
def test_run_id_validation(bad):
    with pytest.raises(ValueError, match="run_id"):
        validate_run_id(bad)


def test_start_returns_address_and_serves_with_secret(nameserver, no_thread_leak):
    host, port = nameserver.host, nameserver.port
    with nameserver_proxy(host, port, nameserver.secret) as ns:
        assert "Pyro.NameServer" in ns.list()


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_wrong_or_missing_secret_is_rejected(nameserver, secret):
    with nameserver_proxy(nameserver.host, nameserver.port, secret, timeout=5) as ns:
        with pytest.raises(Pyro5.errors.CommunicationError, match="handshake rejected"):
            ns.list()
        with pytest.raises(Pyro5.errors.CommunicationError):
            ns.register("intruder", "PYRO:x@127.0.0.1:1")


def test_credentials_file_is_private_json(nameserver, tmp_path, run_id):
    path = credentials.credentials_path(str(tmp_path), run_id)
    assert nameserver.conf_fn == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as fh:
        record = json.load(fh)  # JSON, never a pickle
    assert (record["host"], record["port"], record["secret"]) == (nameserver.host, nameserver.port, nameserver.secret)
    assert record["run_id"] == run_id and record["started"] > 0


def test_worker_reads_credentials(nameserver, tmp_path, run_id):
    w = Worker(run_id=run_id)
    w.load_nameserver_credentials(str(tmp_path), num_tries=1)
    assert (w.nameserver, w.nameserver_port, w.nameserver_secret) == (
        nameserver.host, nameserver.port, nameserver.secret)


def test_missing_credentials_error_names_the_path(tmp_path):
    w = Worker(run_id="nobody")
    with pytest.raises(RuntimeError) as err:
        w.load_nameserver_credentials(str(tmp_path), num_tries=2, interval=0.01)
    assert credentials.credentials_path(str(tmp_path), "nobody") in str(err.value)


def test_shutdown_removes_credentials_and_is_idempotent(tmp_path, no_thread_leak):
    ns = NameServer(run_id="rm", working_directory=str(tmp_path))
    ns.start()
    assert os.path.exists(ns.conf_fn)
    ns.shutdown()
    ns.shutdown()
    assert not os.path.exists(ns.conf_fn)


def test_port_in_use_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            NameServer(run_id="busy", port=port).start()


def test_secret_found_for_local_name_server(nameserver):
    assert credentials.find_secret(nameserver.host, nameserver.port) == nameserver.secret
    assert credentials.find_secret("localhost", nameserver.port) == nameserver.secret
    assert credentials.find_secret(nameserver.host, nameserver.port, explicit="given") == "given"


def test_worker_without_name_server_fails_in_foreground():
    w = Worker(run_id="alone", nameserver="127.0.0.1", nameserver_port=1, nameserver_wait=1)
    with pytest.raises(RuntimeError, match="cannot reach the name server"):
        w.run(background=False)
