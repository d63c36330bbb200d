"""A self-contained HTML report of a run: what ``bandster report`` writes.

The report is one HTML file that needs no server and no network: it can be mailed or attached to a ticket. Its
interactive figures (hover shows a point's configuration, budget and loss; zoom and pan) are drawn by plotly.js,
embedded whole in the file (about 4.6 MiB) from the ``plotly`` package (the ``report`` extra); without plotly, or
with ``interactive=False``, the figures are matplotlib PNGs and the page has no figure scripts. It holds the run's
summary and state, the incumbent, the best configurations with the user's ``info`` metrics, the figures, every run
in a sortable, filterable table (with a CSV download), the stages that ran, the workers, the failed runs with their
tracebacks, the search space and the optimizer's settings (times as dates).

Examples
--------
Write the report of a run (what ``bandster report DIR -o report.html`` does)::

    write_report("bandster_runs/myrun_20250101-120000", "report.html")
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

from bandster.__version__ import __version__
from bandster.analysis.figures import scatter_pair
from bandster.analysis.live import LiveRun
from bandster.analysis.page import asset, escape, figures_html, has_plotly, runs_table_html, scripts
from bandster.analysis.status import RunStatus
from bandster.core._convert import is_finite_loss
from bandster.plan import format_duration
from bandster.records.format import find_journal
from bandster.records.result import Result

logger = logging.getLogger(__name__)

__all__ = ["render_report", "write_report", "report_figures", "load_configspace", "summary_facts"]

def load_configspace(manifest: dict | None) -> Any:
    """The run's ConfigSpace from its manifest, or None when it is missing or cannot be read."""
    serialized = (manifest or {}).get("configspace")
    if not isinstance(serialized, dict):
        return None
    try:
        import ConfigSpace as CS

        return CS.ConfigurationSpace.from_serialized_dict(serialized)
    except Exception as err:  # a space from another ConfigSpace version: the plots work without it
        logger.warning("the run's configuration space cannot be read back (%s); plots use the data's ranges", err)
        return None


def report_figures(result: Result, configspace: Any = None) -> list[tuple[str, str, Callable[[], Any]]]:
    """The figures of the report: ``(name, caption, draw)``, where ``draw()`` returns a matplotlib figure.

    Warm-start runs (iteration -1, computed by an earlier run) are left out of the plots over time.
    """
    from bandster import visualization as vis

    own = [r for r in result.get_all_runs() if not (r.config_id and r.config_id[0] == -1)]
    budgets = {float(r.budget) for r in result.get_all_runs() if is_finite_loss(r.loss)}
    figures: list[tuple[str, str, Callable[[], Any]]] = [
        ("incumbent_over_time", "The incumbent's loss over time; the markers' colours give its budget.",
         lambda: vis.incumbent_over_time(result)[0]),
        ("losses_over_time", "Every run's loss when it finished, per budget; lines: the best loss so far. "
         "Red crosses: failed runs.", lambda: vis.losses_over_time(own)[0]),
        ("learning_curves", "Each configuration's loss over the budgets it reached.",
         lambda: vis.learning_curves(result)[0]),
    ]
    if result.get_reports():
        figures.append(("intermediate_values", "Every job's reported values per step (Worker.report), coloured by "
                        "its last value; red crosses: where the scheduler stopped a job.",
                        lambda: vis.intermediate_values(result)[0]))
    figures += [
        ("parallel_coordinates", "The configurations of the largest budget, coloured by loss.",
         lambda: vis.parallel_coordinates(result, configspace=configspace)[0]),
    ]
    pair = scatter_pair(result, configspace)
    if pair is not None:
        figures.append(("hyperparameter_scatter", f"{pair[0]} and {pair[1]} against the loss.",
                        lambda: vis.hyperparameter_scatter(result, pair[0], pair[1], configspace=configspace)[0]))
    if len(budgets) >= 2:
        figures.append(("correlation_across_budgets", "How well each budget's ranking of the configurations "
                        "agrees with the others' (Spearman).", lambda: vis.correlation_across_budgets(result)[0]))
    if result.get_pbt_members():
        figures.append(("pbt_schedule", "PBT: the best member's hyperparameters over the budget (dotted: where its "
                        "lineage copied another member's checkpoint).", lambda: vis.pbt_schedule(result)[0]))
        figures.append(("pbt_population", "PBT: every member's loss over the budget; crosses: a member copied the "
                        "checkpoint at that budget and loss.", lambda: vis.pbt_population(result)[0]))
    figures += [
        ("performance_histogram_model_vs_random", "Losses of model-based and of random configurations per budget.",
         lambda: vis.performance_histogram_model_vs_random(result.get_all_runs(),
                                                           result.get_id2config_mapping())[0]),
        ("worker_timeline", "Which worker ran what, when; gaps are idle time.", lambda: vis.worker_timeline(own)[0]),
        ("concurrent_runs_over_time", "Runs in progress over time.",
         lambda: vis.concurrent_runs_over_time(own)[0]),
        ("finished_runs_over_time", "Finished runs over time.", lambda: vis.finished_runs_over_time(own)[0]),
    ]
    return figures


