"""Compatibility module: the RunTable moved to :mod:`bandster.records.run_table` (re-exported here, so
``results.pkl`` files written before the move still load)."""

from bandster.records.run_table import STAMP_KEYS, RunTable, RunTableBuilder, copy_dict

__all__ = ["RunTable", "RunTableBuilder", "copy_dict", "STAMP_KEYS"]
