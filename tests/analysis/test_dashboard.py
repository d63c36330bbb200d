"""bandster dashboard: served on a free loopback port and opened in headless Chromium (every request that is not
to loopback goes to a closed local proxy): it renders a finished run without console errors, follows a live journal
without reloading, answers only GET, and ends every thread it started."""

from __future__ import annotations

import gc
import http.client
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from analysis_helpers import make_run
from cdp_browser import Browser

from bandster.analysis.dashboard import Dashboard
from bandster.core.job import Job
from bandster.optimizers import BOHB, HyperBand
from bandster.records.format import find_journals
from bandster.records.journal import Journal
from bandster.records.result import logged_results_to_HBS_result

_ids = itertools.count()
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A folder with two finished runs (BOHB and Hyperband, failures included)."""
    folder = tmp_path_factory.mktemp("runs")
    for optimizer in (BOHB, HyperBand):
        make_run(optimizer, str(folder / optimizer.__name__), f"db{os.getpid()}_{next(_ids)}", n_iterations=2)
    return str(folder)


def get(url, method="GET", host=None):
    parts = url.split("/", 3)
    conn = http.client.HTTPConnection(parts[2], timeout=30)
    try:
        conn.request(method, "/" + (parts[3] if len(parts) > 3 else ""), headers={"Host": host} if host else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def loopback_only(requests):
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))]
    assert outside == [], outside


def threads_named(prefix):
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.mark.timeout(300)
def test_dashboard_of_finished_runs(two_runs, tmp_path):
    journals = find_journals(two_runs)
    assert len(journals) == 2
    (bohb,) = [d for n, d in journals.items() if n.startswith("BOHB")]
    n_runs = len(logged_results_to_HBS_result(bohb).get_all_runs())
    with Dashboard(two_runs, port=0) as dashboard, Browser() as browser:
        assert dashboard.url.startswith("http://127.0.0.1:") and threads_named("bandster-dashboard-server")
        page = browser.open(dashboard.url)
        page.wait_for("document.getElementById('run-select').options.length == 2")
        page.evaluate("(() => { const s = document.getElementById('run-select'); "
                      f"s.value = {json.dumps(os.path.relpath(bohb, two_runs))}; "
                      "s.dispatchEvent(new Event('change')); })()")
        rows = page.wait_for(f"document.getElementById('runs-table').getAttribute('data-rows') == '{n_runs}' "
                             "&& document.querySelectorAll('#runs-table tbody tr').length")
        assert rows == min(n_runs, 50)
        for box, least in (("#figures", 9), ("#compare", 2)):  # figures are drawn as they scroll into view
            n = page.wait_for(f"document.querySelectorAll('{box} .plot').length >= {least} && "
                              f"document.querySelectorAll('{box} .plot').length")
            for i in range(n):
                page.evaluate(f"document.querySelectorAll('{box} .plot')[{i}].scrollIntoView()")
                page.wait_for(f"document.querySelectorAll('{box} .plot')[{i}].dataset.drawn")
        page.evaluate("window.scrollTo(0, 0)")
        assert page.evaluate("document.getElementById('state').textContent") == "finished"
        headers = page.evaluate("Array.from(document.querySelectorAll('#runs-table thead tr:first-child th'))"
                                ".map(th => th.dataset.column)")
        assert {"config_id", "budget", "loss", "status", "worker", "started", "x", "lr", "info.units"} <= set(headers)
        # sort by status and filter to the failed runs: the server sorts and filters, the page shows the answer
        page.evaluate("document.querySelector('#runs-table th[data-column=\"status\"]').click()")
        page.evaluate("(() => { const f = document.querySelector('#runs-table input[data-column=\"status\"]'); "
                      "f.value = '=failed'; f.dispatchEvent(new Event('input')); })()")
        n_failed = sum(r.status == "failed" for r in logged_results_to_HBS_result(bohb).get_all_runs())
        page.wait_for(f"document.getElementById('runs-table').getAttribute('data-visible') == '{n_failed}'")
        failed = page.evaluate("Array.from(document.querySelectorAll('#runs-table tbody tr'))"
                               ".map(tr => tr.children[3].textContent)")
        assert failed and set(failed) == {"failed"} and len(failed) == min(n_failed, 50)
        page.screenshot(str(tmp_path / "dashboard.png"))
        assert page.console_errors == []
        loopback_only(page.requests)
    assert threads_named("bandster-dashboard") == []


def write_result(journal, k, loss, t_dispatch=None):
    cid = (0, 0, k)
    journal.new_config(cid, {"x": k / 10, "marker": f"cfg{k}"}, {"model_based_pick": False})
    journal.event("dispatch", config_id=list(cid), budget=1.0, worker="bandster.run_live.worker.h.1.0")
    job = Job(cid, config={}, budget=1.0)
    now = time.time()
    job.timestamps = {"submitted": now, "started": now + 0.01, "finished": now + 0.02}
    job.worker_name = "bandster.run_live.worker.h.1.0"
    job.result = {"loss": loss, "info": {"score": 100 + k}}
    journal(job)


@pytest.mark.timeout(300)
def test_dashboard_follows_a_live_journal_without_reloading(tmp_path):
    directory = str(tmp_path / "live")
    with Journal(directory) as journal:
        journal.write_manifest({"run_id": "live", "optimizer": "RandomSearch",
                                "HB_config": {"min_budget": 1.0, "max_budget": 1.0, "eta": 3.0, "budgets": [1.0]}})
        journal.event("run_started", n_iterations=1)
        journal.event("worker_joined", worker="bandster.run_live.worker.h.1.0")
        for k in range(3):
            write_result(journal, k, loss=1.0 - k / 10)
        journal.event("dispatch", config_id=[0, 0, 3], budget=1.0, worker="bandster.run_live.worker.h.1.0")
        journal.flush()
        with Dashboard(directory, port=0) as dashboard, Browser() as browser:
            page = browser.open(dashboard.url)
            page.wait_for("document.getElementById('runs-table').getAttribute('data-rows') == '3'")
            assert page.evaluate("document.getElementById('state').textContent") == "running"
            assert "(0, 0, 3)" in page.wait_for("document.getElementById('running').textContent")
            page.evaluate("window.loadedOnce = 'yes'")  # gone if the page reloads
            before = page.evaluate("document.getElementById('runs-table').textContent")
            page.screenshot(str(tmp_path / "before.png"))
            assert "cfg3" not in before and "103" not in before
            sent = time.monotonic()
            write_result(journal, 3, loss=0.01)  # the job in flight finishes: the best loss so far
            journal.flush()
            page.wait_for("document.getElementById('runs-table').getAttribute('data-rows') == '4'", timeout=10)
            seen = time.monotonic() - sent
            after = page.evaluate("document.getElementById('runs-table').textContent")
            page.screenshot(str(tmp_path / "after.png"))
            assert page.evaluate("window.loadedOnce") == "yes"  # updated in place, not reloaded
            assert "cfg3" in after and "103" in after and "0.01" in after  # the new run, its info metric
            assert page.evaluate("document.querySelector('#runs-table tbody tr').children[0].textContent") == \
                "(0, 0, 3)"  # sorted by loss: the new best first
            assert "(0, 0, 3)" not in page.wait_for(
                "document.getElementById('running').textContent.includes('(0, 0, 3)') ? '' : "
                "document.getElementById('running').textContent || 'none'")
            assert seen < 10
            assert page.console_errors == []
            loopback_only(page.requests)
            journal.event("run_finished")
            journal.flush()
            page.wait_for("document.getElementById('state').textContent == 'finished'", timeout=10)
    assert threads_named("bandster-dashboard") == []


def test_dashboard_answers_only_get_on_its_own_name(two_runs):
    with Dashboard(two_runs, port=0) as dashboard:
        url = dashboard.url
        status, body = get(url + "api/runs")
        assert status == 200 and len(json.loads(body)["runs"]) == 2
        assert get(url, method="POST")[0] == 405 and get(url + "api/state", method="DELETE")[0] == 405
        assert get(url + "nothing")[0] == 404
        assert get(url + "api/state?run=nope")[0] == 404
        assert get(url + "api/state?since=x")[0] == 400
        assert get(url, host="attacker.example:80")[0] == 403  # a name that is not this server's
        assert get(url, host=f"localhost:{dashboard.port}")[0] == 200
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        Dashboard(os.path.join(two_runs, "does-not-exist"))
    empty = os.path.join(os.path.dirname(two_runs), f"empty{os.getpid()}")
    os.makedirs(empty, exist_ok=True)
    with pytest.raises(FileNotFoundError, match="no run journal"):
        Dashboard(empty)


@pytest.mark.timeout(120)
def test_dashboard_command(two_runs):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "bandster", "dashboard", two_runs, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "bandster dashboard of" in line and "http://127.0.0.1:" in line, (line, proc.stderr.read())
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        status, body = get(url)
        assert status == 200 and b"bandster dashboard" in body
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    missing = subprocess.run([sys.executable, "-m", "bandster", "dashboard", two_runs + "/nope"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "is not a directory" in missing.stderr


def test_state_says_loading_while_the_first_read_is_under_way(two_runs):
    """A large journal's first read takes seconds: meanwhile /api/state answers at once that it is being read."""
    dashboard = Dashboard(two_runs, port=0)
    release = threading.Event()
    dashboard._loader = threading.Thread(target=release.wait, name="test-loader")  # a first read that lasts
    dashboard._loader.start()
    try:
        view = dashboard.state_view(None)
        assert view["loading"] is True and view["journal_bytes"] > 0 and "runs" not in view
    finally:
        release.set()
        dashboard._loader.join()
    view = dashboard.state_view(None)  # no read under way: the request reads
    assert "loading" not in view and view["runs"]["total"] > 0 and view["state"] == "finished"


