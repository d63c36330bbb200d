"""PBT's lineage read back from a run's records: which configurations and copies led to a member's final state.

A PBT run journals, with each generation's configuration, ``config_info["pbt"]`` (see
:mod:`bandster.schedulers.pbt`): the member, the generation, how it began (``initial``, ``continue``, ``exploit``,
``replace``), its start budget and, unless initial, the generation whose checkpoint it copied. The functions here
follow those links back; :meth:`bandster.records.result.Result.get_lineage` and ``get_schedule`` call them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["lineage", "member_of", "members", "pbt_info", "schedule"]


def pbt_info(entry: Mapping[str, Any]) -> dict | None:
    """The ``config_info["pbt"]`` of one ``get_id2config_mapping()`` entry, or None."""
    info = entry.get("config_info")
    pbt = info.get("pbt") if isinstance(info, Mapping) else None
    return pbt if isinstance(pbt, dict) else None


def member_of(entry: Mapping[str, Any]) -> int | None:
    """The PBT member of a configuration (None for other optimizers)."""
    info = pbt_info(entry)
    return None if info is None else info.get("member")


def members(id2conf: Mapping[tuple, Mapping[str, Any]]) -> list[int]:
    """The members of a PBT run, in order."""
    return sorted({m for m in (member_of(e) for e in id2conf.values()) if m is not None})


def lineage(id2conf: Mapping[tuple, Mapping[str, Any]], runs: Iterable[Any], member: int) -> list[dict[str, Any]]:
    """The chain of generations that led to ``member``'s final state, oldest first.

    Each step is a dict: ``member``, ``config_id``, ``generation``, ``kind`` (how it began), ``config``,
    ``config_before_explore`` (exploits), ``budget_start``, ``budget_end`` (the part of its training that the
    final state inherits), ``source_member`` and ``source_config_id`` (the checkpoint it started from, or None),
    and ``losses``: ``[(budget, loss), ...]`` of its runs within that range.

    Raises
    ------
    KeyError
        If ``member`` has no generation in the records.
    """
    runs_of: dict[tuple, list] = {}
    for run in runs:
        runs_of.setdefault(tuple(run.config_id), []).append(run)
    own = [(cid, pbt_info(e)) for cid, e in id2conf.items() if member_of(e) == member]
    if not own:
        raise KeyError(f"member {member!r} is not in this run (members: {members(id2conf)}); is it a PBT run?")
    config_id = max(own, key=lambda pair: pair[1].get("generation", 0))[0]
    finished = [r.budget for r in runs_of.get(config_id, []) if r.loss is not None and math.isfinite(r.loss)]
    end = max(finished) if finished else pbt_info(id2conf[config_id]).get("start_budget", 0.0)
    chain: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    while config_id is not None and config_id in id2conf and config_id not in seen:
        seen.add(config_id)
        entry = id2conf[config_id]
        info = pbt_info(entry) or {}
        start = float(info.get("start_budget") or 0.0)
        source = info.get("source_config_id")
        source = tuple(source) if source is not None else None
        chain.append({
            "member": info.get("member"), "config_id": config_id, "generation": info.get("generation"),
            "kind": info.get("kind"), "config": dict(entry.get("config") or {}),
            "config_before_explore": info.get("config_before_explore"),
            "budget_start": start, "budget_end": float(end),
            "source_member": info.get("source_member"), "source_config_id": source,
            "losses": sorted((float(r.budget), r.loss) for r in runs_of.get(config_id, [])
                             if start < r.budget <= end and r.loss is not None),
        })
        end = float(info.get("source_budget", start)) if source is not None else start
        config_id = source
    return chain[::-1]


def schedule(chain: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, Any]]]:
    """Each hyperparameter of a lineage as a step function of the budget: name -> ``[(start, end, value)]``,
    consecutive equal values merged."""
    steps: dict[str, list[tuple[float, float, Any]]] = {}
    for step in chain:
        if step["budget_end"] <= step["budget_start"] and len(chain) > 1:
            continue
        for name, value in step["config"].items():
            pieces = steps.setdefault(name, [])
            if pieces and pieces[-1][2] == value and pieces[-1][1] == step["budget_start"]:
                pieces[-1] = (pieces[-1][0], step["budget_end"], value)
            else:
                pieces.append((step["budget_start"], step["budget_end"], value))
    return steps
