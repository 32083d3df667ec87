"""A throwaway PostgreSQL server for tests: initdb in a temporary directory, a free port.

:class:`PostgresServer` finds the server binaries (``initdb``, ``pg_ctl``:
``$PG_BIN``, ``/usr/lib/postgresql/*/bin`` or the ``PATH``), creates a cluster
in a fresh temporary directory whose superuser ``postgres`` has a password
(``scram-sha-256`` on TCP, so password handling is tested for real), starts it
on a free localhost port with its unix socket in the same directory, and
removes everything on :meth:`stop`. initdb refuses to run as root: then the
server commands run as the ``postgres`` user (``runuser -u postgres --``,
created by Debian's ``postgresql`` package), which owns the directory. A
watchdog process stops the server and removes the directory if the test
process is killed before :meth:`stop`.

Used by the session fixture ``postgres`` of ``tests/search/conftest.py``;
``python tests/search/postgres_server.py`` starts one and prints its URL
until Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "s3cret-Pw"
USER = "postgres"


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """One database of a :class:`PostgresServer`: ``url(password=True)``."""

    def __init__(self, server: PostgresServer, name: str):
        self.server, self.name = server, name
        self.password = PASSWORD

    def url(self, *, password: bool = True, scheme: str = "postgresql") -> str:
        return self.server.url(self.name, password=password, scheme=scheme)


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory; :meth:`start`, :meth:`url`, :meth:`stop`."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = Path(bin_dir)
        self.root: Path | None = None
        self.port: int | None = None
        self.started = False
        self._as_user: list[str] = []
        self._watchdog: subprocess.Popen | None = None

    # -- running commands ------------------------------------------------------
    def _run(self, *args, check=True, env=None) -> subprocess.CompletedProcess:
        cmd = [*self._as_user, str(self.bin_dir / args[0]), *map(str, args[1:])]
        full_env = {**os.environ, "LC_ALL": "C", **(env or {})}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=120)
        if check and proc.returncode != 0:
            log = self.root / "server.log" if self.root else None
            tail = log.read_text()[-2000:] if log and log.is_file() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                               f"{proc.stderr.strip() or proc.stdout.strip()}\n{tail}")
        return proc

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="automl-pg-"))
        try:
            if os.geteuid() == 0:
                owner = pwd.getpwnam(USER)  # KeyError: no postgres user to run the server as
                self._as_user = ["runuser", "-u", USER, "--"]
                os.chown(self.root, owner.pw_uid, owner.pw_gid)
            pwfile = self.root / "pwfile"
            pwfile.write_text(PASSWORD + "\n")
            if self._as_user:
                os.chown(pwfile, owner.pw_uid, owner.pw_gid)
            self._run("initdb", "-D", self.root / "data", "-U", USER, "--pwfile", pwfile,
                      "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                      "--no-sync")
            for attempt in range(5):
                self.port = _free_port()
                options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                           "-c fsync=off -c synchronous_commit=off -c max_connections=100")
                proc = self._run("pg_ctl", "-D", self.root / "data", "-o", options,
                                 "-l", self.root / "server.log", "-w", "-t", "60", "start",
                                 check=attempt == 4)
                if proc.returncode == 0:
                    break
            self.started = True
            self._watchdog = self._start_watchdog()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_watchdog(self) -> subprocess.Popen:
        """A process that stops the server and removes its directory if this process dies
        without :meth:`stop` (pytest killed by a timeout or SIGKILL)."""
        stop = [*self._as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"),
                "-m", "immediate", "-w", "stop"]
        code = (
            "import os, shutil, subprocess, sys, time\n"
            "parent, root, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]\n"
            "while os.getppid() == parent:\n"
            "    time.sleep(1)\n"
            "subprocess.run(stop, capture_output=True)\n"
            "shutil.rmtree(root, ignore_errors=True)\n"
        )
        return subprocess.Popen([sys.executable, "-c", code, str(os.getpid()), str(self.root),
                                 *stop], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def create_database(self, name: str) -> Database:
        """Create database ``name`` (through the unix socket)."""
        self._run("createdb", "-h", self.root, "-p", self.port, "-U", USER, name)
        return Database(self, name)

    def url(self, database: str = "postgres", *, password: bool = True, scheme="postgresql"):
        """``postgresql://postgres[:PASSWORD]@127.0.0.1:PORT/database``."""
        credentials = f"{USER}:{PASSWORD}" if password else USER
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server (immediately) and remove its directory; safe to call twice."""
        if self.root is None:
            return
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self.started:
            self._run("pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop",
                      check=False)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl) found")
    with PostgresServer(bin_dir) as server:
        print(server.create_database("automl").url(), flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
