"""The shared headless-browser helper (tests/helpers/browser.py) routes every outside request to a refusing local proxy
and reports it, while loopback pages load (issue 11, item 19)."""

import http.server
import threading

import pytest
from browser import open_page


@pytest.mark.timeout(300)
def test_outside_requests_are_refused_and_reported(tmp_path):
    page_file = tmp_path / "control.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body><p id='x'>control page</p><img src='https://example.com/a.png'>"
        "<script>console.error('control-error'); fetch('http://example.org/x').catch(() => {});"
        "document.getElementById('x').textContent = 'ran';</script></body></html>")
    page = open_page(page_file, tmp_path / "browser")
    assert "<p id=\"x\">ran</p>" in page.dom  # the DOM after the script ran
    assert page.outside_requests == ["https://example.com/a.png", "http://example.org/x"]
    # both went to the refusing proxy (nothing left the machine); Chromium's own requests are routed there too
    assert "CONNECT example.com:443 HTTP/1.1" in page.proxy_log
    assert "GET http://example.org/x HTTP/1.1" in page.proxy_log
    assert any("control-error" in line for line in page.console)
    assert page.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.timeout(300)
def test_a_loopback_page_loads_without_the_proxy(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(
        "<!DOCTYPE html><html><body><p id='x'>waiting</p><script>fetch('/data.txt').then(r => r.text())"
        ".then(t => { document.getElementById('x').textContent = t; });</script></body></html>")
    (tmp_path / "site" / "data.txt").write_text("served on loopback")
    site = str(tmp_path / "site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Handler(*a, directory=site))
    thread = threading.Thread(target=server.serve_forever, name="test-loopback-site", daemon=True)
    thread.start()
    try:
        page = open_page(f"http://127.0.0.1:{server.server_address[1]}/index.html", tmp_path / "browser")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert "served on loopback" in page.dom
    assert page.outside_requests == []
    assert not any("127.0.0.1" in line for line in page.proxy_log)
