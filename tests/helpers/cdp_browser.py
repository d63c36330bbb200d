"""A minimal headless Chromium for the tests, driven over the DevTools protocol on a pipe (no extra package).

Chromium is started with ``--remote-debugging-pipe`` (it reads commands on fd 3 and writes answers and events on
fd 4, NUL-separated JSON) and with every request that is not to loopback sent to a proxy on a closed local port,
so that nothing outside this machine is ever contacted (Chromium calls Google's services on its own). The
console messages, uncaught exceptions and requested URLs of the page are recorded.

Usage::

    with Browser() as browser:
        page = browser.open("http://127.0.0.1:8000/")
        page.wait_for("document.querySelectorAll('tr').length > 3")
        page.console_errors, page.requests, page.screenshot("shot.png")
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any

import pytest


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium: install it with `apt-get install chromium` (`make test` does this when it runs as "
                "root or with passwordless sudo)")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """One tab: its console errors, exceptions and requests, and :meth:`evaluate`."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session
        self.console: list[tuple[str, str]] = []  # (level, text)
        self.exceptions: list[str] = []
        self.requests: list[str] = []

    @property
    def console_errors(self) -> list[str]:
        return [text for level, text in self.console if level in ("error", "assert")] + self.exceptions

    def send(self, method: str, **params: Any) -> dict:
        return self.browser.send(method, session=self.session, **params)

    def evaluate(self, expression: str) -> Any:
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression!r} raised in the page: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate ``expression`` until it is truthy (every 0.1 s); its value, or AssertionError after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"after {timeout} s, {expression!r} is still {value!r}; console: {self.console_errors}")

    def screenshot(self, path: str) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        with open(path, "wb") as fh:
            fh.write(data)
        return data


class Browser:
    """Headless Chromium; a context manager that ends every process it started."""

    def __init__(self, width: int = 1400, height: int = 1800) -> None:
        self.path = find_chromium()
        self.profile = tempfile.mkdtemp(prefix="bandster-chromium-")
        self.proxy_port = closed_port()
        self._to_browser_r, self._to_browser_w = os.pipe()
        self._from_browser_r, self._from_browser_w = os.pipe()
        args = [self.path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--mute-audio", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--enable-unsafe-swiftshader",  # software WebGL for plotly (our own pages only)
                # everything but loopback goes to a proxy that is not there: no request leaves the machine
                f"--proxy-server=127.0.0.1:{self.proxy_port}", "--proxy-bypass-list=127.0.0.1;localhost",
                "--remote-debugging-pipe", "about:blank"]
        read_end, write_end = self._to_browser_r, self._from_browser_w

        def pipes() -> None:  # chromium reads commands from fd 3, writes to fd 4
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=pipes,
                                     start_new_session=True)
        os.close(self._to_browser_r)
        os.close(self._from_browser_w)
        self._next_id = 0
        self._lock = threading.Lock()  # guards _answers, _next_id
        self._answered = threading.Condition(self._lock)
        self._answers: dict[int, dict] = {}
        self._pages: dict[str, Page] = {}
        self._reader = threading.Thread(target=self._read, name="test-cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser_r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._answered:
                    self._answers[-1] = {"error": "chromium closed its pipe"}
                    self._answered.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                self._dispatch(json.loads(raw))

    def _dispatch(self, message: dict) -> None:
        if "id" in message:
            with self._answered:
                self._answers[message["id"]] = message
                self._answered.notify_all()
            return
        page = self._pages.get(message.get("sessionId"))
        if page is None:
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            page.console.append((params.get("type"), text))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.exceptions.append(details.get("exception", {}).get("description") or details.get("text", "?"))
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            page.console.append((entry.get("level"), entry.get("text", "")))
        elif method == "Network.requestWillBeSent":
            page.requests.append(params.get("request", {}).get("url", ""))

    def send(self, method: str, session: str | None = None, timeout: float = 60.0, **params: Any) -> dict:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._answered:
            while ident not in self._answers and -1 not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"chromium did not answer {method} in {timeout} s")
                self._answered.wait(left)
            answer = self._answers.pop(ident, None) or self._answers[-1]
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def open(self, url: str, wait: str = "document.readyState === 'complete'") -> Page:
        """A new tab showing ``url``, with its console, exceptions and requests recorded from the start."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = self._pages[session] = Page(self, session)
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.send(f"{domain}.enable")
        page.send("Page.navigate", url=url)
        page.wait_for(f"location.href !== 'about:blank' && ({wait})")
        return page

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # chromium's helpers share its session: end them all
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self._to_browser_w)
        self._reader.join(timeout=10)
        os.close(self._from_browser_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