def _png(fig: Any, dpi: int = 90) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(value: Any) -> str:
    return escape(value)


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return _e(value)


def _cid(config_id: Any) -> str:
    return "(" + ", ".join(str(v) for v in config_id) + ")" if isinstance(config_id, tuple | list) else str(config_id)


def _table(header: list[str], rows: list[list[str]], left: set[int] | None = None,
           row_classes: list[str] | None = None) -> str:
    """An HTML table; cells are already escaped HTML."""
    left = left or set()
    out = ["<table><thead><tr>"]
    out += [f'<th class="l">{h}</th>' if i in left else f"<th>{h}</th>" for i, h in enumerate(header)]
    out.append("</tr></thead><tbody>")
    for k, row in enumerate(rows):
        cls = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        out.append(f"<tr{cls}>" + "".join(f'<td class="l">{c}</td>' if i in left else f"<td>{c}</td>"
                                          for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_report(path: str | os.PathLike, title: str | None = None, top: int = 10, dpi: int = 90,
                  now: float | None = None, interactive: bool | None = None) -> str:
    """The HTML report of a run, as a string.

    Parameters
    ----------
    path : str or path-like
        The run's journal directory (or a working directory: its newest journal).
    title : str, optional
        Default: "bandster run <run_id>".
    top : int
        How many of the best configurations to list.
    dpi : int
        Resolution of the PNG figures (``interactive=False``).
    now : float, optional
        The time the report describes (epoch seconds), default now.
    interactive : bool, optional
        Interactive plotly figures (plotly.js embedded) or matplotlib PNGs; default: interactive when the
        ``plotly`` package is installed.

    Returns
    -------
    str
        A complete HTML document with every figure and script embedded.
    """
    directory = find_journal(path)
    live = LiveRun(directory)
    live.update()
    status = live.status(now=now, top=top)
    result = live.result()
    manifest = live.manifest()
    configspace = load_configspace(manifest)
    title = title or f"bandster run {status.run_id or os.path.basename(directory)}"
    interactive = has_plotly() if interactive is None else interactive
    if interactive and not has_plotly():
        raise ImportError("interactive figures need the plotly package: pip install 'bandster[report]'")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_e(title)}</title><style>{asset('page.css')}</style></head><body>",
        f'<h1>{_e(title)} <span class="state state-{_e(status.state)}">{_e(status.state)}</span></h1>',
        f'<p class="muted">Report written {_e(time.strftime("%Y-%m-%d %H:%M:%S"))} by bandster {_e(__version__)} '
        f"from <code>{_e(directory)}</code>.</p>",
    ]
    parts.append(_summary(status, result))
    parts.append(_best(status, result, live.table.row))

    parts.append('<h2 id="figures">Figures</h2>')
    figure_names = []
    if interactive:
        from bandster.analysis.figures import interactive_figures

        figures = interactive_figures(result, configspace, live.configs())
        figure_names = [name for name, _, _ in figures]
        parts.append('<p class="muted">Hover over a point for its configuration, budget and loss; drag to zoom, '
                     "double-click to zoom out.</p>")
        parts.append(figures_html(figures))
    else:
        for name, caption, draw in report_figures(result, configspace):
            try:
                data = _png(draw(), dpi=dpi)
            except Exception as err:  # one broken plot must not cost the whole report
                logger.exception("figure %s could not be drawn", name)
                parts.append(f'<p class="muted">Figure {_e(name)} could not be drawn: {_e(err)}</p>')
                continue
            figure_names.append(name)
            parts.append(f'<figure id="fig-{_e(name)}" data-figure="{_e(name)}">'
                         f'<img src="data:image/png;base64,{data}" alt="{_e(name.replace("_", " "))}">'
                         f"<figcaption>{_e(caption)}</figcaption></figure>")

    parts.append(f'<h2 id="runs">All runs ({live.n_runs})</h2>')
    parts.append(runs_table_html(live.table.to_dict()))
    parts.append(_progress(status))
    parts.append(_workers(status))
    parts.append(_failures(result))
    parts.append(_settings(manifest, configspace))
    parts.append(f'<p class="muted">Figures: {_e(", ".join(figure_names))}.</p>')
    parts.append(scripts("runs_table.js", "figures.js", plotly=interactive))
    parts.append("<script>new BandsterRunsTable(document.getElementById('runs-table')).update("
                 "JSON.parse(document.getElementById('runs-table-data').textContent));"
                 + ("bandsterDrawEmbeddedFigures();" if interactive else "") + "</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | os.PathLike, output: str | os.PathLike | None = None, **kwargs: Any) -> str:
    """Write the HTML report of a run (see :func:`render_report`) and return its path.

    Parameters
    ----------
    path : str or path-like
        The run's journal directory (or a working directory: its newest journal).
    output : str or path-like, optional
        Where to write it; default ``report.html`` in the journal directory.
    **kwargs
        Passed to :func:`render_report`.
    """
    document = render_report(path, **kwargs)
    if output is None:
        output = os.path.join(find_journal(path), "report.html")
    output = os.fspath(output)
    parent = os.path.dirname(os.path.abspath(output))
    os.makedirs(parent, exist_ok=True)
    tmp = f"{output}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(document)
    os.replace(tmp, output)
    return output


# --------------------------------------------------------------------------------------------------------
# sections


def _date(epoch: Any) -> str:
    if not isinstance(epoch, int | float) or isinstance(epoch, bool) or not math.isfinite(epoch) or epoch <= 0:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def summary_facts(status: RunStatus, n_configs: int) -> list[tuple[str, str]]:
    """The run's summary as ``(name, text)`` pairs (the report's and the dashboard's top section)."""
    hb = status.hb_config
    facts = [
        ("optimizer", status.optimizer or "?"),
        ("state", status.state + ("" if not status.warnings else " (" + "; ".join(status.warnings) + ")")),
        ("started", _date(status.started)),
        ("ended", _date(status.ended) if status.ended else ("running" if status.state == "running" else "?")),
        ("wall time", format_duration(status.wall_time)),
        ("budgets", ", ".join(f"{b:g}" for b in hb.get("budgets") or []) + (f" (eta {hb.get('eta')})"
                                                                             if hb.get("eta") else "")),
        ("iterations", f"{status.iterations_started} started"
         + (f" of {status.n_iterations}" if status.n_iterations is not None else "")),
        ("configurations", str(n_configs)),
        ("runs", f"{status.runs_finished} finished: {status.runs_ok} ok, "
         + (f"{status.runs_stopped} stopped early, " if status.runs_stopped or status.n_reports else "")
         + f"{status.runs_failed} failed; {status.runs_running} "
         + ("running" if status.state == "running" else "in flight at stop")),
        ("computing", format_duration(status.compute_time)
         + (f" ({100 * status.utilisation:.0f}% of the workers' time)" if status.utilisation is not None else "")),
    ]
    if status.incumbent is not None:
        facts.append(("incumbent", f"{_cid(status.incumbent)}, {status.metric.name} "
                                   f"{status.metric.shown(status.incumbent_loss):.6g}"))
    if status.warmstart_runs:
        facts.append(("warm start", f"{status.warmstart_runs} runs of {status.warmstart_configs} configurations "
                      "from an earlier run (iteration -1)"))
    if status.state == "running":
        facts.append(("remaining", (f"about {format_duration(status.remaining_seconds)}; "
                                    if status.remaining_seconds is not None else "") + status.remaining_note))
    return facts


def _summary(status: RunStatus, result: Result) -> str:
    facts = summary_facts(status, len([c for c in result.data if c[0] != -1]))
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    return f'<h2 id="summary">Summary</h2><dl class="facts">{body}</dl>'


def _best(status: RunStatus, result: Result, row_of: Callable[[tuple, float], dict]) -> str:
    out = ['<h2 id="best">Best configurations</h2>']
    if status.incumbent is not None:
        datum = result[status.incumbent]
        config = json.dumps(datum.config, indent=1, sort_keys=True, default=str)
        out.append(f"<p>Incumbent ({_e(status.metric.best)} on the largest budget, "
                   f"{_e(status.hb_config.get('max_budget'))}): <b>{_e(_cid(status.incumbent))}</b> with "
                   f"{_e(status.metric.name)} <b>{_num(status.metric.shown(status.incumbent_loss))}</b>.</p>"
                   f"<pre>{_e(config)}</pre>")
    else:
        out.append("<p>No configuration has a finite loss on the largest budget yet.</p>")
    if status.top:
        names = sorted({k for _, _, _, c in status.top for k in c})
        rows_of = [row_of(cid, budget) for cid, budget, _, _ in status.top]
        metrics = list(dict.fromkeys(k for row in rows_of for k in row if k.startswith("info")))
        rows = []
        classes = []
        for rank, ((cid, _budget, loss, config), row) in enumerate(zip(status.top, rows_of, strict=True), start=1):
            cells = [str(rank), _e(_cid(cid)), _num(status.metric.shown(loss))]
            cells += [_num(row.get(m, "")) for m in metrics]
            cells += [_num(config.get(n, "")) for n in names]
            rows.append(cells)
            classes.append("best" if rank == 1 else "")
        best = "Lowest losses" if status.metric.is_default else f"Best {status.metric.label}"
        out.append(f"<p>{_e(best)} on budget {_e(f'{status.top_budget:g}')}, with the metrics the worker returned in "
                   "<code>info</code>:</p>")
        out.append(_table(["rank", "config_id", _e(status.metric.label), *[_e(m) for m in metrics],
                           *[_e(n) for n in names]], rows, left={1}, row_classes=classes))
    per_budget = result.get_incumbent_per_budget()
    if per_budget:
        rows = []
        for budget, cid in per_budget.items():
            loss = next(r.loss for r in result.get_runs_by_id(cid) if float(r.budget) == float(budget))
            rows.append([_e(f"{budget:g}"), _e(_cid(cid)), _num(status.metric.shown(loss))])
        out.append("<p>Best configuration on each budget:</p>")
        out.append(_table(["budget", "config_id", _e(status.metric.label)], rows, left={1}))
    return "".join(out)


def _progress(status: RunStatus) -> str:
    out = ['<h2 id="progress">Iterations and stages</h2>']
    if status.warmstart_runs:
        out.append(f"<p>Warm start (iteration -1): {status.warmstart_runs} runs of {status.warmstart_configs} "
                   "configurations.</p>")
    if not status.stages:
        out.append("<p>No iteration has started.</p>")
        return "".join(out)
    ran = [s for s in status.stages if s.done or s.failed or s.running]
    not_run = [s for s in status.stages if not (s.done or s.failed or s.running)]
    running = "running" if status.state == "running" else "in flight at stop"
    rows = [[str(s.iteration), str(s.stage), _e(f"{s.budget:g}"), "?" if s.planned is None else str(s.planned),
             str(s.done), str(s.failed), str(s.running), "?" if s.pending is None else str(s.pending)]
            for s in ran]
    header = ["iteration", "stage", "budget", "configs", "done", "failed", running, "pending"]
    table = _table(header, rows)
    if len(ran) > 12:
        table = f"<details><summary>{len(ran)} stages ran (show them)</summary>{table}</details>"
    out.append(table)
    if not_run:
        planned = sum(s.planned or 0 for s in not_run)
        out.append(f'<p class="muted">{len(not_run)} planned stage{"s" if len(not_run) != 1 else ""} of the started '
                   f"iterations did not run ({planned} configurations): the later stages of iterations "
                   f"{_e(', '.join(str(i) for i in sorted({s.iteration for s in not_run})))}.</p>")
    return "".join(out)


def _workers(status: RunStatus) -> str:
    out = ['<h2 id="workers">Workers</h2>']
    if not status.workers:
        out.append("<p>No worker is recorded in the journal.</p>")
        return "".join(out)
    rows = []
    for w in status.workers:
        state = w.state + (f" ({w.reason})" if w.reason and w.state in ("left", "lost", "retired") else "")
        if w.job is not None:
            state += f" {_cid(w.job[0])} on {w.job[1]:g}"
        rows.append([_e(w.short_name), _e(w.host or "?"), _e(state), str(w.runs), str(w.failed),
                     _e(format_duration(w.busy)), _e(_date(w.last_activity) if w.last_activity else "-")])
    out.append(_table(["worker", "host", "state", "runs", "failed", "busy", "last activity"], rows, left={0, 1, 2}))
    return "".join(out)


def _failures(result: Result) -> str:
    failed = [r for r in result.get_all_runs() if r.status == "failed"]
    out = [f'<h2 id="failures">Failed runs ({len(failed)})</h2>']
    if not failed:
        out.append("<p>None.</p>")
        return "".join(out)
    for r in failed[:200]:
        if r.error_logs:
            text = str(r.error_logs).strip()
            last = text.splitlines()[-1] if text else ""
        else:
            text, last = "", f"loss {r.loss}"
        summary = f"{_cid(r.config_id)} on budget {r.budget:g}, worker {r.worker_name or '?'}: {last}"
        detail = f"<pre>{_e(text)}</pre>" if text else ""
        out.append(f"<details><summary>{_e(summary)}</summary>{detail}</details>")
    if len(failed) > 200:
        out.append(f'<p class="muted">... and {len(failed) - 200} more.</p>')
    return "".join(out)


#: manifest entries that are epoch times, shown as dates
_TIME_KEYS = {"created", "time_ref", "started", "finished"}


def _setting_rows(prefix: str, value: Any) -> list[tuple[str, str]]:
    """``(name, shown value)`` rows of one manifest entry: dicts one row per key, times as dates."""
    if isinstance(value, dict) and value:
        rows = []
        for key, item in value.items():
            rows.extend(_setting_rows(f"{prefix}.{key}" if prefix else str(key), item))
        return rows
    name = prefix.rsplit(".", 1)[-1]
    if name in _TIME_KEYS and isinstance(value, int | float) and not isinstance(value, bool) and value > 1e8:
        return [(prefix, f"{_date(value)} ({value:.3f})")]
    if isinstance(value, list) and all(isinstance(v, int | float | str) for v in value):
        return [(prefix, ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value))]
    if isinstance(value, float):
        return [(prefix, f"{value:g}")]
    return [(prefix, value if isinstance(value, str) else json.dumps(value, default=str))]


