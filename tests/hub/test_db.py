"""The database: URLs, migrations that match the models, SQLite's settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select
from sqlalchemy.exc import OperationalError

from hub.db import Database, DatabaseError, alembic_config, normalise_url
from hub.models import LogHead, all_tables

T = TypeVar("T")


def test_postgresql_urls_mean_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.db").drivername == "sqlite"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_other_databases_are_refused(url: str) -> None:
    with pytest.raises(DatabaseError, match="Expected"):
        normalise_url(url)


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, all_tables()) == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    assert database.current_revision() == head


def test_upgrade_twice_changes_nothing(database: Database) -> None:
    database.upgrade()
    with database.session() as session:
        heads = session.scalars(select(LogHead)).all()
    assert [(head.id, head.seq, head.hash) for head in heads] == [(1, 0, "0" * 64)]
    assert "log_entries" in inspect(database.engine).get_table_names()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/sub/dir/hub.db")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        database.dispose()


def in_thread(work: Callable[[], T]) -> T:
    """What ``work`` returns (or raises) when run in a new thread of its own."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if failure:
        raise failure[0]
    return outcome[0]


def read_in_another_thread(engine: Engine) -> list[int] | None:
    """Write a row in one thread; what another thread reads back (None: no such table)."""

    def write() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO probe VALUES (42)")

    def read() -> list[int] | None:
        try:
            with engine.connect() as connection:
                return list(connection.exec_driver_sql("SELECT x FROM probe").scalars())
        except OperationalError:
            return None

    in_thread(write)
    return in_thread(read)


def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    # SQLite's default pool for ":memory:" gives each thread its own connection, hence its own
    # empty database: the check below tells the two apart.
    naive = create_engine("sqlite://", connect_args={"check_same_thread": False})
    try:
        assert read_in_another_thread(naive) is None
    finally:
        naive.dispose()

    database = Database("sqlite://")
    try:
        assert read_in_another_thread(database.engine) == [42]
        in_thread(database.upgrade)

        def first_log_head() -> tuple[int, int] | None:
            with database.session() as session:
                head = session.get(LogHead, 1)
                return None if head is None else (head.id, head.seq)

        assert in_thread(first_log_head) == (1, 0)
    finally:
        database.dispose()
