"""Small helpers shared by the end-to-end tests."""

import json
import os
import signal
import threading
import time

#: this folder: the scripts and modules the tests share
HELPERS = os.path.dirname(os.path.abspath(__file__))


def wait_until(predicate, timeout=60.0, step=0.02):
    """Poll ``predicate`` until it is true; fail after ``timeout`` s (tests only: the library never polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def result_lines(journal):
    """The parsed lines of a journal's results.json (none if it does not exist yet)."""
    path = os.path.join(journal, "results.json")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def kill_when_written(path, killed):
    """In a thread (returned, started): wait for ``path`` (a pid the objective wrote), SIGKILL that process and
    append its pid to ``killed``."""
    def watch():
        wait_until(lambda: os.path.exists(path), timeout=120)
        with open(path) as fh:
            pid = int(fh.read())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    thread = threading.Thread(target=watch, name="test-killer")
    thread.start()
    return thread
