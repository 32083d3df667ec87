"""Live dashboard server: read-only, loopback by default, follows a study as trials finish."""

import http.client
import json
import shutil
import threading
from contextlib import contextmanager

import plotly
import pytest

from automl.reports._server import make_server
from tests.reports.test_dashboard_support import (
    N_TRIALS,
    add_trial,
    fast_figures,
    finish,
    load,
    make_study_dir,
)


@contextmanager
def running(source, **kwargs):
    server = make_server(source, port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def request(server, method="GET", path="/", headers=None):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def version(server):
    status, headers, body = request(server, path="/api/version")
    assert status == 200 and headers["Content-Type"] == "application/json"
    return json.loads(body)


@pytest.fixture
def study(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    return make_study_dir(tmp_path / "run", finished=False)


def test_serves_the_dashboard_on_loopback(study):
    with running(study, refresh_s=2.5) as server:
        assert server.server_address[0] == "127.0.0.1"
        assert server.url.startswith("http://127.0.0.1:") and server.server_address[1] > 0
        status, headers, body = request(server)
        text = body.decode()
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store"
        assert 'data-panel="Trial values"' in text and 'id="trials-table"' in text
        assert 'data-live="true"' in text and 'data-refresh-ms="2500"' in text
        src = f"/plotly-{plotly.__version__}.min.js"
        assert f'<script src="{src}"></script>' in text
        status, headers, body = request(server, path=src)
        assert status == 200 and body.startswith(b"/**") and b"plotly.js" in body[:200]
        assert "immutable" in headers["Cache-Control"]
        assert request(server, path="/nope")[0] == 404


def test_version_changes_when_a_trial_finishes(study):
    with running(study) as server:
        before = version(server)
        assert (
            before["error"] is None
            and before["finished"] == N_TRIALS
            and before["trials"] == N_TRIALS
        )
        assert version(server)["version"] == before["version"]  # stable while nothing happens
        page_before = request(server)[2].decode()
        add_trial(study)  # as a worker process would
        after = version(server)
        assert after["finished"] == N_TRIALS + 1 and after["version"] != before["version"]
        page_after = request(server)[2].decode()
        assert page_after.count("<tr>") == page_before.count("<tr>") + 1
        assert f'data-version="{after["version"]}"' in page_after


def test_follows_a_restarted_run_and_its_end(study):
    with running(study) as server:
        first = version(server)
        shutil.rmtree(study)  # the runner replaces the journal at the start of a run
        make_study_dir(study, n_complete=2, finished=False)
        restarted = version(server)
        assert restarted["error"] is None and restarted["finished"] == 5
        assert restarted["version"] != first["version"]
        finish(study, load(study))  # summary.json and test predictions at the end
        ended = version(server)
        assert ended["finished"] == 5 and ended["version"] != restarted["version"]
        assert "Test accuracy" in request(server)[2].decode()


def test_read_only_methods(study):
    with running(study) as server:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, headers, body = request(server, method, "/api/version")
            assert status == 405 and headers["Allow"] == "GET, HEAD"
            assert b"read-only" in body
        status, headers, body = request(server, "HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
        assert version(server)["finished"] == N_TRIALS  # nothing changed


def test_refuses_foreign_host_names(study):
    with running(study) as server:
        status, _, _ = request(server, headers={"Host": "attacker.example:8050"})
        assert status == 421
        port = server.server_address[1]
        assert request(server, headers={"Host": f"localhost:{port}"})[0] == 200


def test_missing_storage_waits_then_shows_the_study(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    out = tmp_path / "later"
    with running(out) as server:
        status, _, body = request(server)
        text = body.decode()
        assert status == 200 and 'id="dashboard-error"' in text
        assert "does not exist" in text and str(out) in text
        assert 'data-live="true"' in text  # keeps polling
        waiting = version(server)
        assert waiting["error"] and waiting["finished"] == 0
        make_study_dir(out, finished=False)
        ready = version(server)
        assert ready["error"] is None and ready["version"] != waiting["version"]
        status, _, body = request(server)
        assert status == 200 and 'data-panel="Trial values"' in body.decode()


def test_unreadable_storage_is_an_error_page(tmp_path):
    journal = tmp_path / "broken.journal"
    journal.write_text('{"op_code": 0, "worker_id": "w"}\n')  # a study without a name
    with running(journal) as server:
        status, _, body = request(server)
        text = body.decode()
        assert status == 500 and 'id="dashboard-error"' in text
        assert f"Cannot read the study storage {journal}" in text
        assert version(server)["error"]
        assert request(server)[0] == 500  # still serving
    assert journal.read_text() == '{"op_code": 0, "worker_id": "w"}\n'


def test_missing_database_is_not_created(tmp_path):
    db = tmp_path / "study.db"
    with running(f"sqlite:///{db}") as server:
        status, _, body = request(server)
        assert status == 200 and "No SQLite database at" in body.decode()
    assert not db.exists()


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match="'port' parameter"):
        make_server(tmp_path, port=70000)
    with pytest.raises(ValueError, match="'refresh_s' parameter"):
        make_server(tmp_path, port=0, refresh_s=0)
    with running(tmp_path) as server, pytest.raises(OSError):
        make_server(tmp_path, port=server.server_address[1])
