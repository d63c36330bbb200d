"""Records: what a run leaves on disk and how it is read back.

- :mod:`bandster.records.format`: the journal's file names, where journals live, and every reader;
- :mod:`bandster.records.journal`: the writer (:class:`Journal`, HpBandSter's ``json_result_logger``);
- :mod:`bandster.records.result`: :class:`Result` and :class:`Run`, and reading a journal back into them;
- :mod:`bandster.records.run_table`: the column-wise store behind a Result;
- :mod:`bandster.records.reports`: the intermediate reports of a run's jobs (:class:`Report`), as a Result keeps
  them;
- :mod:`bandster.records.datum`: :class:`Datum`, one configuration's record as HpBandSter exposes it.

This layer imports nothing from the schedulers, samplers, optimizers or the Pyro runtime, so analysing a
run (``bandster status``, ``bandster report``, :func:`logged_results_to_HBS_result`) never loads them.
"""

from bandster.records.datum import Datum
from bandster.records.format import find_journal, latest_journal_directory, new_journal_directory
from bandster.records.journal import Journal, json_result_logger
from bandster.records.reports import Report
from bandster.records.result import Result, Run, extract_HBS_learning_curves, logged_results_to_HBS_result
from bandster.records.run_table import RunTable, RunTableBuilder

__all__ = [
    "Datum",
    "Journal",
    "Report",
    "Result",
    "Run",
    "RunTable",
    "RunTableBuilder",
    "extract_HBS_learning_curves",
    "find_journal",
    "json_result_logger",
    "latest_journal_directory",
    "logged_results_to_HBS_result",
    "new_journal_directory",
]