def _space_rows(configspace: Any) -> list[list[str]]:
    rows = []
    for hp in configspace.values():
        kind = type(hp).__name__.replace("Hyperparameter", "")
        choices = getattr(hp, "choices", None) or getattr(hp, "sequence", None)
        if choices is not None:
            values = ", ".join(str(c) for c in choices)
        elif hasattr(hp, "lower"):
            values = f"[{hp.lower:g}, {hp.upper:g}]"
        else:
            values = str(getattr(hp, "value", ""))
        rows.append([_e(hp.name), _e(kind), _e(values), "log" if getattr(hp, "log", False) else "",
                     _e(getattr(hp, "default_value", ""))])
    return rows


def _settings(manifest: dict, configspace: Any) -> str:
    out = ['<h2 id="settings">Search space and settings</h2>']
    if configspace is not None:
        out.append(_table(["hyperparameter", "type", "values", "scale", "default"], _space_rows(configspace),
                          left={0, 1, 2}))
        conditions = list(configspace.conditions) + list(configspace.forbidden_clauses)
        if conditions:
            out.append("<p>Conditions and forbidden clauses:</p><pre>"
                       + _e("\n".join(str(c) for c in conditions)) + "</pre>")
    keys = ("run_id", "optimizer", "optimizer_kwargs", "HB_config", "seed", "created", "bandster_version",
            "hostname", "working_directory", "warmstart")
    rows = [[_e(name), _e(value)] for key in keys if key in manifest
            for name, value in _setting_rows(key, manifest[key])]
    if rows:
        out.append(_table(["setting", "value"], rows, left={0, 1}))
    if configspace is None and not rows:
        out.append("<p>The journal has no manifest (run.json).</p>")
    return "".join(out)