def test_table_api_pages_sorts_and_filters(two_runs):
    with Dashboard(two_runs, port=0) as dashboard:
        runs = json.loads(get(dashboard.url + "api/runs")[1])["runs"]
        name = [r["name"] for r in runs if r["name"].startswith("BOHB")][0]
        result = logged_results_to_HBS_result(runs[[r["name"] for r in runs].index(name)]["directory"])
        n_runs, n_failed = len(result.get_all_runs()), sum(r.status == "failed" for r in result.get_all_runs())
        assert dashboard.run(name)[1].wait_loaded(120)  # the server's first read of the journals is done
        state = json.loads(get(dashboard.url + f"api/state?run={name}")[1])
        assert state["runs"] == {"version": state["runs"]["version"], "total": n_runs}  # no rows: a page at a time
        status, body = get(dashboard.url + f"api/table?run={name}&sort=loss&desc=1&page=1&size=5")
        page = json.loads(body)
        assert status == 200 and page["total"] == page["matched"] == n_runs and page["page"] == 1
        assert len(page["rows"]) == 5 and page["version"] == state["runs"]["version"]
        loss = page["columns"].index("loss")
        top = json.loads(get(dashboard.url + f"api/table?run={name}&sort=loss&desc=1&size=10")[1])["rows"]
        assert [r[loss] for r in top[5:10]] == [r[loss] for r in page["rows"]]
        failed = json.loads(get(dashboard.url + f"api/table?run={name}&f.status=%3Dfailed&size=1000")[1])
        assert failed["matched"] == n_failed and {r[3] for r in failed["rows"]} == {"failed"}
        status, body = get(dashboard.url + f"api/table.csv?run={name}&f.status=%3Dfailed")
        assert status == 200 and len(body.decode().splitlines()) == n_failed + 1
        assert get(dashboard.url + f"api/table?run={name}&page=x")[0] == 400


