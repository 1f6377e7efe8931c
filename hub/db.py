"""The hub's database: SQLite for a town, PostgreSQL for a city, one :class:`Database` each.

SQLite runs in WAL mode with foreign keys on and a busy timeout; SQLAlchemy emits ``BEGIN``
itself so that every statement of a transaction, reads included, is inside it, and writers
that must not interleave ask for ``BEGIN IMMEDIATE``. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from hub.settings import HubSettings

logger = logging.getLogger(__name__)

#: How long a SQLite connection waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0
# Any constant shared by every replica: migrations take this advisory lock on PostgreSQL so
# that replicas starting together do not race to create the same tables.
_MIGRATION_LOCK_KEY = 0x0CAB1A
_BEGIN_OPTION = "cabina_sqlite_begin"


class DatabaseError(Exception):
    """The database cannot be opened, migrated or written; the message says which."""


def normalise_url(url: str) -> URL:
    """Parse a database URL; ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"Expected a database URL, but got {url!r}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"Expected a sqlite:// or postgresql:// URL, but got {parsed.get_backend_name()!r}"
        )
    return parsed


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


class Database:
    """An engine and its sessions for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        #: ``"sqlite"`` or ``"postgresql"``.
        self.dialect: str = self.url.get_backend_name()
        #: Serialises log writers within this process; SQLite has a single writer anyway.
        self.write_lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_S,
            }
            database = self.url.database
            if not database or database == ":memory:":
                # One shared connection, or each thread would see its own empty database.
                kwargs["poolclass"] = StaticPool
            else:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _sqlite_hooks(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: HubSettings) -> Database:
        """The database the settings name (by default ``hub.db`` in the data directory)."""
        return cls(settings.effective_database_url)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    def session(self) -> Session:
        """A new session; the caller commits and closes it (``with db.session() as s``)."""
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """A transaction that no other writer interleaves with: for the hash-chained log.

        On SQLite it holds this process's write lock and starts with ``BEGIN IMMEDIATE`` (so a
        second process, such as the command line, waits instead of failing); on PostgreSQL the
        caller locks a row with ``SELECT … FOR UPDATE``.
        """
        if self.dialect != "sqlite":
            with self.transaction() as session:
                yield session
            return
        with self.write_lock, self._sessions() as session, session.begin():
            session.connection(execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision``."""
        config = alembic_config()
        try:
            with self.engine.connect() as connection:
                if self.dialect == "sqlite":
                    connection = connection.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                with connection.begin():
                    if self.dialect == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                        )
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Could not migrate {self!r}: {exc}") from exc
        logger.debug("database %r is at revision %s", self, self.current_revision())

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or ``None`` before the first migration."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in this package."""
    config = Config()
    location = resources.files("hub") / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    return config
