"""``bandster status`` on live (in a subprocess), finished, crashed and torn journals; ``bandster report`` (HTML that
parses, embeds every figure, and renders in a real headless browser without console errors); ``bandster plan``
against hand-computed schedules."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import shlex
import shutil
import struct
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest
from analysis_helpers import make_run
from browser import open_page

import bandster
from bandster.analysis.journal import find_journal, journal_is_live
from bandster.analysis.report import write_report
from bandster.analysis.status import read_status
from bandster.cli import main as cli
from bandster.optimizers import BOHB
from bandster.plan import format_duration, plan, simulate_wall_clock

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(HERE, "helpers")
_ids = itertools.count()
EXPECTED_FIGURES = {
    "incumbent_over_time", "losses_over_time", "learning_curves", "parallel_coordinates", "hyperparameter_scatter",
    "correlation_across_budgets", "performance_histogram_model_vs_random", "worker_timeline",
    "concurrent_runs_over_time", "finished_runs_over_time",
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished BOHB run (3 iterations, 2 thread workers, failures included): its journal directory."""
    return make_run(BOHB, str(tmp_path_factory.mktemp("bohb")), f"srp{os.getpid()}_{next(_ids)}", n_iterations=3)


# --- plan -----------------------------------------------------------------------------------------------------------


def stage_table(p):
    return [(it.iteration, it.bracket, [(s.num_configs, s.budget, s.cost) for s in it.stages]) for it in p.iterations]


def test_plan_hyperband_243():
    p = plan(min_budget=1, max_budget=243, eta=3, n_iterations=6)
    # S = 6 rungs; bracket s has n0 = floor(6 / (s + 1)) * 3**s configurations; every stage of the first three
    # brackets costs 243 budget units, the last three brackets 486, 729 and 1458 per stage
    assert p.budgets == [1.0, 3.0, 9.0, 27.0, 81.0, 243.0]
    assert stage_table(p) == [
        (0, 5, [(243, 1, 243), (81, 3, 243), (27, 9, 243), (9, 27, 243), (3, 81, 243), (1, 243, 243)]),
        (1, 4, [(81, 3, 243), (27, 9, 243), (9, 27, 243), (3, 81, 243), (1, 243, 243)]),
        (2, 3, [(27, 9, 243), (9, 27, 243), (3, 81, 243), (1, 243, 243)]),
        (3, 2, [(18, 27, 486), (6, 81, 486), (2, 243, 486)]),
        (4, 1, [(9, 81, 729), (3, 243, 729)]),
        (5, 0, [(6, 243, 1458)]),
    ]
    assert [it.num_runs for it in p.iterations] == [364, 121, 40, 26, 12, 6]
    assert [it.cost for it in p.iterations] == [1458, 1215, 972, 1458, 1458, 1458]
    assert (p.total_runs, p.total_configs, p.total_cost) == (569, 384, 8019)
    assert p.wall_clock == 8019 and p.utilisation == 1.0  # one worker: everything in sequence
    # with a worker for every run the brackets run side by side: the longest chain is 1+3+9+27+81+243
    assert plan(1, 243, 3, n_iterations=6, workers=1000).wall_clock == 364
    timed = plan(1, 243, 3, n_iterations=6, cost_per_unit=2.0, workers=1)
    assert timed.total_seconds == 16038 and timed.wall_clock == 16038
    assert timed.iterations[0].stages[0].seconds == 486 and timed.iterations[0].seconds == 2916


