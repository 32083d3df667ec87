"""`automl report | dashboard | compare`: handlers, exit codes, one-line errors."""

import argparse
import socket

import pytest

from automl.reports import _cli
from automl.reports._cli import add_subcommands
from tests.reports.test_dashboard_support import fast_figures, make_study_dir


def parse(argv):
    parser = argparse.ArgumentParser(prog="automl")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def run(argv):
    args = parse(argv)
    return args.handler(args)


@pytest.fixture
def study(tmp_path, monkeypatch):
    fast_figures(monkeypatch)
    return make_study_dir(tmp_path / "run")


def test_report(study, tmp_path, capsys):
    assert run(["report", str(study)]) == 0
    assert (study / "report.html").is_file()
    assert f"{study / 'report.html'}" in capsys.readouterr().out
    assert run(["report", str(study), "--output", str(tmp_path / "x" / "r.html")]) == 0
    assert (tmp_path / "x" / "r.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "no such directory"),
        (lambda p: p, "not a study output directory (no study.journal)"),
    ],
)
def test_report_errors(tmp_path, capsys, make, message):
    source = make(tmp_path)
    assert run(["report", str(source)]) == 2
    err = capsys.readouterr().err
    assert err == f"automl: error: {source}: {message}\n"


def test_compare(study, tmp_path, capsys):
    other = make_study_dir(tmp_path / "other", sampler="random")
    out = tmp_path / "cmp.html"
    assert run(["compare", str(study), str(other), "-o", str(out)]) == 0
    assert out.is_file() and "Comparison of 2 studies" in capsys.readouterr().out
    assert run(["compare", str(study), str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"automl: error: {tmp_path / 'nope'}: no such directory\n"


def test_dashboard_arguments():
    args = parse(["dashboard", "runs/x"])
    assert (args.port, args.host, args.refresh, args.study) == (8050, "127.0.0.1", 5.0, None)
    assert args.handler is _cli.dashboard_command
    args = parse(["dashboard", "sqlite:///s.db", "--port", "0", "--host", "::1", "--study", "s"])
    assert (args.port, args.host, args.study) == (0, "::1", "s")
    with pytest.raises(SystemExit):
        parse(["dashboard", "x", "--port", "70000"])
    with pytest.raises(SystemExit):
        parse(["dashboard", "x", "--refresh", "0"])


def test_dashboard_serves_until_interrupted(study, monkeypatch, capsys):
    served = {}

    def fake_serve_forever(self, poll_interval=0.5):
        served["url"] = self.url
        served["bound"] = self.server_address[0]
        raise KeyboardInterrupt

    from automl.reports._server import DashboardServer

    monkeypatch.setattr(DashboardServer, "serve_forever", fake_serve_forever)
    assert run(["dashboard", str(study), "--port", "0"]) == 0
    out = capsys.readouterr()
    assert served["bound"] == "127.0.0.1"
    assert f"at {served['url']}" in out.out and "read-only" in out.out


def test_dashboard_port_in_use(study, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run(["dashboard", str(study), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"automl: error: port {port} is in use; choose another with --port N (0: any free)\n"
    )
