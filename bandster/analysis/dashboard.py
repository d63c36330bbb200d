"""``bandster dashboard``: a live, read-only web page of one run or of several, served from their journals.

The server (the standard library's :class:`~http.server.ThreadingHTTPServer`) binds to loopback by default and
answers only ``GET``: the page itself, plotly.js, and small JSON documents. The page asks every two seconds for
``/api/state?run=NAME&since=VERSION``, and the server answers after reading only the lines appended to the run's
journal since its last read (:class:`~bandster.analysis.live.LiveRun`), with the status and the runs changed
since the version the page has; the figures are fetched again when the state changed (at most every few
seconds). It reads only the journal, so it shows a run on another machine through a shared directory as well.

Several runs: given a directory that holds several journals (a working directory's ``bandster_runs``, or a
folder of working directories), the page has a run selector and a comparison of their incumbents.

Examples
--------
Serve a run's journal until Ctrl-C (what ``bandster dashboard DIR`` does)::

    dashboard = Dashboard("bandster_runs/myrun_20250101-120000", port=8050)
    dashboard.start()
    print(dashboard.url)
    ...
    dashboard.stop()
"""

from __future__ import annotations

import gc
import http.server
import logging
import os
import threading
import time
import urllib.parse
from typing import Any

from bandster.__version__ import __version__
from bandster.analysis.live import LiveRun
from bandster.analysis.page import asset, escape, plotly_js, to_json
from bandster.records.format import find_journals

logger = logging.getLogger(__name__)

__all__ = ["Dashboard"]

#: figures are recomputed at most this often (seconds) while a run changes (the page asks every 10 s at most)
FIGURES_INTERVAL = 5.0
#: the first read of a journal goes in parts of about this many bytes per file, the page showing the state read
#: so far between them
FIRST_READ_PART = 1 << 20


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = f"bandster-dashboard/{__version__}"
    timeout = 30  # seconds a connection may stay silent: stop() joins every request thread
    dashboard: Dashboard  # set on the subclass the server uses

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=86400" if cache else "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline' "
                         "'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                         "connect-src 'self'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, to_json({"error": message}).encode(), "application/json")

    def do_HEAD(self) -> None:  # noqa: N802 - the base class's name
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if not self.dashboard.host_allowed(self.headers.get("Host", "")):
            self._error(403, "unexpected Host header (the dashboard answers only requests addressed to it)")
            return
        url = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            if url.path == "/":
                self._send(200, self.dashboard.page().encode(), "text/html; charset=utf-8")
            elif url.path == "/static/plotly.min.js":
                self._send(200, self.dashboard.plotly(), "text/javascript; charset=utf-8", cache=True)
            elif url.path == "/api/runs":
                self._send(200, to_json(self.dashboard.runs_view()).encode(), "application/json")
            elif url.path == "/api/state":
                since = int(query.get("since", "0") or 0)
                view = self.dashboard.state_view(query.get("run"), since)
                self._send(200, to_json(view).encode(), "application/json")
            elif url.path == "/api/table":
                self._send(200, to_json(self.dashboard.table_view(query.get("run"), query)).encode(),
                           "application/json")
            elif url.path == "/api/table.csv":
                self._send(200, self.dashboard.table_csv(query.get("run"), query).encode(), "text/csv; charset=utf-8")
            elif url.path == "/api/figures":
                self._send(200, to_json(self.dashboard.figures_view(query.get("run"))).encode(), "application/json")
            elif url.path == "/api/compare":
                self._send(200, to_json(self.dashboard.compare_view()).encode(), "application/json")
            else:
                self._error(404, f"no such page: {url.path}")
        except KeyError as err:
            self._error(404, str(err.args[0]) if err.args else "not found")
        except ValueError as err:
            self._error(400, str(err))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away
        except Exception as err:  # a bug must not take the server down: the page shows it
            logger.exception("the dashboard failed on %s", self.path)
            self._error(500, f"{type(err).__name__}: {err}")

    def _refuse(self) -> None:
        self._error(405, "the dashboard is read-only: only GET and HEAD are answered")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815


