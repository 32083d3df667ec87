"""Database storages: schemes, drivers, passwords (masked everywhere), on a real PostgreSQL server.

The server is the session fixture ``postgres_server`` (``conftest.py``); its
superuser authenticates with scram-sha-256, so every connection here really
needs the password.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from sqlalchemy.engine import make_url

from automl.search import StorageError, describe_storage, load_spec, open_storage, run_study
from automl.search._database import database_url, driver_url, mask_url, with_password
from automl.search._space import SpecError
from tests.search.runner_helpers import tiny

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, env=None, pre="", timeout=300):
    """``python -m automl ARGS`` in a subprocess; ``pre`` runs first (e.g. hiding a module)."""
    code = f"{pre}\nimport sys\nfrom automl.cli import main\nsys.exit(main(sys.argv[1:]))"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=ROOT)


def write_study(tmp_path, **keys) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(tiny(tmp_path, **keys)))
    return path


# ---------------------------------------------------------------------------
# URLs without a server


def test_mask_url_hides_every_password_form():
    assert mask_url("postgresql://me:secret@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert mask_url("mysql+pymysql://me:p@ss@db/x") == "mysql+pymysql://me:***@db/x"
    assert mask_url("postgresql://me@db/x?password=secret&sslmode=require") == (
        "postgresql://me@db/x?password=***&sslmode=require")
    assert mask_url("postgresql://db/x") == "postgresql://db/x"
    assert describe_storage("postgres://u:pw@h/d") == "postgres://u:***@h/d"


def test_postgres_urls_pick_the_installed_driver():
    pytest.importorskip("psycopg")
    assert driver_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert driver_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert driver_url("sqlite:///x.db") == "sqlite:///x.db"


def test_password_from_the_environment_and_the_mask(monkeypatch):
    monkeypatch.setenv("AUTOML_TEST_PW", "p@ss word")
    # A URL without a password, or with the recorded mask, takes it from the variable.
    for url in ("postgresql://u@h:1/d", "postgresql://u:***@h:1/d"):
        filled = with_password(url, "AUTOML_TEST_PW")
        assert make_url(filled).password == "p@ss word" and make_url(filled).port == 1
        assert mask_url(filled) == "postgresql://u:***@h:1/d"
    # A password in the URL wins; without a variable the mask is dropped (libpq: PGPASSWORD).
    assert with_password("postgresql://u:mine@h/d", "AUTOML_TEST_PW") == "postgresql://u:mine@h/d"
    assert with_password("postgresql://u:***@h/d", None) == "postgresql://u@h/d"
    assert with_password("postgresql://u:***@h/d", "AUTOML_TEST_UNSET") == "postgresql://u@h/d"
    assert with_password("sqlite:///x.db", "AUTOML_TEST_PW") == "sqlite:///x.db"


def test_unknown_scheme_is_one_line_listing_the_accepted_ones(tmp_path):
    with pytest.raises(StorageError, match=r"unknown storage scheme 'postgresx://'.*"
                                           r"postgresql://, postgres://.*mysql://"):
        database_url("postgresx://u:pw@h/d")
    with pytest.raises(SpecError, match="key 'storage': unknown storage scheme") as err:
        load_spec(tiny(tmp_path, storage="postgresx://u:pw@h/d"))
    assert "pw" not in str(err.value).replace("postgresx", "")
    study = write_study(tmp_path)
    proc = cli("run", study, "--storage", "postgresx://me:topsecret@localhost/db")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "unknown storage scheme 'postgresx://'" in lines[0]
    assert "postgresql://" in lines[0] and "mysql://" in lines[0]
    assert "topsecret" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("url, extra, commands", [
    ("postgresql://me:topsecret@127.0.0.1:1/db", "postgres", ("run", "worker")),
    ("postgres://me:topsecret@127.0.0.1:1/db", "postgres", ("worker",)),
    ("mysql://me:topsecret@127.0.0.1:1/db", "mysql", ("run",)),
])
def test_missing_driver_names_the_extra(tmp_path, url, extra, commands):
    # The driver modules really fail to import in the subprocess.
    hide = ("import sys\n"
            "for m in ('psycopg', 'psycopg2', 'pymysql', 'MySQLdb'): sys.modules[m] = None")
    study = write_study(tmp_path)
    given = {"run": ["run", study, "--storage", url], "worker": ["worker", "--storage", url]}
    for command in (given[c] for c in commands):
        proc = cli(*command, pre=hide)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"pip install 'automl[{extra}]'" in lines[0]
        assert "topsecret" not in proc.stderr + proc.stdout


# ---------------------------------------------------------------------------
# A real server


def test_password_from_url_env_var_and_pgpassword(postgres, monkeypatch):
    pytest.importorskip("psycopg")
    with pytest.raises(StorageError, match="no password supplied.*PGPASSWORD"):
        open_storage(postgres.url(password=False))
    with pytest.raises(StorageError, match="password authentication failed") as err:
        open_storage(postgres.url().replace(postgres.password, "wrong-pw"))
    assert "wrong-pw" not in str(err.value)
    optuna.create_study(study_name="a", storage=open_storage(postgres.url()))
    monkeypatch.setenv("AUTOML_TEST_DB_PW", postgres.password)
    storage = open_storage(postgres.url(password=False), password_env="AUTOML_TEST_DB_PW")
    assert optuna.get_all_study_names(storage) == ["a"]
    monkeypatch.delenv("AUTOML_TEST_DB_PW")
    monkeypatch.setenv("PGPASSWORD", postgres.password)  # libpq reads it
    storage = open_storage(postgres.url(password=False))
    assert optuna.get_all_study_names(storage) == ["a"]
    # the recorded (masked) URL works the same way
    assert optuna.get_all_study_names(open_storage(describe_storage(postgres.url()))) == ["a"]


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()
                     and p.suffix in (".json", ".csv", ".html", ".log", ".txt", ""))


def test_run_on_postgres_masks_the_password_everywhere(postgres, tmp_path):
    pytest.importorskip("psycopg")
    url = postgres.url()
    study = write_study(tmp_path, n_trials=2, epochs=2)
    proc = cli("run", study, "--storage", url, "--no-report")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    masked = describe_storage(url)
    assert postgres.password not in proc.stdout + proc.stderr
    assert postgres.password not in _all_text(out)
    assert json.loads((out / "run.json").read_text())["storage"] == masked
    assert json.loads((out / "run.json").read_text())["spec"]["storage"] == masked
    assert json.loads((out / "summary.json").read_text())["storage"] == masked
    study_obj = optuna.load_study(study_name="tiny", storage=open_storage(url))
    assert postgres.password not in json.dumps(study_obj.user_attrs)
    assert len(study_obj.trials) == 2
    # resume from the directory: the recorded URL is masked, the password comes from PGPASSWORD
    proc = cli("resume", out, "--n-trials", "3", "--no-report", "-q",
               env={"PGPASSWORD": postgres.password})
    assert proc.returncode == 0, proc.stderr
    assert len(study_obj.trials) == 3
    # ... and without any password: one line saying where to give it
    proc = cli("resume", out, "--n-trials", "4", "--no-report", "-q", env={"PGPASSWORD": ""})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--storage" in lines[0] and "PGPASSWORD" in lines[0], proc.stderr


def test_storage_password_env_key(postgres, tmp_path, monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setenv("AUTOML_TEST_DB_PW", postgres.password)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    spec = tiny(tmp_path, n_trials=1, epochs=1, storage=postgres.url(password=False),
                storage_password_env="AUTOML_TEST_DB_PW")
    result = run_study(spec, verbose=0)
    assert result.summary["storage"] == describe_storage(postgres.url())
    out = tmp_path / "out"
    run = json.loads((out / "run.json").read_text())
    assert run["storage_password_env"] == "AUTOML_TEST_DB_PW"
    assert postgres.password not in _all_text(out)
    # resume and the report read the password from the same variable
    proc = cli("resume", out, "--n-trials", "2", "-q", env={"AUTOML_TEST_DB_PW": postgres.password})
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.html").is_file() and "could not be written" not in proc.stderr
    # a worker names the variable itself (it must open the storage to read the study)
    proc = cli("worker", "--storage", postgres.url(password=False), "--storage-password-env",
               "AUTOML_TEST_DB_PW", env={"AUTOML_TEST_DB_PW": postgres.password})
    assert proc.returncode == 0, proc.stderr
    assert "Worker stopped (the study's budget is used up): 0 trials here" in proc.stdout
    assert postgres.password not in proc.stdout + proc.stderr
    with pytest.raises(SpecError, match="storage_password_env"):
        load_spec(tiny(tmp_path, storage_password_env="NOT A NAME"))