def test_plan_wall_clock_by_hand():
    # two workers, iteration 0 = [9 x 1, 3 x 3, 1 x 9]: five rounds of budget 1 (the last with one idle worker),
    # then 3 + 3 for the three budget-3 runs, then 9: 5 + 6 + 9 = 20
    assert plan(1, 9, 3, n_iterations=1, workers=2).wall_clock == 20
    # adding iteration 1 = [3 x 3, 1 x 9]: it starts at t=4 on the idle worker (no run of iteration 0 is ready);
    # worked through event by event, the last run (iteration 1's budget-9 run) finishes at 25
    assert plan(1, 9, 3, n_iterations=2, workers=2).wall_clock == 25
    assert simulate_wall_clock([([4], [1.0])], workers=3) == 2.0
    assert simulate_wall_clock([], workers=3) == 0.0
    with_seconds = plan(1, 9, 3, n_iterations=2, workers=2, cost_per_unit=0.5)
    assert with_seconds.wall_clock == 12.5 and with_seconds.utilisation == pytest.approx(45 / 50)


def test_plan_random_search_and_non_integer_eta():
    rs = plan(1, 9, 3, n_iterations=2, optimizer="randomsearch")
    assert stage_table(rs) == [(0, 0, [(3, 9.0, 27.0)]), (1, 0, [(3, 9.0, 27.0)])]
    assert rs.budgets == [9.0]
    assert stage_table(plan(1, 9, 3, n_iterations=2, optimizer="bohb")) == stage_table(plan(1, 9, 3, n_iterations=2))
    # eta 2.5 from 1 to 10: S = 1 + floor(log(10) / log(2.5)) = 3 rungs, 10/6.25, 10/2.5, 10;
    # bracket 2: n0 = floor(3/3) * 2.5**2 = 6.25 -> 6, then floor(6 / 2.5) = 2, then max(floor(6 / 6.25), 1) = 1
    p = plan(1, 10, 2.5, n_iterations=1)
    assert p.budgets == [1.6, 4.0, 10.0]
    assert [(s.num_configs, s.budget) for s in p.iterations[0].stages] == [(6, 1.6), (2, 4.0), (1, 10.0)]
    assert p.total_cost == pytest.approx(6 * 1.6 + 8 + 10)
    assert plan(1, 9, 3, n_iterations=1, first_iteration=2).iterations[0].bracket == 0
    assert bandster.plan is plan


@pytest.mark.parametrize("kwargs, message", [
    ({"min_budget": 0}, "min_budget must be > 0"),
    ({"max_budget": 0.5}, "larger than max_budget"),
    ({"eta": 1}, "eta must be > 1"),
    ({"n_iterations": 0}, "n_iterations must be an integer >= 1"),
    ({"workers": 0}, "workers must be an integer >= 1"),
    ({"cost_per_unit": -1}, "cost_per_unit must be a positive"),
    ({"optimizer": "smac"}, "unknown optimizer"),
])
def test_plan_errors(kwargs, message):
    args = {"min_budget": 1, "max_budget": 9, **kwargs}
    with pytest.raises(ValueError, match=message):
        plan(**args)


