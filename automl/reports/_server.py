"""Live dashboard: the study page served over HTTP, refreshed as trials finish.

A small read-only server (standard library ``http.server``) for a study that may
still be running in other processes:

- ``GET /`` the dashboard, rebuilt from the storage when finished trials change;
- ``GET /api/version`` ``{"version", "finished", "trials", "running", "error"}``;
  the page polls it and reloads when ``version`` changes;
- ``GET /plotly-<version>.min.js`` plotly.js, cached by the browser across reloads.

Only GET and HEAD are answered (other methods: 405). A missing storage shows a
waiting page (the study has not started), an unreadable one an error page (500);
the server keeps running and the page recovers by itself once the storage can be read.

Hardening: a connection is handed to one of a few worker threads only once its
request has started arriving (one selector thread watches the waiting
connections, which are closed after ``request_timeout`` seconds of silence), and
each read of a request times out, so slow or half-open clients hold sockets, not
threads. A request with several ``Host:`` headers is refused (400). Every
response carries a ``Content-Security-Policy`` (scripts only from the server
itself or the page's own inline scripts, listed by their SHA-256 hashes; no
framing, plugins, forms or outside connections), ``X-Frame-Options: DENY`` and
``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import html
import ipaddress
import json
import math
import os
import selectors
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from automl import reports

from ._dashboard import study_page
from ._data import JOURNAL_NAME, PREDICTIONS_NAME, SUMMARY_NAME
from ._html import _ERRORS_JS, _LIVE_JS, _RENDER_JS, _header_html, _page

__all__ = ["DashboardServer", "make_server", "serve_dashboard"]

_OUTPUT_FILES = (SUMMARY_NAME, PREDICTIONS_NAME)


def serve_dashboard(
    source,
    *,
    host: str = "127.0.0.1",
    port: int = 8050,
    refresh_s: float = 5.0,
    study_name: str | None = None,
) -> None:
    """Serve the live dashboard of a study until interrupted (Ctrl+C).

    Parameters
    ----------
    source : str or Path
        A study output directory, an Optuna journal file or a storage URL
        (``sqlite:///study.db``). Only read; it may not exist yet.
    host : str, default="127.0.0.1"
        Interface to listen on. Other machines can connect only when an
        address other than the loopback one is given explicitly.
    port : int, default=8050
        TCP port; 0 picks a free one. The URL is printed.
    refresh_s : float, default=5.0
        How often the page asks the server whether trials finished.
    study_name : str, optional
        Which study of a storage holding several (default: the last one).

    See Also
    --------
    make_server : The same server, not yet serving (for tests and embedding).
    """
    server = make_server(source, host=host, port=port, refresh_s=refresh_s, study_name=study_name)
    run_server(server)


def run_server(server: DashboardServer) -> None:
    """Print the URL, serve until Ctrl+C, close the socket."""
    print(
        f"automl dashboard: serving {server.source_label} at {server.url} "
        "(read-only; Ctrl+C to stop)",
        flush=True,
    )
    if not server.is_loopback:
        host = server.server_address[0]
        print(
            f"automl dashboard: warning: listening on {host}: other machines can read the study",
            file=sys.stderr,
            flush=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("automl dashboard: stopped", file=sys.stderr)
    finally:
        server.server_close()


def make_server(
    source,
    *,
    host: str = "127.0.0.1",
    port: int = 8050,
    refresh_s: float = 5.0,
    study_name: str | None = None,
) -> DashboardServer:
    """Create (bind, but do not start) the live dashboard server.

    Call ``serve_forever()`` on the result (in a thread for tests) and
    ``shutdown()`` then ``server_close()`` to stop it. Parameters as in
    :func:`serve_dashboard`.

    Raises
    ------
    ValueError
        For an invalid ``port`` or ``refresh_s``.
    OSError
        If the address cannot be bound (port in use, unknown host).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(
            f"The 'port' parameter of serve_dashboard must be an int in the range [0, 65535]. "
            f"Got {port!r} instead."
        )
    if (
        isinstance(refresh_s, bool)
        or not isinstance(refresh_s, (int, float))
        or not math.isfinite(refresh_s)
        or refresh_s <= 0
    ):
        raise ValueError(
            "The 'refresh_s' parameter of serve_dashboard must be a float in the range "
            f"(0, inf). Got {refresh_s!r} instead."
        )
    return DashboardServer(
        source, host=host, port=port, refresh_s=float(refresh_s), study_name=study_name
    )


class DashboardServer(HTTPServer):
    """HTTP server of the live dashboard (see :func:`make_server`).

    Attributes
    ----------
    max_workers : int
        Threads answering requests (a connection gets one once data arrives).
    max_waiting : int
        Connections that may wait for their request at once; more are closed.
    request_timeout : float
        Seconds a connection may stay silent, and the timeout of each read.
    """

    max_workers = 8
    max_waiting = 1024
    request_timeout = 10.0

    def __init__(self, source, *, host, port, refresh_s, study_name=None):
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.refresh_s = refresh_s
        self.watcher = _StudyWatcher(source, study_name=study_name)
        self.source_label = self.watcher.label
        self.is_loopback = _is_loopback(host)
        self._plotly_js: bytes | None = None
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="automl-dashboard")
        self._incoming: collections.deque = collections.deque()
        self._waiting: dict = {}  # socket -> (client address, deadline)
        self._closing = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._waiter = threading.Thread(target=self._wait_for_requests, daemon=True,
                                        name="automl-dashboard-waiter")
        super().__init__((host, port), _Handler)  # closes the above if binding fails
        self._waiter.start()

    # -- connections: wait (no thread) until the request arrives, then a worker --
    def process_request(self, request, client_address):
        if len(self._waiting) + len(self._incoming) >= self.max_waiting:
            self.shutdown_request(request)  # flooded: drop rather than queue without bound
            return
        self._incoming.append((request, client_address))
        self._wake()

    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except OSError:  # closing, or the wake-up buffer is full (a wake-up is pending anyway)
            pass

    def _wait_for_requests(self):
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._closing:
                deadlines = [d for _, d in self._waiting.values()]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                for key, _ in selector.select(timeout):
                    if key.fileobj is self._wake_r:
                        try:
                            while self._wake_r.recv(4096):
                                pass
                        except (BlockingIOError, InterruptedError):
                            pass
                        continue
                    selector.unregister(key.fileobj)
                    address, _ = self._waiting.pop(key.fileobj)
                    self._pool.submit(self._answer, key.fileobj, address)
                while self._incoming:
                    request, address = self._incoming.popleft()
                    self._waiting[request] = (address, time.monotonic() + self.request_timeout)
                    selector.register(request, selectors.EVENT_READ)
                now = time.monotonic()
                for request, (_, deadline) in list(self._waiting.items()):
                    if deadline <= now:  # silent for request_timeout: a half-open client
                        selector.unregister(request)
                        del self._waiting[request]
                        self.shutdown_request(request)
        finally:
            for request in list(self._waiting) + [r for r, _ in self._incoming]:
                self.shutdown_request(request)
            self._waiting.clear()
            selector.close()

    def _answer(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - one bad connection never stops the server
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # timeouts and resets of single connections are not the user's concern

    def server_close(self):
        super().server_close()
        self._closing = True
        self._wake()
        if self._waiter.is_alive():
            self._waiter.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"

    def plotly_js(self) -> bytes:
        if self._plotly_js is None:
            from plotly.offline import get_plotlyjs

            self._plotly_js = get_plotlyjs().encode("utf-8")
        return self._plotly_js


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _plotly_path() -> str:
    import plotly

    return f"/plotly-{plotly.__version__}.min.js"


# ---------------------------------------------------------------------------
# Reading the study


class _SourceError(Exception):
    """The storage cannot be read; ``status`` 200 while waiting for it, 500 when broken."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _StudyWatcher:
    """Keeps the study loaded, notices finished trials and replaced files, caches the page."""

    def __init__(self, source, *, study_name=None):
        self.source = source
        self.study_name = study_name
        text = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
        self.is_url = text is not None and "://" in text
        self.path = Path(text) if text is not None and not self.is_url else None
        self.label = text if text is not None else type(source).__name__
        self._lock = threading.RLock()
        self._data = None
        self._stamp = None
        self._page = None  # (version, html)
        self._error_status = HTTPStatus.INTERNAL_SERVER_ERROR  # of the last _SourceError

    # File identity and modification stamps: a changed stamp means "load again"
    # (the runner replaces the journal at the start of a run and writes summary.json
    # and test_predictions.npz at its end).
    def _files_stamp(self) -> tuple:
        if self.path is None:
            return ()
        if self.path.is_dir():
            journal = self.path / JOURNAL_NAME
            files = [(journal, True)] + [(self.path / f, False) for f in _OUTPUT_FILES]
        else:
            files = [(self.path, True)]
        stamp = []
        for path, identity_only in files:
            try:
                st = path.stat()
            except OSError:
                stamp.append(None)
                continue
            stamp.append((st.st_dev, st.st_ino) if identity_only else (st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def _load(self):
        if self.path is not None and not self.path.exists():
            what = "output directory or journal file"
            raise _SourceError(
                f"{self.path} does not exist (yet): no {what} there. The page refreshes "
                "by itself once the study starts writing it.",
                HTTPStatus.OK,
            )
        try:
            return reports.load_study_data(self.source, study_name=self.study_name)
        except FileNotFoundError as exc:
            raise _SourceError(f"{exc} The page refreshes once it appears.", HTTPStatus.OK) from exc
        except ValueError as exc:
            if "no study" in str(exc).lower():
                raise _SourceError(str(exc), HTTPStatus.OK) from exc
            raise _SourceError(
                f"Cannot read the study: {exc}", HTTPStatus.INTERNAL_SERVER_ERROR
            ) from exc
        except PermissionError as exc:
            raise _SourceError(
                f"Cannot read {exc.filename or self.label}: permission denied.",
                HTTPStatus.INTERNAL_SERVER_ERROR,
            ) from exc
        except Exception as exc:  # a corrupt journal, a database error, ...
            raise _SourceError(
                f"Cannot read the study storage {self.label}: {type(exc).__name__}: {exc}",
                HTTPStatus.INTERNAL_SERVER_ERROR,
            ) from exc

    def data(self):
        """The loaded study data, loaded again when the files changed."""
        with self._lock:
            stamp = self._files_stamp()
            if self._data is None or stamp != self._stamp:
                self._data = None
                self._page = None
                self._data = self._load()
                self._stamp = stamp
            return self._data

    def version(self) -> dict:
        """What the page polls: a hash of the finished trials and the output files."""
        with self._lock:
            try:
                trials = self._trials()
            except _SourceError as exc:
                self._error_status = exc.status
                return {
                    "version": "error-" + _digest(str(exc)),
                    "finished": 0,
                    "trials": 0,
                    "running": 0,
                    "error": str(exc),
                }
            finished = [(t.number, t.state.name) for t in trials if t.state.is_finished()]
            running = sum(t.state.name == "RUNNING" for t in trials)
            return {
                "version": _digest(repr((self._stamp, self._data.name, finished))),
                "finished": len(finished),
                "trials": len(trials),
                "running": running,
                "error": None,
            }

    def _trials(self):
        for attempt in range(2):
            data = self.data()
            try:
                return data.study.get_trials(deepcopy=False)
            except Exception as exc:  # journal replaced under us, database gone, ...
                self._data = None
                if attempt:
                    raise _SourceError(
                        f"Cannot read the trials of {self.label}: {type(exc).__name__}: {exc}",
                        HTTPStatus.INTERNAL_SERVER_ERROR,
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def page(self, refresh_s: float) -> tuple[int, str, dict]:
        """``(status, html, version)`` of the dashboard or of the error page."""
        with self._lock:
            version = self.version()
            if version["error"] is not None:
                return self._error_status, _error_page(self.label, version, refresh_s), version
            if self._page is not None and self._page[0] == version["version"]:
                return HTTPStatus.OK, self._page[1], version
            live = {
                "version": version["version"],
                "refresh_s": refresh_s,
                "plotly_src": _plotly_path(),
            }
            try:
                text = study_page(self._data, live=live)
            except Exception as exc:  # a figure failing must not take the server down
                version = dict(
                    version,
                    error=f"Cannot build the dashboard: {type(exc).__name__}: {exc}",
                )
                return (
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    _error_page(self.label, version, refresh_s),
                    version,
                )
            self._page = (version["version"], text)
            return HTTPStatus.OK, text, version


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _error_page(label: str, version: dict, refresh_s: float) -> str:
    body = (
        _header_html("automl dashboard", str(label), live=True)
        + '<section class="error-box" id="dashboard-error"><h2>The study cannot be shown</h2>'
        f"<p>{html.escape(version['error'])}</p>"
        "<p>The dashboard reads the storage again every few seconds and shows the study "
        "as soon as it can be read.</p></section>"
    )
    live = {"version": version["version"], "refresh_s": refresh_s, "plotly_src": _plotly_path()}
    return _page(title="automl dashboard: study unavailable", body=body, figures={}, live=live)


# ---------------------------------------------------------------------------
# HTTP

_CSP_BASE = ("default-src 'none'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
             "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'")


def _script_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


#: The page's own inline scripts (fixed texts): the only inline code a served page may run,
#: so a script that found its way into the page's data would be refused by the browser.
_SCRIPT_SRC = " ".join(["'self'", *(_script_hash(js) for js in (_ERRORS_JS, _RENDER_JS, _LIVE_JS))])


def _content_security_policy(content_type: str) -> str:
    """The policy of a response: an HTML page may run its own inline scripts (by hash)
    and scripts served by the dashboard itself (plotly.js), nothing else; other
    responses nothing. Plotly draws with inline styles, hence ``style-src
    'unsafe-inline'`` (styles run no code); its images are ``data:`` and ``blob:`` URLs.
    """
    if not content_type.startswith("text/html"):
        return "default-src 'none'; frame-ancestors 'none'"
    return f"{_CSP_BASE}; script-src {_SCRIPT_SRC}"


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "automl-dashboard"
    sys_version = ""

    def setup(self):
        self.timeout = self.server.request_timeout  # each read of the request times out
        super().setup()

    def do_GET(self):
        self._respond(head=False)

    def do_HEAD(self):
        self._respond(head=True)

    def _method_not_allowed(self):
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"The dashboard is read-only: only GET and HEAD are allowed.\n",
            "text/plain; charset=utf-8",
            extra={"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = (
        _method_not_allowed
    )

    def _respond(self, *, head: bool):
        if len(self.headers.get_all("Host") or ()) > 1:
            self._send(
                HTTPStatus.BAD_REQUEST,
                b"Several Host headers: a request names one host.\n",
                "text/plain; charset=utf-8",
                head=head,
            )
            return
        if not self._host_allowed():
            self._send(
                HTTPStatus.MISDIRECTED_REQUEST,
                b"Unexpected Host header: the dashboard answers on its loopback address only.\n",
                "text/plain; charset=utf-8",
                head=head,
            )
            return
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            status, text, _ = self.server.watcher.page(self.server.refresh_s)
            self._send(status, text.encode("utf-8"), "text/html; charset=utf-8", head=head)
        elif path == "/api/version":
            body = json.dumps(self.server.watcher.version()).encode("utf-8")
            self._send(HTTPStatus.OK, body, "application/json", head=head)
        elif path == _plotly_path():
            self._send(
                HTTPStatus.OK,
                self.server.plotly_js(),
                "text/javascript; charset=utf-8",
                head=head,
                cache="public, max-age=86400, immutable",
            )
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon", head=head)
        else:
            self._send(
                HTTPStatus.NOT_FOUND, b"Not found.\n", "text/plain; charset=utf-8", head=head
            )

    def _host_allowed(self) -> bool:
        """Refuse other Host names on a loopback server (DNS rebinding)."""
        if not self.server.is_loopback:
            return True
        host = self.headers.get("Host")
        if host is None:
            return True
        name = urlsplit(f"//{host}").hostname or ""
        return _is_loopback(name)

    def _send(self, status, body: bytes, content_type: str, *, head=False, cache="no-store",
              extra=None):  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", _content_security_policy(content_type))
        self.send_header("Referrer-Policy", "no-referrer")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head and body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the browser went away
                pass

    def log_message(self, format, *args):  # requests are not logged; errors show on the page
        pass