class _Server(http.server.ThreadingHTTPServer):
    """One named thread per request (``bandster-dashboard-request-N``), all joined by :meth:`server_close`."""

    daemon_threads = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._threads_lock = threading.Lock()  # guards _request_threads, _requests
        self._request_threads: list[threading.Thread] = []
        self._requests = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._threads_lock:
            self._requests += 1
            self._request_threads = [t for t in self._request_threads if t.is_alive()]
            thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                      name=f"bandster-dashboard-request-{self._requests}")
            self._request_threads.append(thread)
        thread.start()

    def server_close(self) -> None:
        super().server_close()
        with self._threads_lock:
            threads, self._request_threads = self._request_threads, []
        for thread in threads:
            thread.join()


class Dashboard:
    """The dashboard's server and the runs it shows.

    Parameters
    ----------
    path : str or path-like
        A run's journal directory, a working directory, or a directory holding several runs.
    host : str
        The address to listen on; loopback by default. Anything else exposes the journal (configurations,
        losses, tracebacks, host names) to whoever can reach the port: there is no authentication.
    port : int
        0 picks a free port (see :attr:`port`).
    freeze_gc : bool
        Once the first read of the journals is done, move every object then alive to the garbage collector's
        permanent generation (:func:`gc.freeze`; :meth:`stop` undoes it). The state of a large journal is
        about a million long-lived objects without reference cycles (0.9 M for 100,000 runs), which each full
        collection would otherwise walk again (about half a second each). It applies to the whole process: what
        is alive then is never collected as cyclic garbage while the dashboard runs (it is still freed when no
        longer referenced), so ``bandster dashboard``, whose process is the dashboard's own, sets it, and the
        default leaves the process's collector alone.
    """

    def __init__(self, path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8050,
                 freeze_gc: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.host, self._port = host, port
        self._freeze_gc = freeze_gc
        self._frozen = False  # whether _load froze the collector's objects (stop() unfreezes them)
        self._runs_lock = threading.Lock()  # guards _runs, _scanned
        self._runs: dict[str, LiveRun] = {}
        self._scanned = 0.0
        self._figures_lock = threading.Lock()  # guards _figures
        self._figures: dict[str, tuple[int, float, Any]] = {}  # name -> (version, when, figures)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self.scan()
        if not self._runs:
            raise FileNotFoundError(f"no run journal at or below {self.path} (looked 3 levels deep for "
                                    f"directories with configs.json or results.json)")

    # --- runs ---------------------------------------------------------------------------------------

    def scan(self, max_age: float = 0.0) -> dict[str, LiveRun]:
        """Look for journals again (new runs appear) unless the last look is less than ``max_age`` s old."""
        with self._runs_lock:
            if time.monotonic() - self._scanned >= max_age:
                for name, directory in find_journals(self.path).items():
                    if name not in self._runs:
                        self._runs[name] = LiveRun(directory)
                self._scanned = time.monotonic()
            return dict(self._runs)

    def run(self, name: str | None) -> tuple[str, LiveRun]:
        runs = self.scan(max_age=10.0)
        if name is None or name == "":
            name = sorted(runs)[-1] if len(runs) > 1 else next(iter(runs))
        if name not in runs:
            raise KeyError(f"no run named {name!r} here; the runs are {sorted(runs)}")
        return name, runs[name]

    @property
    def bytes_read(self) -> int:
        """Bytes read from all journals so far."""
        return sum(live.bytes_read for live in self.scan(max_age=float("inf")).values())

    # --- views --------------------------------------------------------------------------------------

    def runs_view(self) -> dict:
        runs = self.scan(max_age=10.0)
        return {"root": self.path, "runs": [{"name": name, "directory": live.directory} for name, live in
                                            sorted(runs.items())]}

    def state_view(self, name: str | None, since: int = 0) -> dict:
        """The run's state for the page, with the rows of the runs table changed after version ``since``."""
        from bandster.analysis.report import summary_facts

        name, live = self.run(name)
        loading = self._reading(live)
        if loading and live.version == 0:
            # the first read of a large journal is under way: say so at once instead of keeping the page waiting
            return {"run": name, "directory": live.directory, "loading": True, "journal_bytes": live.journal_bytes(),
                    "read_bytes": live.bytes_read}
        status = live.status(top=10)
        running = []
        for (cid, budget), event in sorted(live.running_jobs().items(), key=lambda kv: kv[1]["time"]):
            worker = event.get("worker") if isinstance(event.get("worker"), str) else "?"
            report = status.latest_reports.get((cid, budget)) or {}
            running.append({"worker": worker.split(".worker.", 1)[-1], "config_id": list(cid), "budget": budget,
                            "since": event["time"], "config": live.config(cid), "step": report.get("step"),
                            "loss": report.get("loss")})
        planned = None
        finished = status.runs_finished
        if status.remaining_runs is not None and (status.state == "running" or status.remaining_runs == 0):
            planned = finished + status.runs_running + status.remaining_runs
        stages = [[s.iteration, s.stage, s.budget, s.planned, s.done, s.failed, s.running, s.pending]
                  for s in status.stages if s.done or s.failed or s.running]
        return {
            "run": name, "directory": live.directory, "version": live.version, "now": status.now,
            "state": status.state, "live": status.live, "run_id": status.run_id,
            "facts": summary_facts(status, live.n_configs()),
            "progress": {"finished": finished, "running": status.runs_running, "planned": planned},
            "running": running,
            "workers": [{"name": w.short_name, "host": w.host, "state": w.state, "runs": w.runs, "failed": w.failed,
                         "busy": w.busy, "last_activity": w.last_activity} for w in status.workers],
            "stages": stages, "stages_total": len(status.stages),
            "runs": {"version": live.table.version, "total": live.n_runs},  # the rows: /api/table, a page at a time
        } | ({"loading": True, "journal_bytes": live.journal_bytes(), "read_bytes": live.bytes_read} if loading
             else {})

    def _reading(self, live: LiveRun) -> bool:
        """True while the loader's first read of ``live`` is under way (the state read so far is shown, the
        request reads nothing); otherwise read what was appended and return False."""
        if not live.loaded and self._loader is not None and self._loader.is_alive():
            return True
        live.update()
        return False

    @staticmethod
    def _table_query(query: dict[str, str]) -> dict[str, Any]:
        """The runs table's query from a request's parameters: ``sort``, ``desc`` (1 for descending), ``page``,
        ``size`` and one ``f.<column>`` per filter."""
        try:
            page, size = int(query.get("page", "0") or 0), int(query.get("size", "50") or 50)
        except ValueError as err:
            raise ValueError(f"page and size must be integers: {err}") from None
        return {"sort": query.get("sort", "loss"), "descending": query.get("desc", "") in ("1", "true"),
                "filters": {k[2:]: v for k, v in query.items() if k.startswith("f.")}, "page": page,
                "size": min(max(size, 1), 1000)}

    def table_view(self, name: str | None, query: dict[str, str]) -> dict:
        """A page of the run's table, sorted and filtered on the server (see :meth:`RunsTable.query`)."""
        name, live = self.run(name)
        self._reading(live)
        return dict(live.query_table(**self._table_query(query)), run=name)

    def table_csv(self, name: str | None, query: dict[str, str]) -> str:
        """Every row of the run's table that passes the filters, sorted, as CSV."""
        name, live = self.run(name)
        self._reading(live)
        return live.table_csv(**self._table_query(query))

    def figures_view(self, name: str | None) -> dict:
        """The run's interactive figures (recomputed when the run changed, at most every few seconds)."""
        from bandster.analysis.figures import interactive_figures
        from bandster.analysis.report import load_configspace

        name, live = self.run(name)
        if self._reading(live):  # figures of a part would be drawn again at once: they wait for the whole
            return {"run": name, "version": -1, "figures": [], "loading": True}
        with self._figures_lock:
            cached = self._figures.get(name)
            fresh = cached is not None and (cached[0] == live.version
                                            or time.monotonic() - cached[1] < FIGURES_INTERVAL)
            if not fresh:
                figures = interactive_figures(live.result(), load_configspace(live.manifest()), live.configs())
                cached = self._figures[name] = (live.version, time.monotonic(),
                                                [{"name": n, "caption": c, "spec": s} for n, c, s in figures])
        return {"run": name, "version": cached[0], "figures": cached[2]}

    def compare_view(self) -> dict:
        """The incumbents of all runs overlaid (over time and over budget spent), when there are several."""
        from bandster.analysis.compare import compare_info, default_label
        from bandster.analysis.figures import comparison_figures

        runs = self.scan(max_age=10.0)
        if len(runs) < 2:
            return {"figures": []}
        if any(self._reading(live) for live in runs.values()):  # compared once every run was read whole
            return {"figures": [], "loading": True}
        info = compare_info({name: live.result() for name, live in sorted(runs.items())},
                            {name: default_label(live.manifest(), name) for name, live in runs.items()})
        return {"figures": [{"name": n, "caption": c, "spec": s} for n, c, s in comparison_figures(info)]}

    def page(self) -> str:
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<title>bandster dashboard: {escape(os.path.basename(self.path))}</title>"
            f"<style>{asset('page.css')}</style></head><body>"
            f'<h1><span id="title">bandster dashboard</span> <span id="state" class="state"></span></h1>'
            f'<p class="muted">Serving <code>{escape(self.path)}</code> read-only; the page updates itself every '
            f'2 seconds. <span id="updated"></span></p>'
            '<nav class="runs-nav" id="runs-nav" hidden><label>run <select id="run-select"></select></label></nav>'
            '<p id="error" class="state-stopped" hidden></p>'
            '<section id="compare-section" hidden><h2>All runs compared</h2><div id="compare"></div></section>'
            '<h2 id="summary">Summary</h2><div class="progress" id="progress"><div></div></div>'
            '<p id="progress-text" class="muted"></p><dl class="facts" id="facts"></dl>'
            '<div class="grid2"><section><h2>Running jobs</h2><div id="running"></div></section>'
            '<section><h2>Workers</h2><div id="workers"></div></section></div>'
            '<h2 id="figures-title">Figures</h2><p class="muted">Hover over a point for its configuration, budget '
            'and loss; drag to zoom, double-click to zoom out.</p><div id="figures"></div>'
            '<h2 id="runs">All runs</h2><div id="runs-table" class="runs-table"></div>'
            '<h2>Stages that ran</h2><div id="stages"></div>'
            '<script src="/static/plotly.min.js"></script>'
            f"<script>{asset('runs_table.js')}</script><script>{asset('figures.js')}</script>"
            f"<script>{asset('dashboard.js')}</script>"
            "</body></html>"
        )

    def plotly(self) -> bytes:
        return plotly_js().encode()

    # --- serving ------------------------------------------------------------------------------------

    def host_allowed(self, host_header: str) -> bool:
        """Whether a request's ``Host`` header names this server (a guard against DNS rebinding: a web page
        elsewhere cannot make the browser read the dashboard through a name that resolves to loopback)."""
        host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        host = host.strip("[]").lower()
        allowed = {"127.0.0.1", "localhost", "::1", self.host.lower()}
        if self.host in ("0.0.0.0", "::", ""):
            return True  # bound to every interface on purpose: any name may reach it
        return host in allowed

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server is not None else self._port

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        """Start serving in a thread named ``bandster-dashboard-server``."""
        import bandster.optimizers.brackets  # noqa: F401 - the status's stage plans need it: loaded before serving
        handler = type("Handler", (_Handler,), {"dashboard": self})
        _Server.address_family = http.server.socket.AF_INET6 if ":" in self.host else http.server.socket.AF_INET
        self._server = _Server((self.host, self._port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="bandster-dashboard-server",
                                        kwargs={"poll_interval": 0.2})
        self._thread.start()
        # the first read of every journal starts now, so that a large one is ready sooner; the page shows that
        # it is being read meanwhile
        self._loader = threading.Thread(target=self._load, name="bandster-dashboard-loader")
        self._loader.start()
        logger.info("dashboard of %s on %s", self.path, self.url)

    def _load(self) -> None:
        for name, live in sorted(self.scan(max_age=float("inf")).items(), reverse=True):  # the shown one first
            if self._server is None:
                return
            try:
                while self._server is not None:  # in parts: the page shows the state read so far meanwhile
                    live.update(max_bytes=FIRST_READ_PART)
                    if live.at_end:
                        break
            except Exception:  # the page's own request will show the error
                logger.exception("reading the journal of %s failed", name)
        if self._freeze_gc and self._server is not None:
            gc.freeze()  # the journals' state is long-lived: no full collection walks it again
            self._frozen = True
            logger.debug("first read done: %d objects moved to the collector's permanent generation",
                         gc.get_freeze_count())

    def stop(self) -> None:
        """Stop serving and join the server's thread."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None
        if self._loader is not None:
            self._loader.join()  # ends after the journal it is reading
            self._loader = None
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def __enter__(self) -> Dashboard:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
