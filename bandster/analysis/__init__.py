"""Analysis of runs from their journals: live status (``bandster status``) and the HTML report
(``bandster report``). The plots are in :mod:`bandster.visualization`, the schedule in :mod:`bandster.plan`.

Nothing here imports matplotlib until a figure is drawn.
"""

from bandster.analysis.report import render_report, write_report
from bandster.analysis.status import RunStatus, read_status
from bandster.records.format import find_journal, journal_is_live, read_events, read_manifest

__all__ = ["find_journal", "journal_is_live", "read_events", "read_manifest", "read_status", "RunStatus",
           "write_report", "render_report"]
