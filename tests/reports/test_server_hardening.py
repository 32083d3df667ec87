"""Live dashboard hardening: slow clients hold no threads, one Host header, security headers."""

import socket
import threading
import time

import pytest

from automl.reports import _server
from tests.reports.test_dashboard_support import fast_figures, make_study_dir
from tests.reports.test_server import request, running


@pytest.fixture
def study(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    return make_study_dir(tmp_path / "run", finished=False)


def raw(server, data: bytes, timeout=10.0) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200), ("GET", "/api/version", 200), ("GET", _server._plotly_path(), 200),
    ("GET", "/nope", 404), ("POST", "/", 405), ("HEAD", "/", 200),
])
def test_security_headers_on_every_response(study, method, path, status):
    with running(study) as server:
        got, headers, _ = request(server, method, path)
    assert got == status
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    if path == "/" and method != "POST":
        assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1]


def test_the_page_scripts_are_the_hashed_ones(study):
    import base64
    import hashlib
    import re

    with running(study) as server:
        _, headers, body = request(server)
    allowed = set(re.findall(r"'(sha256-[^']+)'", headers["Content-Security-Policy"]))
    inline = re.findall(rb"<script>(.*?)</script>", body, re.S)
    assert inline
    for script in inline:
        digest = "sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode()
        assert digest in allowed


def test_several_host_headers_are_refused(study):
    with running(study) as server:
        port = server.server_address[1]
        reply = raw(server, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n"
                            "Connection: close\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.0 400") and b"Several Host headers" in reply
    assert b"X-Frame-Options: DENY" in reply


def test_silent_clients_hold_no_threads_and_time_out(study, monkeypatch):
    monkeypatch.setattr(_server.DashboardServer, "request_timeout", 1.5)
    with running(study) as server:
        request(server, path="/api/version")  # the pool has started its workers
        before = threading.active_count()
        sockets = []
        try:
            for _ in range(500):  # half-open clients: connect, send nothing
                sockets.append(socket.create_connection(server.server_address[:2], timeout=10))
            time.sleep(0.3)
            assert threading.active_count() <= before + server.max_workers
            start = time.perf_counter()
            status, _, _ = request(server, path="/api/version")  # answered meanwhile
            assert status == 200 and time.perf_counter() - start < 5
            time.sleep(server.request_timeout + 1.0)
            sockets[0].settimeout(5)
            assert sockets[0].recv(1) == b""  # closed by the server after its timeout
            assert not server._waiting
        finally:
            for sock in sockets:
                sock.close()
        assert threading.active_count() <= before + server.max_workers


def test_a_client_that_stalls_mid_request_is_cut_off(study, monkeypatch):
    monkeypatch.setattr(_server.DashboardServer, "request_timeout", 1.0)
    with running(study) as server:
        start = time.perf_counter()
        reply = raw(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends the headers
        assert time.perf_counter() - start < 8
        assert b"200 OK" not in reply
        assert request(server, path="/api/version")[0] == 200


def test_under_the_csp_the_page_draws_and_an_injected_script_is_refused(study, tmp_path):
    # The real page draws all its panels under the policy (plotly.js from the server itself);
    # a script that found its way into the page is refused by the browser.
    from tests.reports import test_browser as browser

    if browser.CHROMIUM is None:
        pytest.skip("headless Chromium is not installed")
    with running(study, refresh_s=60) as server:
        page = server.watcher.page

        def injected(refresh_s):
            status, text, version = page(refresh_s)
            evil = ('<script>document.documentElement.dataset.pwned = "1"</script>'
                    '<img src="x" onerror="document.documentElement.dataset.pwned = \'2\'">')
            return status, text.replace("<footer>", evil + "<footer>", 1), version

        server.watcher.page = injected
        result = browser.run_chromium(server.url, tmp_path / "profile")
    assert "data-pwned" not in result.dom
    refused = [m for m in result.console if "Content Security Policy" in m]
    assert refused and all("blocked" in m or "Refused" in m for m in refused), result.console
    assert [m for m in browser.console_errors(result.console) if m not in refused] == []
    # the page still draws (its own error panel may report the blocked script)
    assert 'data-panels-total="1" data-panels-rendered="1"' in result.dom
    assert 'class="main-svg"' in result.dom
