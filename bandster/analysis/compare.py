"""Comparing runs: ``bandster report DIR1 DIR2 ... -o compare.html`` and the dashboard on a folder of runs.

The data is :func:`bandster.visualization.compare`'s (incumbent trajectories over wall-clock time and over budget
spent, grouped by label, with the median and quartiles over a group's runs); the runs of one optimizer are one
group unless labels are given.

Examples
--------
Compare three seeds of two optimizers (what ``bandster report bohb1 bohb2 bohb3 hb1 hb2 hb3 -o compare.html``
does)::

    write_comparison(["bohb1", "bohb2", "bohb3", "hb1", "hb2", "hb3"], "compare.html")
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from bandster.__version__ import __version__
from bandster.records.format import find_journals
from bandster.records.result import Result

__all__ = ["compare_info", "default_label", "render_comparison", "write_comparison"]


def default_label(manifest: Mapping | None, name: str) -> str:
    """A run's group: its optimizer's name from ``run.json`` (the run's name without one)."""
    optimizer = (manifest or {}).get("optimizer")
    return optimizer if isinstance(optimizer, str) and optimizer else name


def compare_info(results: Mapping[str, Result], labels: Mapping[str, str]) -> dict[str, Any]:
    """:func:`bandster.visualization.compare`'s data of ``{name: Result}``, grouped by ``labels[name]``, each
    run carrying its ``name``."""
    from bandster.visualization.data import get_compare_info

    names = list(results)
    info = get_compare_info([results[n] for n in names], [labels[n] for n in names])
    members: dict[str, list[str]] = {}
    for name in names:
        members.setdefault(str(labels[name]), []).append(name)
    for group in info["groups"]:
        for run, name in zip(group["runs"], members[group["label"]], strict=True):
            run["name"] = name
    return info


def render_comparison(paths: Sequence[str | os.PathLike], title: str | None = None,
                      labels: Sequence[str] | None = None) -> str:
    """A self-contained HTML page comparing the runs whose journals are at or below ``paths``.

    Parameters
    ----------
    paths : list of str or path-like
        Journal directories, working directories, or folders of runs (every journal below is taken).
    title : str, optional
    labels : list of str, optional
        One group label per journal found (in the order found); default: each run's optimizer.

    Raises
    ------
    FileNotFoundError
        When a path holds no journal.
    ValueError
        With fewer than two runs, or labels that do not match the runs.
    """
    from bandster.analysis.figures import comparison_figures
    from bandster.analysis.live import LiveRun
    from bandster.analysis.page import asset, escape, figures_html, scripts
    from bandster.analysis.report import summary_facts

    runs: dict[str, LiveRun] = {}
    for path in paths:
        found = find_journals(path)
        if not found:
            raise FileNotFoundError(f"no run journal at or below {os.path.abspath(os.fspath(path))}")
        for directory in found.values():
            name = os.path.basename(directory)
            if name in runs:
                name = os.path.relpath(directory)
            runs[name] = LiveRun(directory)
    if len(runs) < 2:
        raise ValueError(f"a comparison needs at least two runs; found {len(runs)}: pass more directories")
    if labels is not None and len(labels) != len(runs):
        raise ValueError(f"{len(labels)} labels for {len(runs)} runs ({', '.join(runs)}): give one label per run")
    rows, results, groups = [], {}, {}
    for k, (name, live) in enumerate(runs.items()):
        live.update()
        status = live.status()
        results[name] = live.result()
        groups[name] = labels[k] if labels is not None else default_label(live.manifest(), name)
        facts = dict(summary_facts(status, live.n_configs()))
        rows.append([name, groups[name], status.state, facts.get("runs", ""), facts.get("wall time", ""),
                     "" if status.incumbent_loss is None else f"{status.incumbent_loss:.6g}",
                     facts.get("incumbent", "").split(",")[0], live.directory])
    info = compare_info(results, groups)
    figures = comparison_figures(info)
    title = title or f"bandster: {len(runs)} runs compared"
    header = ["run", "group", "state", "runs", "wall time", "final incumbent loss", "incumbent", "journal"]
    table = ("<table><thead><tr>" + "".join(f'<th class="l">{escape(h)}</th>' for h in header) + "</tr></thead><tbody>"
             + "".join("<tr>" + "".join(f'<td class="l">{escape(c)}</td>' for c in row) + "</tr>" for row in rows)
             + "</tbody></table>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        'initial-scale=1"><link rel="icon" href="data:,">',
        f"<title>{escape(title)}</title><style>{asset('page.css')}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">Written {escape(time.strftime("%Y-%m-%d %H:%M:%S"))} by bandster {escape(__version__)}. '
        "Runs of one group (by default: one optimizer) are drawn in one colour, with their median and the band "
        "between their quartiles. Hover over a line for its run and incumbent; drag to zoom.</p>",
        '<h2 id="runs">Runs</h2>', table,
        '<h2 id="figures">Incumbents</h2>', figures_html(figures),
        scripts("figures.js", plotly=True), "<script>bandsterDrawEmbeddedFigures();</script>",
        "</body></html>",
    ])


def write_comparison(paths: Sequence[str | os.PathLike], output: str | os.PathLike, **kwargs: Any) -> str:
    """Write :func:`render_comparison`'s page to ``output`` (atomically) and return its path."""
    document = render_comparison(paths, **kwargs)
    output = os.fspath(output)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = f"{output}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(document)
    os.replace(tmp, output)
    return output