def test_freeze_gc_freezes_the_first_read_and_stop_undoes_it(tmp_path):
    """With freeze_gc (what ``bandster dashboard`` sets) the objects alive after the first read are moved to the
    collector's permanent generation; updates go on as before; stop() moves them back. Without it the process's
    collector is left alone."""
    directory = str(tmp_path / "frozen")
    with Journal(directory) as journal:
        journal.event("run_started", n_iterations=1)
        for k in range(20):
            write_result(journal, k, loss=1.0 - k / 100)
    assert gc.get_freeze_count() == 0
    with Dashboard(directory, port=0) as dashboard:  # the default
        assert dashboard.run(None)[1].wait_loaded(60)
        dashboard._loader.join()
        assert gc.get_freeze_count() == 0
    dashboard = Dashboard(directory, port=0, freeze_gc=True)
    dashboard.start()
    try:
        name, live = dashboard.run(None)
        assert live.wait_loaded(60)
        dashboard._loader.join()  # it freezes once every journal was read
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with Journal(directory, append=True) as journal:
            write_result(journal, 20, loss=0.01)
        state = json.loads(get(dashboard.url + "api/state")[1])
        assert state["runs"]["total"] == 21 and gc.get_freeze_count() > frozen // 2  # no update unfreezes them
        top = json.loads(get(dashboard.url + "api/table?sort=loss&size=1")[1])
        assert top["rows"][0][top["columns"].index("loss")] == 0.01
    finally:
        dashboard.stop()
    assert gc.get_freeze_count() == 0


def test_state_of_the_part_read_so_far(tmp_path):
    """While the first read of a large journal goes on in parts, the page gets the state of the part read so far
    (and the table's rows of it), marked as loading; figures wait for the whole; then everything is there."""
    directory = str(tmp_path / "big")
    with Journal(directory) as journal:
        journal.write_manifest({"run_id": "big", "optimizer": "RandomSearch",
                                "HB_config": {"min_budget": 1.0, "max_budget": 1.0, "eta": 3.0, "budgets": [1.0]}})
        journal.event("run_started", n_iterations=1)
        for k in range(30):
            write_result(journal, k, loss=1.0 - k / 100)
    dashboard = Dashboard(directory, port=0)
    name, live = dashboard.run(None)
    live.update(max_bytes=2000)  # the first parts, as the loader reads them
    assert not live.loaded and not live.at_end
    release = threading.Event()
    dashboard._loader = threading.Thread(target=release.wait, name="test-loader")  # the loader, still reading
    dashboard._loader.start()
    try:
        before = live.bytes_read
        view = dashboard.state_view(None)
        assert view["loading"] is True and 0 < view["runs"]["total"] < 30 and view["state"] == "stopped"
        table = dashboard.table_view(None, {})
        assert 0 < table["total"] < 30 and len(table["rows"]) == table["total"]
        assert dashboard.figures_view(None) == {"run": name, "version": -1, "figures": [], "loading": True}
        assert live.bytes_read == before  # the requests read nothing: the loader does
    finally:
        release.set()
        dashboard._loader.join()
    view = dashboard.state_view(None)  # no read under way: the request reads the rest
    assert "loading" not in view and view["runs"]["total"] == 30
    assert len(dashboard.figures_view(None)["figures"]) >= 5


