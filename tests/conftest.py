"""Shared fixtures: a real name server per test, and checks that nothing is left running."""

import itertools
import os
import subprocess
import sys
import threading
import time

import pytest

from bandster.core.nameserver import NameServer

_ids = itertools.count()
HERE = os.path.dirname(os.path.abspath(__file__))
#: scripts and modules the tests share (workers, masters, helpers); importable by their names
HELPERS = os.path.join(HERE, "helpers")
if HELPERS not in sys.path:
    sys.path.insert(0, HELPERS)


@pytest.fixture
def run_id():
    return f"t{os.getpid()}_{next(_ids)}"


@pytest.fixture
def nameserver(run_id, tmp_path, no_thread_leak):
    """A real name server for the test; every thread the test starts (the name server's too) must be gone at
    its end."""
    ns = NameServer(run_id=run_id, working_directory=str(tmp_path))
    host, port = ns.start()
    yield ns
    ns.shutdown()


@pytest.fixture
def no_thread_leak():
    """Fail if a bandster or Pyro thread started by the test is still alive at its end (after a grace of a few
    seconds for threads that are finishing)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0

    def left():
        return [t for t in threading.enumerate() if t not in before and t.is_alive()
                and (t.name.startswith("bandster") or t.name.startswith("Pyro"))]

    for thread in left():
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not left(), f"threads left running: {[t.name for t in left()]}"


@pytest.fixture
def spawn():
    """Start Python processes (``spawn(args...)``); every one still alive is killed at the end of the test."""
    procs = []

    def _spawn(*args, **kwargs):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([HELPERS, os.environ.get("PYTHONPATH", "")]))
        env.update(kwargs.pop("env", {}))
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, **kwargs)
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
