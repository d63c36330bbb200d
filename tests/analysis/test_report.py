"""bandster report with interactive figures (plotly.js embedded: the file opens offline, without a single network
request), the runs table, the layout (metrics in the top table, stages that ran, settings as a table with dates), and
the comparison report on three seeds of two optimizers."""

from __future__ import annotations

import itertools
import os
import re

import pytest
from analysis_helpers import make_run
from cdp_browser import Browser

from bandster.analysis.report import render_report
from bandster.analysis.status import read_status
from bandster.cli import main as cli
from bandster.optimizers import BOHB, HyperBand
from bandster.records.result import logged_results_to_HBS_result

_ids = itertools.count()
FIGURES = {"incumbent_over_time", "losses_over_time", "learning_curves", "parallel_coordinates",
           "hyperparameter_scatter", "correlation_across_budgets", "performance_histogram_model_vs_random",
           "worker_timeline", "concurrent_runs_over_time", "finished_runs_over_time"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Three seeds each of BOHB and Hyperband: {optimizer name: [journal directories]}."""
    folder = tmp_path_factory.mktemp("seeds")
    runs: dict[str, list[str]] = {}
    for optimizer in (BOHB, HyperBand):
        for seed in (1, 2, 3):
            name = f"{optimizer.__name__}-{seed}"
            runs.setdefault(optimizer.__name__, []).append(
                make_run(optimizer, str(folder / name), f"rp{os.getpid()}_{next(_ids)}", n_iterations=3, seed=seed))
    return runs


def offline(requests):
    """Every request the page made: itself and data: URLs (Chromium's own), nothing from a network."""
    return [u for u in requests if not u.startswith(("file://", "data:", "blob:", "about:"))]


@pytest.mark.timeout(300)
def test_interactive_report_opens_offline(seeds, tmp_path):
    directory = seeds["BOHB"][0]
    out = tmp_path / "report.html"
    assert cli(["report", directory, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count('<script type="application/json" data-figure-spec=') == len(FIGURES)
    assert not re.search(r"<script[^>]+src=", text) and not re.search(r"<link[^>]+href=\"http", text)
    n_runs = len(logged_results_to_HBS_result(directory).get_all_runs())
    with Browser() as browser:
        page = browser.open(out.as_uri())
        drawn = page.wait_for(f"document.querySelectorAll('.plot[data-drawn]').length == {len(FIGURES)} && "
                              "Array.from(document.querySelectorAll('figure')).map(f => f.dataset.figure)")
        assert set(drawn) == FIGURES
        assert page.evaluate("document.getElementById('runs-table').getAttribute('data-rows')") == str(n_runs)
        # hover data: a point of the incumbent figure carries its configuration, budget and loss
        hover = page.evaluate("document.getElementById('plot-incumbent_over_time').data[0].text[0]")
        assert "budget" in hover and "loss" in hover and "lr=" in hover
        widths = page.evaluate("Array.from(document.querySelectorAll('.plot')).map(p => p.offsetWidth)")
        body = page.evaluate("document.body.clientWidth")
        assert min(widths) > 0.8 * body - 80  # figures at the page's width
        page.evaluate("document.querySelector('#runs-table th[data-column=\"loss\"]').click()")  # descending
        losses = page.evaluate("Array.from(document.querySelectorAll('#runs-table tbody tr'))"
                               ".map(tr => tr.children[2].textContent).filter(t => t).map(Number)")
        assert losses == sorted(losses, reverse=True) and len(losses) > 3
        page.screenshot(str(tmp_path / "report.png"))
        assert page.console_errors == []
        assert offline(page.requests) == []


def test_report_layout(seeds):
    directory = seeds["HyperBand"][0]
    status = read_status(directory)
    text = render_report(directory, interactive=False)
    best = text.split('<h2 id="best">', 1)[1].split("<h2", 1)[0]
    assert "<th>info.units</th>" in best and "<th>info.budget</th>" in best  # the worker's metrics, top table
    progress = text.split('<h2 id="progress">', 1)[1].split("<h2", 1)[0]
    assert progress.count("<tr>") == 1 + len(status.stages) and "did not run" not in progress  # all ran
    settings = text.split('<h2 id="settings">', 1)[1]
    assert "<td class=\"l\">HB_config.time_ref</td>" in settings
    assert re.search(r"HB_config\.time_ref</td><td class=\"l\">20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", settings)
    assert "<th class=\"l\">hyperparameter</th>" in settings and ">lr<" in settings and ">log<" in settings


@pytest.mark.timeout(300)
def test_comparison_of_three_seeds_of_two_optimizers(seeds, tmp_path):
    out = tmp_path / "compare.html"
    directories = seeds["BOHB"] + seeds["HyperBand"]
    assert cli(["report", *directories, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("<tr><td") == 6
    with Browser() as browser:
        page = browser.open(out.as_uri())
        page.wait_for("document.querySelectorAll('.plot[data-drawn]').length == 2")
        names = page.evaluate("document.getElementById('plot-compare_time').data.map(t => t.name)")
        assert "BOHB: median of 3 (band: quartiles)" in names and "HyperBand: median of 3 (band: quartiles)" in names
        assert {os.path.basename(d) for d in directories} <= set(names)  # one line per run
        spent = page.evaluate("document.getElementById('plot-compare_spent').data.length")
        assert spent == len(names)
        assert page.console_errors == [] and offline(page.requests) == []
    assert cli(["report", seeds["BOHB"][0], seeds["BOHB"][0] + "/nothing", "-o", str(out)]) == 1
    assert cli(["report", *directories, "--labels", "a,b", "-o", str(out)]) == 1  # 2 labels for 6 runs


def test_stage_table_shows_the_stages_that_ran(tmp_path):
    """A run stopped in its first iteration: the later stages (and iterations) that never ran are one line."""
    from bandster.records.journal import Journal

    directory = str(tmp_path / "stopped")
    with Journal(directory) as journal:
        journal.write_manifest({"run_id": "stopped", "optimizer": "HyperBand",
                                "HB_config": {"min_budget": 1.0, "max_budget": 9.0, "eta": 3.0,
                                              "budgets": [1.0, 3.0, 9.0]}})
        journal.event("run_started", n_iterations=3)
        journal.event("iteration_started", iteration=0, num_configs=[9, 3, 1], budgets=[1, 3, 9])
        for k in range(4):
            journal.new_config((0, 0, k), {"x": k / 10}, {})
            journal.event("dispatch", config_id=[0, 0, k], budget=1.0, worker="w")
    text = render_report(directory, interactive=False)
    progress = text.split('<h2 id="progress">', 1)[1].split("<h2", 1)[0]
    assert progress.count("<tr>") == 2  # the header and stage 0, where 4 of 9 were in flight at the stop
    assert "2 planned stages of the started iterations did not run (4 configurations)" in progress


def test_report_of_a_pbt_run_has_the_schedule_and_population_figures(tmp_path):
    """Both report kinds of a PBT run carry the schedule and the population figures (the interactive one's
    specs hold the best member's learning-rate steps and the exploit crosses)."""
    import json

    import ConfigSpace as CS

    from bandster.backends import SimulatedBackend
    from bandster.optimizers import PBT

    def objective(config, budget, previous_budget=None):
        return {"loss": 1.0 / (1.0 + config["lr"] * budget), "cost": 1.0}

    space = CS.ConfigurationSpace({"lr": CS.Float("lr", (0.01, 0.5), log=True)})
    pbt = PBT(space, population_size=4, perturbation_interval=1, max_budget=4, seed=0, run_id=f"rpbt{os.getpid()}",
              working_directory=str(tmp_path), backend=SimulatedBackend(2, objective))
    try:
        pbt.run(progress=False)
    finally:
        pbt.shutdown()
    directory = pbt.journal.directory
    text = render_report(directory)
    specs = {m.group(1).removeprefix("plot-"): json.loads(m.group(2)) for m in re.finditer(
        r'<script type="application/json" data-figure-spec="([^"]+)"[^>]*>(.*?)</script>', text, re.S)}
    assert {"pbt_schedule", "pbt_population"} <= set(specs)
    assert specs["pbt_schedule"]["data"][0]["name"] == "lr"
    assert [t["name"] for t in specs["pbt_population"]["data"]][:4] == [f"member {m}" for m in range(4)]
    static = render_report(directory, interactive=False)
    assert 'data-figure="pbt_schedule"' in static and 'data-figure="pbt_population"' in static
    out = tmp_path / "report.html"
    out.write_text(text, encoding="utf-8")
    with Browser() as browser:  # plotly.js draws both (the schedule has an overlaid axis per hyperparameter)
        page = browser.open(out.as_uri())
        page.wait_for("document.getElementById('plot-pbt_schedule').hasAttribute('data-drawn') && "
                      "document.getElementById('plot-pbt_population').hasAttribute('data-drawn')")
        assert page.console_errors == [] and offline(page.requests) == []


@pytest.mark.parametrize("interactive", [True, False])
def test_report_of_a_run_with_reports(tmp_path, interactive):
    from analysis_helpers import write_reporting_journal

    write_reporting_journal(str(tmp_path))
    text = render_report(str(tmp_path), interactive=interactive)
    assert 'data-figure="intermediate_values"' in text
    assert "3 finished: 1 ok, 2 stopped early, 0 failed" in text
    failures = text.split('<h2 id="failures">', 1)[1].split("<h2", 1)[0]
    assert "Failed runs (0)" in failures  # stopped runs are no failures