@pytest.mark.timeout(300)
def test_page_shows_the_part_read_so_far_then_everything(tmp_path, monkeypatch):
    directory = str(tmp_path / "big")
    with Journal(directory) as journal:
        journal.write_manifest({"run_id": "big", "optimizer": "RandomSearch",
                                "HB_config": {"min_budget": 1.0, "max_budget": 1.0, "eta": 3.0, "budgets": [1.0]}})
        journal.event("run_started", n_iterations=1)
        for k in range(30):
            write_result(journal, k, loss=1.0 - k / 100)
        journal.event("run_finished")
    release = threading.Event()

    def slow_first_read(self):  # the loader's first part, then a pause (a large journal's first read)
        _, live = self.run(None)
        live.update(max_bytes=2000)
        release.wait(120)
        while not live.at_end:
            live.update(max_bytes=2000)

    monkeypatch.setattr(Dashboard, "_load", slow_first_read)
    with Dashboard(directory, port=0) as dashboard, Browser() as browser:
        try:
            page = browser.open(dashboard.url)
            page.wait_for("document.getElementById('state').textContent == 'reading' && "
                          "Number(document.getElementById('runs-table').getAttribute('data-rows')) > 0")
            shown = int(page.evaluate("document.getElementById('runs-table').getAttribute('data-rows')"))
            assert 0 < shown < 30 and "runs so far" in page.evaluate(
                "document.getElementById('progress-text').textContent")
            assert page.evaluate("document.querySelectorAll('#figures .plot').length") == 0
        finally:
            release.set()
        page.wait_for("document.getElementById('runs-table').getAttribute('data-rows') == '30' && "
                      "document.getElementById('state').textContent == 'finished'", timeout=20)
        page.wait_for("document.querySelectorAll('#figures .plot').length >= 5", timeout=30)
        assert page.console_errors == []
        loopback_only(page.requests)
    assert threads_named("bandster-dashboard") == []


def test_dashboard_shows_running_jobs_latest_step_and_the_intermediate_values(tmp_path):
    from analysis_helpers import write_reporting_journal

    journal = write_reporting_journal(str(tmp_path), keep_open=True)
    try:
        dashboard = Dashboard(str(tmp_path), port=0)
        view = dashboard.state_view(None)
        assert view["state"] == "running" and view["progress"]["finished"] == 3
        assert [(j["config_id"], j["step"], j["loss"]) for j in view["running"]] == [([0, 0, 3], 2.0, 0.6)]
        assert ["runs", "3 finished: 1 ok, 2 stopped early, 0 failed; 1 running"] in [list(f) for f in view["facts"]]
        figures = {f["name"]: f for f in dashboard.figures_view(None)["figures"]}
        spec = figures["intermediate_values"]["spec"]
        stops = [trace for trace in spec["data"] if trace.get("name") == "stopped here"]
        assert stops[0]["x"] == [1.0, 3.0] and len(spec["data"]) == 5  # four jobs and the stops
        # in the browser: the running job's step and value, updated when it reports again, and the figure
        with dashboard, Browser() as browser:
            page = browser.open(dashboard.url)
            running = page.wait_for("document.getElementById('running').textContent.includes('latest loss') ? "
                                    "document.getElementById('running').textContent : ''")
            assert "(0, 0, 3)" in running and "0.6" in running
            journal.report((0, 0, 3), 9.0, 1, 5.0, 0.45, None, "continue", 1010.0)
            journal.flush()
            page.wait_for("document.getElementById('running').textContent.includes('0.45')", timeout=10)
            page.wait_for("document.querySelector('[data-figure=intermediate_values]') !== null", timeout=20)
            page.evaluate("document.querySelector('[data-figure=intermediate_values]').scrollIntoView()")
            page.wait_for("document.querySelector('[data-figure=intermediate_values] .main-svg') !== null",
                          timeout=20)  # drawn once in view
            assert page.console_errors == []
            loopback_only(page.requests)
    finally:
        journal.close()
