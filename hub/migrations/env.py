"""Alembic's entry point: runs migrations on the connection :meth:`hub.db.Database.upgrade` gives.

There is no ``alembic.ini``: the hub configures Alembic in code so that migrations run from the
installed package, whatever the working directory.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hub.models import all_tables


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=all_tables(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("Expected an online migration; Cabina does not write SQL scripts")
_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("Expected a connection from hub.db.Database.upgrade(), but got none")
_run(_connection)
