"""The database: URLs, migrations that match the models, SQLite's settings."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from hub.db import Database, DatabaseError, alembic_config, normalise_url
from hub.models import LogHead, all_tables


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


def test_in_memory_sqlite_is_one_database_for_every_thread() -> None:
    database = Database("sqlite://")
    try:
        database.upgrade()
        with database.session() as session:
            assert session.get(LogHead, 1) is not None
    finally:
        database.dispose()
