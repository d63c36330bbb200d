"""Compatibility module: the run journal's writer moved to :mod:`bandster.records.journal`, its file names
and readers to :mod:`bandster.records.format`. The names are re-exported here unchanged."""

from bandster.records.format import (
    CONFIGS_FILENAME,
    EVENTS_FILENAME,
    LOCK_FILENAME,
    MANIFEST_FILENAME,
    PICKLE_FILENAME,
    RESULTS_FILENAME,
    RUNS_DIRNAME,
    latest_journal_directory,
    lock_holder,
    new_journal_directory,
)
from bandster.records.journal import WRITER_THREAD_NAME, Journal, encode_line, json_result_logger

__all__ = [
    "CONFIGS_FILENAME",
    "EVENTS_FILENAME",
    "LOCK_FILENAME",
    "MANIFEST_FILENAME",
    "PICKLE_FILENAME",
    "RESULTS_FILENAME",
    "RUNS_DIRNAME",
    "WRITER_THREAD_NAME",
    "Journal",
    "encode_line",
    "json_result_logger",
    "latest_journal_directory",
    "lock_holder",
    "new_journal_directory",
]
