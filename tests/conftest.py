"""Fixtures every test package may use: a throwaway PostgreSQL 15 cluster, and a guard that
fails any test whose code logged personal data, in this process or in the log files of the
processes it started (:mod:`support.pii_guard`, :mod:`support.process_logs`)."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from support.pii_guard import (
    OWN_LOGGERS,
    FileLeak,
    PersonalDataGuard,
    log_files_under,
    masked,
    personal_data_in,
)

from kiosk.devtools.testing import LOG_DIR_ENV as SCENARIO_LOG_DIR

if TYPE_CHECKING:
    from hub.db import Database

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Kivy, once imported in this process, would copy every log record (other libraries' too) to a
# file of its own under ~/.kivy/logs, out of every test's directory; a kiosk never keeps one.
os.environ.setdefault("KIVY_NO_FILELOG", "1")


class PostgresServer:
    """A PostgreSQL cluster on a loopback port, run as the ``postgres`` user."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self._names = itertools.count(1)

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            capture_output=True,
            cwd=self.root,
        )

    def start(self) -> None:
        """initdb (which refuses to run as root) and start the server."""
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.root / "server.log"), "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data))

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database``."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self) -> str:
        """A new, empty database; returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever is still connected to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster for the whole test session, removed at the end."""
    if not (PG_BIN / "initdb").is_file():
        pytest.fail(f"PostgreSQL 15 is not installed: expected {PG_BIN / 'initdb'}")
    # Not under pytest's tmp_path: its directories are private to root, and the server runs
    # as postgres.
    root = Path(tempfile.mkdtemp(prefix="cabina-pg-"))
    shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(root, _free_port())
    try:
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new database of its own for one test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def _personal_data_guard() -> Iterator[PersonalDataGuard]:
    """One guard on the root logger for the session; Cabina's loggers log at every level."""
    guard = PersonalDataGuard()
    root = logging.getLogger()
    root.addHandler(guard)
    levels = {name: logging.getLogger(name).level for name in OWN_LOGGERS}
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield guard
    root.removeHandler(guard)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


class LogFilesRead:
    """How far the guard has read each log file, so that each is read on from there: a leak
    is reported once, after the test it was written in, and not again by every later test
    whose processes append to the same file; and the session's directory for the logs of
    processes no test's ``tmp_path`` holds (the kiosk's UI scenarios)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Per file: the bytes read (whole lines only) and how many lines they were.
        self.read_to: dict[Path, tuple[int, int]] = {}

    def new_leaks(self, paths: list[Path], *, to_end: bool = False) -> list[FileLeak]:
        """The leaks in what ``paths`` gained since last read, which counts as read now. A
        line still being written is left for the next read, unless ``to_end`` (the session's
        last look, when no process writes any more)."""
        return [leak for path in dict.fromkeys(paths) for leak in self._new_leaks_in(path, to_end)]

    def _new_leaks_in(self, path: Path, to_end: bool) -> list[FileLeak]:
        offset, lines = self.read_to.get(path, (0, 0))
        try:
            with path.open("rb") as fh:
                if os.fstat(fh.fileno()).st_size < offset:  # cut short or replaced: anew
                    offset, lines = 0, 0
                fh.seek(offset)
                data = fh.read()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return []
        if not to_end:
            data = data[: data.rfind(b"\n") + 1]
        text = data.decode("utf-8", errors="replace")
        leaks = []
        for number, line in enumerate(text.splitlines(), start=lines + 1):
            kinds = personal_data_in(line)
            if kinds:
                leaks.append(FileLeak(path, number, tuple(kinds), masked(line)[:300]))
        self.read_to[path] = (offset + len(data), lines + data.count(b"\n"))
        return leaks


def _file_report(leaks: list[FileLeak]) -> str:
    lines = [f"{leak.path}:{leak.line} {'/'.join(leak.kinds)}: {leak.text}" for leak in leaks]
    return "Personal data in the log files of the test's processes:\n" + "\n".join(lines)


@pytest.fixture(scope="session")
def _log_files_read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogFilesRead]:
    """At the session's end, read every log file under its temporary directory not yet read:
    those of module- and session-scoped processes, and what was written after a test ended."""
    read = LogFilesRead(tmp_path_factory.mktemp("processes"))
    os.environ[SCENARIO_LOG_DIR] = str(read.directory)
    yield read
    os.environ.pop(SCENARIO_LOG_DIR, None)
    leaks = read.new_leaks(log_files_under(tmp_path_factory.getbasetemp()), to_end=True)
    if leaks:
        pytest.fail(_file_report(leaks), pytrace=False)


@pytest.fixture(autouse=True)
def _no_personal_data_in_logs(
    request: pytest.FixtureRequest,
    _personal_data_guard: PersonalDataGuard,
    _log_files_read: LogFilesRead,
) -> Iterator[None]:
    """Fail a test whose code logged a DNI/NIE, an e-mail address, a mobile number or a seeded
    resident's name or street: in this process, or in a ``*.log`` under its ``tmp_path``."""
    _personal_data_guard.leaks.clear()
    yield
    leaks = list(_personal_data_guard.leaks)
    _personal_data_guard.leaks.clear()
    if leaks:
        lines = [
            f"{leak.logger} {leak.level} {'/'.join(leak.kinds)}: {leak.text}" for leak in leaks
        ]
        pytest.fail("Personal data in the logs:\n" + "\n".join(lines), pytrace=False)
    # The test's own processes and fixtures have ended by now: their files are complete.
    files = log_files_under(_log_files_read.directory)
    # pytest empties an item's fixtures (``funcargs = None``) once it has torn them down.
    tmp_path = (getattr(request.node, "funcargs", None) or {}).get("tmp_path")
    if isinstance(tmp_path, Path):
        files += log_files_under(tmp_path)
    file_leaks = _log_files_read.new_leaks(files)
    if file_leaks:
        pytest.fail(_file_report(file_leaks), pytrace=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh hub database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty hub database."""
    from hub.db import Database  # the cabin's tests never need the hub's stack

    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()
