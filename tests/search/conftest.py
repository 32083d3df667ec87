"""Fixtures of the search tests: a real PostgreSQL server for the database-storage tests."""

import itertools

import pytest

from tests.search.postgres_server import PostgresServer, find_bin_dir

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server (stopped and removed at the end of the session)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                    "`postgresql` package (.ci/run does) or set $PG_BIN")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres(postgres_server):
    """A fresh database on the session's server (``.url()``, ``.url(password=False)``)."""
    return postgres_server.create_database(f"automl_{next(_names)}")
