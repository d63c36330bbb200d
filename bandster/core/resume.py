"""Reading what a resume needs from a journal: the Result, the dispatch counts, the manifest.

The replay itself is each scheduler's (:meth:`bandster.schedulers.Scheduler.replay`); the runner calls it.
The readers live in :mod:`bandster.records.format` (re-exported here).
"""

from __future__ import annotations

import collections

from bandster.records.format import dispatch_counts, read_manifest
from bandster.records.result import Result, logged_results_to_HBS_result

__all__ = ["dispatch_counts", "load", "read_manifest"]


def load(directory: str) -> tuple[Result, collections.Counter]:
    """The journal in ``directory`` read back, and its dispatch counts."""
    return logged_results_to_HBS_result(directory), dispatch_counts(directory)
