"""Every daemon (name server, dispatcher, workers) rejects clients without the run's secret; nothing is unpickled."""

import os
import pickle

import ConfigSpace as CS
import Pyro5.errors
import Pyro5.serializers
import pytest

from bandster.core import credentials
from bandster.core.names import dispatcher_name, worker_prefix
from bandster.core.security import make_proxy, nameserver_proxy
from bandster.optimizers import RandomSearch

from toy_workers import QuadraticWorker


@pytest.fixture
def live_run(nameserver, run_id, tmp_path):
    worker = QuadraticWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port)
    worker.run(background=True)
    opt = RandomSearch(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id,
                       nameserver=nameserver.host, nameserver_port=nameserver.port, working_directory=str(tmp_path))
    opt.wait_for_workers(1)
    with nameserver_proxy(nameserver.host, nameserver.port, nameserver.secret) as ns:
        dispatcher_uri = ns.lookup(dispatcher_name(run_id))
        worker_uri = next(iter(ns.list(prefix=worker_prefix(run_id)).values()))
    yield nameserver, opt, worker, str(dispatcher_uri), worker_uri
    opt.shutdown(shutdown_workers=True)
    worker.shutdown()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_strangers_are_rejected_everywhere(live_run, secret):
    nameserver, opt, worker, dispatcher_uri, worker_uri = live_run
    attempts = {
        "list names": lambda: nameserver_proxy(nameserver.host, nameserver.port, secret).list(),
        "register a name": lambda: nameserver_proxy(nameserver.host, nameserver.port, secret).register(
            "bandster.evil", "PYRO:x@127.0.0.1:1"),
        "join as a worker": lambda: make_proxy(dispatcher_uri, secret).announce("evil", {"uri": "PYRO:x@h:1"}),
        "submit a result": lambda: make_proxy(dispatcher_uri, secret).next_job(
            "evil", {"id": [0, 0, 0], "result": {"loss": -1e9, "info": None}, "exception": None}, 0),
        "shut a worker down": lambda: make_proxy(worker_uri, secret).shutdown(),
        "ping a worker": lambda: make_proxy(worker_uri, secret).ping(),
    }
    for what, attempt in attempts.items():
        with pytest.raises(Pyro5.errors.CommunicationError, match="handshake rejected"):
            attempt()
            pytest.fail(f"a client with secret {secret!r} could {what}")
    assert worker.is_running
    assert opt.dispatcher.number_of_workers() == 1


@pytest.mark.timeout(60)
def test_the_right_secret_gets_in(live_run):
    nameserver, opt, worker, dispatcher_uri, worker_uri = live_run
    with make_proxy(worker_uri, nameserver.secret) as proxy:
        assert proxy.ping() is True
    with nameserver_proxy(nameserver.host, nameserver.port, nameserver.secret) as ns:
        assert dispatcher_name(opt.run_id) in ns.list()


def test_no_pickle_serializer_on_the_wire():
    assert Pyro5.config.SERIALIZER == "serpent"
    assert "pickle" not in Pyro5.serializers.serializers
    assert all("pickle" not in type(s).__name__.lower() for s in Pyro5.serializers.serializers.values())


def test_credentials_reader_never_unpickles(tmp_path):
    """A pickle planted as the credentials file must not run: the reader only parses JSON."""
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = credentials.credentials_path(str(tmp_path), "victim")
    with open(path, "wb") as fh:
        pickle.dump(Exploit(), fh)
    assert credentials.read_credentials(path) is None
    with pytest.raises(RuntimeError, match="credentials"):
        credentials.wait_for_credentials(str(tmp_path), "victim", num_tries=1, interval=0.01)
    assert not marker.exists()
    assert not os.path.exists(str(marker))
