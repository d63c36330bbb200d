"""Warm starts: feeding an earlier run's results to a new run's config generator (``previous_result=``).

The earlier runs are also written into the new run's journal as iteration -1 (config ids ``(-1, 0, i)``,
``config_info['warmstart'] = True``), their times shifted so the last of them finishes when the new run
starts, as in HpBandSter. So the new journal, and the Result rebuilt from it, hold everything the model saw.
Failed runs are kept (they count as loss +inf), unlike HpBandSter, where they crashed the warm start.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from bandster.core.job import Job
from bandster.records.result import Result, logged_results_to_HBS_result
from bandster.samplers._base import base_config_generator

logger = logging.getLogger(__name__)


def load_previous_result(previous: Any) -> tuple[Result, str]:
    """``previous`` as a Result, and a description of where it came from.

    Accepts a :class:`Result` or the path of a journal directory (a live or finished run's).
    """
    if isinstance(previous, Result):
        return previous, "Result object"
    if isinstance(previous, str | os.PathLike) and os.path.isdir(previous):
        return logged_results_to_HBS_result(previous), os.path.abspath(previous)
    raise ValueError(
        f"previous_result must be a Result or the path of a run's journal directory, got {previous!r}; "
        "e.g. previous_result=logged_results_to_HBS_result('bandster_runs/<run>') or the directory itself"
    )


def warmstart_runs(result: Result, time_shift: float) -> tuple[dict[tuple, dict], list[Job]]:
    """An earlier run's configurations and runs as a new run's iteration -1.

    Returns ``({new_id: {'config': ..., 'config_info': ...}}, jobs)``: config ids ``(-1, 0, i)`` in the order
    of the old ids, ``config_info`` marked ``warmstart=True`` with the old id, and one finished :class:`Job`
    per run (failed ones included), in finishing order, its time stamps shifted by ``time_shift``.
    """
    configs = result.get_id2config_mapping()
    id_map: dict[tuple, tuple] = {}
    entries: dict[tuple, dict] = {}
    for i, (old_id, entry) in enumerate(sorted(configs.items())):
        new_id = (-1, 0, i)
        id_map[old_id] = new_id
        info = dict(entry.get("config_info") or {}) if isinstance(entry.get("config_info"), dict) else {}
        info.update(warmstart=True, warmstart_id=list(old_id))
        entries[new_id] = {"config": entry["config"], "config_info": info}
    jobs = [Job.from_run(run, configs[run.config_id]["config"], time_shift, config_id=id_map[run.config_id])
            for run in result.get_all_runs()]
    return entries, jobs


def last_finished(result: Result) -> float | None:
    """When the last run of ``result`` finished (relative to its ``time_ref``), None if none did."""
    finished = [r.time_stamps.get("finished") for r in result.get_all_runs()]
    finished = [f for f in finished if f is not None]
    return max(finished) if finished else None


def warm_start(
    previous: Any, config_generator: base_config_generator, journal: Any, time_ref: float
) -> dict[str, Any]:
    """Feed every run of ``previous`` to ``config_generator`` and record them in ``journal``.

    Returns a summary for the run's manifest: where the data came from, how many configs and runs.
    """
    result, source = load_previous_result(previous)
    last = last_finished(result)
    entries, jobs = warmstart_runs(result, time_ref - last if last is not None else time_ref)
    for new_id, entry in entries.items():
        journal.new_config(new_id, entry["config"], entry["config_info"])
    for k, job in enumerate(jobs):
        journal(job)
        config_generator.new_result(job, update_model=(k == len(jobs) - 1))
    summary = {"source": source, "configs": len(entries), "runs": len(jobs)}
    logger.info("warm-started from %s: %d runs of %d configurations", source, len(jobs), len(entries))
    return summary
