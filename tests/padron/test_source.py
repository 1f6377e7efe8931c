"""The padrón tables and the embedded source: migration 0002 matches the models; look-ups by
document *and* date of birth; households of current registrations only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, inspect

from contract.identity import parse_document
from hub.db import Database, alembic_config
from hub.models import Base
from hub.padron import models
from hub.padron.source import EmbeddedSource

PADRON_TABLES = {table for table in Base.metadata.tables if table.startswith("padron_")}


def _tables(diff: Any) -> set[str]:
    """The tables an autogenerate difference is about."""
    found: set[str] = set()
    for part in diff if isinstance(diff, list) else [diff]:
        for item in part:
            if isinstance(item, str):
                found.add(item)
            elif isinstance(item, Table):
                found.add(item.name)
            elif isinstance(getattr(item, "table", None), Table):
                found.add(item.table.name)
    return found


def test_migration_0002_creates_exactly_the_padron_models(database: Database) -> None:
    assert len(PADRON_TABLES) == 7
    assert models.PadronCertificate.__tablename__ in PADRON_TABLES
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [
            d for d in compare_metadata(context, Base.metadata) if _tables(d) & PADRON_TABLES
        ]
    assert differences == []


def _downgrade(database: Database, revision: str) -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_migration_0002_goes_down_and_up_again(database_url: str) -> None:
    database = Database(database_url)
    try:
        database.upgrade("0002")
        assert set(inspect(database.engine).get_table_names()) >= PADRON_TABLES
        _downgrade(database, "0001")
        assert database.current_revision() == "0001"
        assert not PADRON_TABLES & set(inspect(database.engine).get_table_names())
        database.upgrade("0002")
        assert database.current_revision() == "0002"
    finally:
        database.dispose()


def test_a_person_is_found_only_with_their_date_of_birth(residents: Database) -> None:
    source = EmbeddedSource(residents)
    ana = source.lookup(parse_document("99990001P"), date(1984, 3, 14))
    assert ana is not None and ana.registration is not None
    assert ana.full_name == "Ana Prueba Ejemplo"
    assert ana.initials == "A. P. E."
    assert ana.email == "ana.prueba@example.org"
    assert ana.registration.reference == "DEMO-BCN-0001"
    assert ana.registration.address.lines() == (
        "Carrer de la Demostració, 1, 2n 1a",
        "08030 Barcelona",
    )
    assert ana.registration.registered_on == date(2016, 9, 1)
    assert source.lookup(parse_document("99990001P"), date(1984, 3, 15)) is None
    assert source.lookup(parse_document("12345678Z"), date(1984, 3, 14)) is None


def test_someone_who_moved_away_has_no_current_registration(residents: Database) -> None:
    joan = EmbeddedSource(residents).lookup(parse_document("99990006J"), date(1950, 2, 10))
    assert joan is not None
    assert joan.registration is None


def test_a_household_lists_who_lives_there_now_in_order(residents: Database) -> None:
    source = EmbeddedSource(residents)
    home = source.household("DEMO-BCN-0001")
    assert home is not None
    assert [person.given_names for person in home.residents] == ["Ana", "Jordi", "Pau"]
    passage = source.household("DEMO-BCN-0002")
    assert passage is not None
    assert [person.given_names for person in passage.residents] == ["Lucía"]  # not Joan
    assert source.household("NO-SUCH-ADDRESS") is None


def test_people_never_show_their_data_when_printed(residents: Database) -> None:
    ana = EmbeddedSource(residents).lookup(parse_document("99990001P"), date(1984, 3, 14))
    assert ana is not None
    shown = repr(ana) + repr(ana.registration) + repr(parse_document("99990001P"))
    assert "99990001" not in shown and "Ana" not in shown and "Demostració" not in shown
