"""Objectives the Dask tests run on real Dask workers (importable there by name: tests/helpers is on their path)."""

import json
import os
import time


def quadratic(config, budget):
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / budget, "info": {"pid": os.getpid()}}


def reporting(config, budget, report):
    """Reports every step; stops when told to (the ASHA stopping scheduler's decisions)."""
    steps = 0
    for step in range(1, int(budget) + 1):
        steps = step
        if report(step, (config["x"] - 0.3) ** 2 + 1.0 / step):
            break
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / steps, "info": {"steps": steps}}


def killed_once(config, budget, config_id, working_directory):
    """The first attempt of run (0, 0, 0) on budget 1 writes its Dask worker's pid and hangs (the test kills
    that worker process)."""
    marker = os.path.join(working_directory, "pid")
    if tuple(config_id) == (0, 0, 0) and budget == 1 and not os.path.exists(marker):
        with open(marker + ".tmp", "w") as fh:
            fh.write(str(os.getpid()))
        os.rename(marker + ".tmp", marker)
        time.sleep(120)
    return {"loss": config["x"] / budget, "info": {"pid": os.getpid()}}


def hangs_once(config, budget, config_id, working_directory):
    """Run (0, 0, 0) on budget 1 writes its process's pid and hangs in C code (time.sleep) past any timeout."""
    if tuple(config_id) == (0, 0, 0) and budget == 1:
        with open(os.path.join(working_directory, "hung.pid"), "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(600)
    return {"loss": config["x"] / budget, "info": {"pid": os.getpid()}}


def timed(config, budget, working_directory):
    """Records which process ran it and when (for the resources test)."""
    start = time.time()
    time.sleep(0.2)
    with open(os.path.join(working_directory, f"spans-{os.getpid()}.jsonl"), "a") as fh:
        fh.write(json.dumps([start, time.time()]) + "\n")
    return {"loss": config["x"] / budget, "info": {"pid": os.getpid()}}


def slow(config, budget):
    time.sleep(0.1 * budget)
    return {"loss": (config["x"] - 0.3) ** 2 + 1.0 / budget, "info": {}}


def returns_string(config, budget):
    return "not a dict"
