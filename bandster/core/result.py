"""Compatibility module: :class:`Result`, :class:`Run` and reading a journal back moved to
:mod:`bandster.records.result`. HpBandSter's names are re-exported here unchanged (``results.pkl`` files
written before the move, which name ``bandster.core.result.Result``, still load)."""

from bandster.records.result import (
    Result,
    Run,
    extract_HBS_learning_curves,
    json_result_logger,
    logged_results_to_HBS_result,
)

__all__ = ["Run", "Result", "extract_HBS_learning_curves", "logged_results_to_HBS_result", "json_result_logger"]
