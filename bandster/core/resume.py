"""Reading what a resume needs from a journal: the Result, the dispatch counts, the manifest.

The replay itself is each scheduler's (:meth:`bandster.schedulers.Scheduler.replay`); the runner calls it.
"""

from __future__ import annotations

import collections
import json
import logging
import os

from bandster.core.result import Result, logged_results_to_HBS_result

logger = logging.getLogger(__name__)


def dispatch_counts(directory: str) -> collections.Counter:
    """How often each (config_id, budget) was dispatched, from ``events.json``."""
    counts: collections.Counter = collections.Counter()
    path = os.path.join(directory, "events.json")
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if '"dispatch"' not in line:
                    continue
                try:
                    event = json.loads(line)
                    counts[(tuple(event["config_id"]), float(event["budget"]))] += 1
                except (ValueError, KeyError, TypeError):
                    continue
    except OSError:
        pass
    return counts


def read_manifest(directory: str) -> dict | None:
    """The journal's run.json, or None if it is missing or unreadable."""
    try:
        with open(os.path.join(directory, "run.json")) as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def load(directory: str) -> tuple[Result, collections.Counter]:
    """The journal in ``directory`` read back, and its dispatch counts."""
    return logged_results_to_HBS_result(directory), dispatch_counts(directory)
