"""PBT's figures: the best member's hyperparameter schedule over the budget, and the population's losses over the
budget with the exploit events marked."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bandster.records import lineage as lineage_records
from bandster.records.result import Result
from bandster.visualization._utils import finish, no_data, pyplot

__all__ = ["pbt_population", "pbt_schedule"]


def _finite_member_runs(result: Result) -> list[tuple[int, Any]]:
    """``(member, run)`` of every run of a PBT member with a finite loss, in finish order."""
    id2conf = result.get_id2config_mapping()
    pairs = []
    for run in result.get_all_runs():
        member = lineage_records.member_of(id2conf.get(run.config_id, {}))
        if member is not None and run.loss is not None and math.isfinite(run.loss):
            pairs.append((member, run))
    return pairs


def best_member(result: Result) -> int | None:
    """The member whose latest finite loss is the lowest (among those that trained furthest)."""
    latest: dict[int, tuple[float, float]] = {}
    for member, run in _finite_member_runs(result):
        if member not in latest or run.budget >= latest[member][0]:
            latest[member] = (float(run.budget), float(run.loss))
    if not latest:
        return None
    return min(latest, key=lambda m: (-latest[m][0], latest[m][1], m))


def get_pbt_schedule_info(result: Result, member: int | None = None) -> dict[str, Any]:
    """The schedule of ``member`` (default: the best member): each hyperparameter as steps over the budget.

    Returns
    -------
    dict
        ``member`` (None when the run has no PBT member), ``hyperparameters``: name -> ``{"starts", "ends",
        "values"}`` (arrays; ``numeric`` says whether the values are numbers), ``exploits``: the budgets where the
        lineage took another member's checkpoint, with that member (``{"budget", "source_member"}`` lists).
    """
    if member is None:
        member = best_member(result)
    if member is None:
        return {"member": None, "hyperparameters": {}, "exploits": {"budget": [], "source_member": []}}
    chain = result.get_lineage(member)
    steps = lineage_records.schedule(chain)
    hyperparameters = {}
    for name, pieces in steps.items():
        values = [v for _, _, v in pieces]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        hyperparameters[name] = {"starts": np.array([s for s, _, _ in pieces], dtype=float),
                                 "ends": np.array([e for _, e, _ in pieces], dtype=float),
                                 "values": np.array(values, dtype=float) if numeric else values, "numeric": numeric}
    exploits = [(step["budget_start"], step["source_member"]) for step in chain
                if step["kind"] in ("exploit", "replace")]
    return {"member": member, "hyperparameters": hyperparameters,
            "exploits": {"budget": [b for b, _ in exploits], "source_member": [m for _, m in exploits]}}


def get_pbt_population_info(result: Result) -> dict[str, Any]:
    """Each member's losses over the budget and its exploit events.

    Returns
    -------
    dict
        ``members``: member -> ``{"budgets", "losses"}`` (arrays, in the order the runs finished: an exploit makes
        the budget jump back or forward), ``exploits``: ``{"member", "budget", "loss", "source_member", "kind"}``
        lists (the budget and loss of the checkpoint the member took).
    """
    id2conf = result.get_id2config_mapping()
    members: dict[int, dict[str, list]] = {}
    for member, run in _finite_member_runs(result):
        entry = members.setdefault(member, {"budgets": [], "losses": []})
        entry["budgets"].append(float(run.budget))
        entry["losses"].append(float(run.loss))
    exploits: dict[str, list] = {"member": [], "budget": [], "loss": [], "source_member": [], "kind": []}
    for config_id in sorted(id2conf):
        info = lineage_records.pbt_info(id2conf[config_id])
        if info is None or info.get("kind") not in ("exploit", "replace"):
            continue
        exploits["member"].append(info["member"])
        exploits["budget"].append(float(info["source_budget"]))
        loss = info.get("source_loss")
        exploits["loss"].append(float(loss) if loss is not None else float("nan"))
        exploits["source_member"].append(info["source_member"])
        exploits["kind"].append(info["kind"])
    return {"members": {m: {k: np.array(v) for k, v in members[m].items()} for m in sorted(members)},
            "exploits": exploits}


def pbt_schedule(result: Result, member: int | None = None, log_y: bool | None = None,
                 show: bool = False) -> tuple[Any, Any]:
    """The hyperparameter schedule PBT found: each hyperparameter of ``member``'s lineage (default: the best
    member) as a step function of the budget, one panel per hyperparameter, with the exploits marked.

    Parameters
    ----------
    result : Result
        A PBT run.
    member : int, optional
    log_y : bool, optional
        Log scale for numeric hyperparameters (default: when a positive one spans more than a factor of 10).
    show : bool

    Returns
    -------
    fig, axes
    """
    plt = pyplot()
    info = get_pbt_schedule_info(result, member)
    names = list(info["hyperparameters"]) or [None]
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.2 + 1.6 * len(names)), sharex=True, squeeze=False)
    axes = axes[:, 0]
    for ax, name in zip(axes, names, strict=True):
        if name is None:
            no_data(ax, "no PBT member in this run")
            continue
        h = info["hyperparameters"][name]
        if h["numeric"]:
            xs = np.column_stack([h["starts"], h["ends"]]).ravel()
            ys = np.repeat(h["values"], 2)
            ax.plot(xs, ys, "-", lw=2, color="C0")
            positive = h["values"][h["values"] > 0]
            wide = len(positive) == len(h["values"]) and positive.max() > 10 * positive.min()
            if log_y if log_y is not None else wide:
                ax.set_yscale("log")
        else:
            labels = sorted({str(v) for v in h["values"]})
            ys = [labels.index(str(v)) for v in h["values"]]
            ax.hlines(ys, h["starts"], h["ends"], lw=3, color="C0")
            ax.set_yticks(range(len(labels)), labels)
        for budget, source in zip(info["exploits"]["budget"], info["exploits"]["source_member"], strict=True):
            ax.axvline(budget, color="C3", ls=":", lw=1)
            if name == names[0]:
                ax.annotate(f"from {source}", (budget, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                            color="C3", ha="left", va="top")
        ax.set_ylabel(name)
    axes[-1].set_xlabel("budget")
    title = "PBT schedule" if info["member"] is None else f"PBT schedule of member {info['member']}"
    axes[0].set_title(title + " (dotted: copied another member's checkpoint)")
    finish(fig, show)
    return fig, axes


def pbt_population(result: Result, log_y: bool = False, show: bool = False) -> tuple[Any, Any]:
    """Every member's loss over the budget, exploit events marked (a cross at the copied checkpoint's budget and
    loss, joined to the member's previous point).

    Returns
    -------
    fig, ax
    """
    plt = pyplot()
    info = get_pbt_population_info(result)
    fig, ax = plt.subplots(figsize=(8, 5))
    if not info["members"]:
        no_data(ax, "no PBT member with a finite loss")
    for member, curve in info["members"].items():
        ax.plot(curve["budgets"], curve["losses"], ".-", lw=1, ms=4, alpha=0.8, label=f"member {member}",
                color=f"C{member % 10}")
    ex = info["exploits"]
    if ex["member"]:
        ax.scatter(ex["budget"], ex["loss"], marker="x", s=40, color="k", zorder=3,
                   label=f"exploit ({len(ex['member'])})")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("budget")
    ax.set_ylabel("loss")
    ax.set_title(f"PBT population ({len(info['members'])} members)")
    if info["members"]:
        ax.legend(fontsize=7, ncol=2)
    finish(fig, show)
    return fig, ax
