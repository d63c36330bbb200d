"""Headless Chromium for the tests, which may contact nothing but loopback.

:func:`open_page` opens a file or a loopback URL in headless Chromium and returns its DOM, a screenshot, what
the page logged to the console, and every request to a non-loopback host that was attempted. Every such
request, the page's and Chromium's own (update checks, accounts, spell-check dictionaries: it makes them even
with ``--disable-background-networking``), is routed to a proxy on 127.0.0.1 run by this module, which records
it and refuses it (``403``); Chromium's own name resolution maps every other host to "not found". Loopback
bypasses the proxy (Chromium's implicit rule), so pages served by a test on 127.0.0.1 load.

Which requests came from the page and which from Chromium itself is read from Chromium's net log
(``--log-net-log``): the page's carry its origin as initiator, Chromium's own carry none.

    page = open_page(tmp_path / "report.html", tmp_path)
    assert page.outside_requests == [] and page.console == []
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
#: schemes that never leave the machine
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "chrome-extension", "devtools"}


def chromium() -> str:
    """The Chromium executable; skips the test (saying how to install it) when there is none."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium: install it with `apt-get install chromium` (`make test` does this when it runs "
                "as root or with passwordless sudo)")


class RefusingProxy:
    """An HTTP proxy on 127.0.0.1 that records the first line of every request (``CONNECT host:443``,
    ``GET http://host/...``) and refuses it. Use as a context manager; its thread is named and joined."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()  # guards requests
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._serve, name="test-refusing-proxy", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    head = conn.recv(8192).decode("latin-1")
                except OSError:
                    head = ""
                with self._lock:
                    self.requests.append(head.split("\r\n", 1)[0] or "<a connection without a request>")
                try:
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._server.close()
        self._thread.join(10)

    def __enter__(self) -> RefusingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclasses.dataclass
class Page:
    """What :func:`open_page` saw."""

    dom: str  #: the DOM after the page ran (``--dump-dom``)
    screenshot: Path  #: a PNG of the window
    console: list[str]  #: the page's console messages (Chromium's ``:CONSOLE`` log lines)
    outside_requests: list[str]  #: URLs of non-loopback hosts the page asked for (all refused)
    browser_requests: list[str]  #: URLs of non-loopback hosts Chromium itself asked for (all refused)
    proxy_log: list[str]  #: what reached the refusing proxy


def is_outside(url: str) -> bool:
    """True for a URL that would leave the machine (not loopback, not a local scheme)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES or not parts.scheme:
        return False
    return (parts.hostname or "") not in LOOPBACK_HOSTS and not (parts.hostname or "").startswith("127.")


def requests_in_net_log(path: Path) -> tuple[list[str], list[str]]:
    """``(page requests, Chromium's own requests)`` to outside hosts, from a net log, in order and deduplicated.

    A request whose initiator is an origin (``null`` for a file page) comes from a page; ``not an origin``
    is Chromium's own.
    """
    with open(path) as fh:
        log = json.load(fh)
    kinds = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    page: list[str] = []
    browser: list[str] = []
    for event in log["events"]:
        params = event.get("params") or {}
        # the beginning of each job (its end repeats the event type without parameters)
        if kinds.get(event["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        url = params["url"]
        if not is_outside(url):
            continue
        target = browser if params.get("initiator") == "not an origin" else page
        if url not in target:
            target.append(url)
    return page, browser


def open_page(target: str | os.PathLike, workdir: str | os.PathLike, window: tuple[int, int] = (1200, 2400),
              virtual_time_ms: int = 5000, timeout: float = 180) -> Page:
    """Open ``target`` (a file path or a loopback URL) in headless Chromium; return what it showed and asked for.

    ``workdir`` receives the profile, the screenshot and the net log (a fresh directory per call is best).
    Chromium and all its helper processes are ended before this returns.
    """
    browser = chromium()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    screenshot, net_log = workdir / "screenshot.png", workdir / "net-log.json"
    url = str(target)
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    with RefusingProxy() as proxy:
        args = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={workdir / 'profile'}",
            # every non-loopback request goes to the refusing proxy; loopback bypasses it (implicit rule)
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
            f"--log-net-log={net_log}", "--enable-logging=stderr", "--v=0",
            "--hide-scrollbars", f"--window-size={window[0]},{window[1]}",
            "--enable-unsafe-swiftshader",  # software WebGL (plotly's parallel coordinates), without a deprecation
            # warning in the console
            f"--virtual-time-budget={virtual_time_ms}", f"--screenshot={screenshot}", "--dump-dom", url,
        ]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            dom, err = proc.communicate(timeout=timeout)
        finally:
            try:  # Chromium's helper processes share its session: end them all
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    assert screenshot.exists(), f"chromium wrote no screenshot:\n{err[-3000:]}"
    assert net_log.exists(), f"chromium wrote no net log:\n{err[-3000:]}"
    page, own = requests_in_net_log(net_log)
    # Chromium's own notes about its software WebGL ("GL Driver Message ... GPU stall") are not the page's messages
    console = [line for line in err.splitlines() if ":CONSOLE" in line and "]GL Driver Message" not in line]
    return Page(dom=dom, screenshot=screenshot, console=console,
                outside_requests=page, browser_requests=own, proxy_log=list(proxy.requests))
