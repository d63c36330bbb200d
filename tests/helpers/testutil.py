"""Small helpers shared by the end-to-end tests."""

import json
import os
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