def test_plan_cli(capsys):
    assert cli(["plan", "--min-budget", "1", "--max-budget", "243", "--eta", "3", "--n-iterations", "6",
                "--cost-per-unit", "2", "--workers", "8"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hyperband schedule: min_budget=1, max_budget=243, eta=3; budgets 1, 3, 9, 27, 81, 243")
    assert "        0        5      0      243       1   243   8m 06s" in out
    assert "overall: 6 iterations, 569 runs of 384 configurations, cost 8019 budget units = 4h 27m 18s" in out
    expected = plan(1, 243, 3, n_iterations=6, cost_per_unit=2, workers=8)
    assert f"estimated wall clock on 8 workers: {format_duration(expected.wall_clock)} " in out
    assert cli(["plan", "--min_budget", "1", "--max_budget", "9", "--n_iterations", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(json.dumps(plan(1, 9, 3, n_iterations=2).to_dict()))
    assert data["total_runs"] == 17 and data["wall_clock"] == 45
    assert cli(["plan", "--min-budget", "0", "--max-budget", "9"]) == 2
    assert "bandster plan: error: min_budget must be > 0" in capsys.readouterr().err


# --- status -----------------------------------------------------------------------------------------------------


def test_status_of_a_finished_run(finished_run, capsys):
    status = read_status(finished_run)
    assert status.state == "finished" and not status.live and status.optimizer == "BOHB"
    assert status.iterations_started == 3 and status.runs_running == 0
    assert [(s.iteration, s.budget, s.planned) for s in status.stages] == [
        (0, 1.0, 9), (0, 3.0, 3), (0, 9.0, 1), (1, 3.0, 3), (1, 9.0, 1), (2, 9.0, 3)]
    for s in status.stages:  # every planned run finished, one way or the other
        assert s.done + s.failed == s.planned and s.pending == 0 and s.running == 0
    assert status.runs_failed >= 2  # each worker's first job fails
    assert status.runs_ok + status.runs_failed == 20
    assert [w.state for w in status.workers] == ["left", "left"]
    assert sum(w.runs for w in status.workers) == 20
    losses = [loss for _, _, loss, _ in status.top]
    assert losses == sorted(losses) and status.top_budget == 9.0 and len(status.top) == 5
    assert status.incumbent == status.top[0][0] and status.incumbent_loss == losses[0]
    assert 0 < status.compute_time <= status.worker_time
    assert status.remaining_seconds is None and "finished" in status.remaining_note
    # the command: a working directory finds its newest journal
    working_directory = os.path.dirname(os.path.dirname(finished_run))
    assert cli(["status", working_directory, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "FINISHED" in out and f"journal    {finished_run}" in out and "best configurations on budget 9:" in out
    assert "workers (2 seen):" in out and "time: computing" in out
    assert cli(["status", finished_run, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "finished" and len(data["stages"]) == 6 and data["runs"]["running"] == 0
    assert cli(["status", finished_run, "--watch"]) == 0  # not running: prints once and returns
    assert capsys.readouterr().out.count("FINISHED") == 1
    assert cli(["status", os.path.dirname(HERE) + "/no/such/dir"]) == 1
    assert "bandster status: error:" in capsys.readouterr().err


def _bandster(*args, env=None, **kwargs):
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-m", "bandster", *args], env=env, **kwargs)


@pytest.mark.timeout(120)
def test_status_into_a_closed_pipe_is_quiet(finished_run):
    """Issue 11, item 9: ``bandster status DIR | head -1``: the reader leaves early; no traceback, exit 0."""
    proc = _bandster("status", finished_run, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # nobody reads: every write meets a broken pipe
    _, err = proc.communicate(timeout=100)
    assert proc.returncode == 0 and b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    head = subprocess.run(f"{shlex.quote(sys.executable)} -m bandster status {shlex.quote(finished_run)} | head -1",
                          shell=True, capture_output=True, text=True, timeout=100,
                          env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)))
    assert head.stdout.startswith("run ") or head.stdout.strip(), head
    assert "Traceback" not in head.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize("rows", [8, 14])
def test_status_watch_fits_the_terminal(finished_run, rows):
    """Issue 11, item 9: ``--watch`` in a terminal of ``rows`` lines draws at most ``rows - 1`` lines, header first."""
    import fcntl
    import pty
    import termios

    full = subprocess.run([sys.executable, "-m", "bandster", "status", finished_run], capture_output=True, text=True,
                          timeout=100, env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE))).stdout.splitlines()
    assert len(full) > rows  # the status of this run does not fit
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
    proc = _bandster("status", finished_run, "--watch", stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=100) == 0
    lines = b"".join(chunks).decode().replace("\r\n", "\n").rstrip("\n").split("\n")
    assert len(lines) == rows - 1, lines
    assert lines[0] == full[0]  # the header stays on screen
    assert lines[-1].startswith(f"... {len(full) - (rows - 2)} more lines")


def test_status_with_torn_lines(finished_run, tmp_path, caplog):
    copy = shutil.copytree(finished_run, tmp_path / "torn", ignore=shutil.ignore_patterns("configs"))
    before = read_status(copy).to_dict()
    with open(copy / "results.json", "a") as fh:
        fh.write('[[2, 0, 0], 9.0, {"submitted": 1.0, "star')  # a master killed mid-line
    with open(copy / "events.json", "a") as fh:
        fh.write('{"time": 1.0, "event": "dispa')
    with caplog.at_level(logging.WARNING):
        after = read_status(copy).to_dict()
    torn = [r.getMessage() for r in caplog.records if "torn last line" in r.getMessage()]
    assert any("results.json" in m for m in torn) and any("events.json" in m for m in torn)
    for key in ("state", "stages", "top", "workers", "runs", "compute_time"):
        assert after[key] == before[key], key


def wait_for(condition, timeout=120.0, what="condition"):
    """Poll until ``condition()`` is true; the timeout only guards against a hang, it never decides a result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def running_status(working_directory):
    try:
        status = read_status(working_directory)
    except FileNotFoundError:
        return None
    return status if status.state == "running" and status.runs_running == 1 else None


@pytest.mark.timeout(300)
def test_status_of_a_live_run_in_a_subprocess(tmp_path, spawn):
    """A master in another process, its only worker held on a gate: exactly one run is in flight."""
    gate = tmp_path / "gate"
    master = spawn(os.path.join(HELPERS, "analysis_helpers.py"), str(tmp_path), str(gate))
    status = wait_for(lambda: running_status(tmp_path), what="the run to have a job in flight")
    assert journal_is_live(status.directory)
    first = status.stages[0]
    assert (first.iteration, first.budget, first.planned, first.done, first.failed, first.running, first.pending) == (
        0, 1.0, 9, 0, 0, 1, 8)
    assert [w.state for w in status.workers] == ["busy"] and status.workers[0].job[1] == 1.0
    assert status.remaining_note == "unknown until the first run finishes"

    cmd = spawn("-m", "bandster", "status", str(tmp_path))
    out, _ = cmd.communicate(timeout=120)
    assert cmd.returncode == 0, out
    assert "RUNNING" in out and "running" in out and "busy (0, 0, " in out
    watch = spawn("-m", "bandster", "status", "--watch", "--interval", "0.2", status.directory)
    seen = []
    for line in watch.stdout:  # its first picture is of the running run
        seen.append(line)
        if line.startswith("run live (HyperBand): "):
            break
    assert seen and seen[-1].strip() == "run live (HyperBand): RUNNING", seen

    gate.touch()  # let the run finish
    out, _ = master.communicate(timeout=240)
    assert master.returncode == 0 and "master done" in out, out
    out, _ = watch.communicate(timeout=120)  # --watch leaves by itself once the run has stopped
    assert watch.returncode == 0
    assert out.rstrip().split("run live (HyperBand): ")[-1].startswith("FINISHED")

    done = read_status(tmp_path)
    assert done.state == "finished" and not done.live and done.runs_running == 0
    assert [(s.planned, s.done + s.failed) for s in done.stages] == [(9, 9), (3, 3), (1, 1), (3, 3), (1, 1)]


@pytest.mark.timeout(300)
def test_status_of_a_killed_run(tmp_path, spawn):
    master = spawn(os.path.join(HELPERS, "analysis_helpers.py"), str(tmp_path), str(tmp_path / "never"))
    status = wait_for(lambda: running_status(tmp_path), what="the run to have a job in flight")
    master.kill()
    master.communicate(timeout=60)
    stopped = read_status(status.directory)
    assert stopped.state == "stopped" and not stopped.live
    assert stopped.runs_running == 1 and any("crashed or killed" in w for w in stopped.warnings)
    assert [w.state for w in stopped.workers] == ["gone"]
    text = stopped.format()
    assert "STOPPED" in text and "in flight at stop" in text and "resume=True" in text


# --- report -----------------------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Checks that tags balance and collects figures, images and every URL-valued attribute."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.figures, self.images, self.urls = [], [], [], [], []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "figure":
            self.figures.append(attrs.get("data-figure"))
        if tag == "img":
            self.images.append((self.figures[-1] if self.figures else None, attrs.get("src", "")))
        self.urls.extend(v for k, v in attrs.items() if k in ("src", "href") and v is not None)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_report(finished_run, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert cli(["report", finished_run, "-o", str(out), "--title", "Test <report>", "--static"]) == 0
    assert capsys.readouterr().out.strip() == f"report written to {out}"
    text = out.read_text(encoding="utf-8")
    checker = Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert text.startswith("<!DOCTYPE html>") and "<title>Test &lt;report&gt;</title>" in text
    assert set(checker.figures) == EXPECTED_FIGURES and len(checker.figures) == len(EXPECTED_FIGURES)
    assert {figure for figure, _ in checker.images} == EXPECTED_FIGURES and len(checker.images) == 10
    for figure, src in checker.images:
        assert src.startswith("data:image/png;base64,"), figure
        width, height = png_size(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert 400 <= width <= 2000 and 200 <= height <= 2000, (figure, width, height)
    assert all(url.startswith(("data:", "#")) for url in checker.urls)  # self-contained: nothing to fetch
    assert "http://" not in text and "https://" not in text  # --static: PNG figures, no plotly.js
    status = read_status(finished_run)
    assert f"<b>{'(' + ', '.join(map(str, status.incumbent)) + ')'}</b>" in text
    assert "Failed runs (" in text and "every worker&#x27;s first job fails" in text
    assert cli(["report", str(tmp_path / "nothing")]) == 1


def picture_stats(path):
    """(fraction of pixels that are not near-white, number of distinct colours) of a screenshot."""
    import matplotlib.image
    import numpy as np

    image = matplotlib.image.imread(path)[..., :3]
    colours = len(np.unique((image * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    return float((image < 0.9).any(axis=-1).mean()), colours


@pytest.mark.timeout(600)
def test_report_in_a_headless_browser(finished_run, tmp_path):
    # a control page: the console capture must see an error when there is one
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('control-error'); "
                   "notDefined();</script></body></html>")
    control = open_page(bad, tmp_path / "control")
    console = control.console
    assert any("control-error" in line for line in console) and any("notDefined" in line for line in console)

    report = write_report(finished_run)  # by default into the journal
    assert report == os.path.join(finished_run, "report.html")
    page = open_page(report, tmp_path / "report")
    assert page.console == []
    # only loopback is ever contacted: the report asked for nothing outside (Chromium's own background requests
    # went to the refusing proxy, like everything not on loopback)
    assert page.outside_requests == [] and control.outside_requests == []
    assert "Failed runs (" in page.dom
    shutil.copy(page.screenshot, tmp_path / "report.png")
    shutil.copy(control.screenshot, tmp_path / "bad.png")
    width, height = png_size((tmp_path / "report.png").read_bytes())
    assert (width, height) == (1200, 2400)
    ink, colours = picture_stats(tmp_path / "report.png")
    blank_ink, _ = picture_stats(tmp_path / "bad.png")  # the control page: one letter on white
    assert ink > 0.015 and ink > 20 * blank_ink, (ink, blank_ink)  # text, tables and figures, not a white page
    assert colours > 200, colours  # the plots' colours, not just black text


@pytest.mark.skipif(sys.platform != "linux", reason="flock semantics checked on Linux")
def test_journal_is_live_follows_the_lock(tmp_path):
    from bandster.core.journal import Journal

    with Journal(tmp_path / "j") as journal:
        assert journal_is_live(journal.directory)
        assert find_journal(tmp_path / "j") == journal.directory
    assert not journal_is_live(tmp_path / "j")
    assert not journal_is_live(tmp_path)  # no lock file at all
