"""The text shown over each configuration's curve in :func:`~bandster.visualization.interactive_HBS_plot`."""

from __future__ import annotations

from collections.abc import Mapping

from bandster.records.result import Result
from bandster.visualization._utils import budget_label, stamp


def default_tool_tips(result_object: Result, learning_curves: Mapping, include_run_info: bool = False) -> dict:
    """Text for each configuration of ``learning_curves``: its id, configuration and how it was chosen.

    Parameters
    ----------
    result_object : Result
    learning_curves : dict
        ``{config_id: curves}`` as from :meth:`Result.get_learning_curves`; only its keys are used.
    include_run_info : bool
        Add each run's budget, loss and duration.

    Returns
    -------
    dict
        ``{config_id: str}``.
    """
    id2conf = result_object.get_id2config_mapping()
    tips = {}
    for config_id in learning_curves:
        entry = id2conf.get(tuple(config_id), {})
        lines = [f"config_id: {tuple(config_id)}"]
        config = entry.get("config") or {}
        if isinstance(config, Mapping):
            for key, value in config.items():
                lines.append(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
        info = entry.get("config_info")
        if isinstance(info, Mapping) and "model_based_pick" in info:
            lines.append(f"model based pick: {info['model_based_pick']}")
        if include_run_info:
            for run in result_object.get_runs_by_id(config_id):
                start, stop = stamp(run, "started"), stamp(run, "finished")
                took = f", {stop - start:.3g} s" if start is not None and stop is not None else ""
                loss = "failed" if run.loss is None else f"loss {run.loss:.4g}"
                lines.append(f"{budget_label(run.budget)}: {loss}{took}")
        tips[config_id] = "\n".join(lines)
    return tips
