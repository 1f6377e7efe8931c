"""``cabina padron import``: every row checked, bad lines named, all or nothing, idempotent."""

from __future__ import annotations

import argparse
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db import Database
from hub.padron import cli
from hub.padron.demo_residents import demo_csv, seed_demo_residents
from hub.padron.importer import COLUMNS, ImportRefused, import_file, read_rows
from hub.padron.models import PadronAddress, PadronRegistration, PadronResident

TODAY = date(2026, 3, 2)
HEADER = ",".join(COLUMNS)


def row(**values: str) -> str:
    """A line in the import layout: the demo's first resident unless told otherwise."""
    base = {
        "document": "99990001P", "given_names": "Ana", "first_surname": "Prueba",
        "second_surname": "Ejemplo", "birth_date": "1984-03-14", "address_id": "A-1",
        "street": "Carrer de la Demostració", "postcode": "08030", "municipality": "Barcelona",
        "registered_on": "2016-09-01", "email": "", "phone": "", "number": "1", "floor": "2n",
        "door": "1a", "ended_on": "",
    }  # fmt: skip
    base |= values
    return ",".join(f'"{base[column]}"' for column in COLUMNS)


def counts(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (PadronResident, PadronAddress, PadronRegistration)
        )


def write(tmp_path: Path, *lines: str, name: str = "padron.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_the_demo_file_imports_and_importing_again_changes_nothing(database: Database) -> None:
    first = seed_demo_residents(database, today=TODAY)
    assert (first.residents, first.addresses, first.rows) == (8, 4, 8)
    assert first.added == {"residents": 8, "registrations": 8}
    assert counts(database) == (8, 4, 8)
    again = seed_demo_residents(database, today=TODAY)
    assert not again.changed
    assert counts(database) == (8, 4, 8)


def test_a_newer_file_updates_adds_and_removes(database: Database, tmp_path: Path) -> None:
    import_file(database, write(tmp_path, row(), row(document="99990002D", given_names="Jordi")),
                today=TODAY)  # fmt: skip
    report = import_file(
        database,
        write(
            tmp_path,
            row(email="ana@example.org"),
            row(document="99990004B", given_names="Miren", address_id="B-7", street="Adibide"),
            name="newer.csv",
        ),
        today=TODAY,
    )
    assert report.added == {"residents": 1, "registrations": 1}
    assert report.updated == {"residents": 1, "registrations": 0}
    assert report.removed == {"residents": 1, "registrations": 1}
    assert counts(database) == (2, 2, 2)
    with database.session() as session:
        ana = session.scalars(
            select(PadronResident).where(PadronResident.document == "99990001P")
        ).one()
        assert ana.email == "ana@example.org"


def test_a_registration_that_ended_is_updated_in_place(database: Database, tmp_path: Path) -> None:
    import_file(database, write(tmp_path, row()), today=TODAY)
    report = import_file(database, write(tmp_path, row(ended_on="2025-12-31")), today=TODAY)
    assert report.updated["registrations"] == 1
    with database.session() as session:
        ended = session.scalar(select(PadronRegistration.ended_on))
    assert ended == date(2025, 12, 31)


def test_bad_rows_are_named_by_line_and_nothing_is_imported(
    database: Database, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        row(),
        row(document="99990002A", given_names="Jordi"),
        row(document="99990003X", birth_date="2025-02-29"),
        row(document="99990004B", postcode="8030"),
        row(document="99990005N", email="not-an-address"),
        row(document="Y9990002N", registered_on="1970-01-01"),
        row(document="99990006J", given_names=""),
        row(document="X9990001C", ended_on="2010-01-01"),
    )
    with pytest.raises(ImportRefused) as caught:
        import_file(database, path, today=TODAY)
    problems = dict(caught.value.problems)
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9]
    assert problems[3].startswith("document: Expected the control letter")
    assert problems[4] == "birth_date: Expected a day that exists, but this one does not " + (
        "(day is out of range for month)"
    )
    assert problems[5] == "postcode: Expected 5 digits, but got another form"
    assert problems[6].startswith("email: Expected an address like name@example.org")
    assert problems[7].startswith("registered_on: Expected a date between birth and today")
    assert problems[8] == "given_names: Expected a value, but it is empty"
    assert problems[9].startswith("ended_on: Expected a date between registered_on and today")
    assert "99990002" not in str(caught.value.problems)  # never the personal data
    assert counts(database) == (0, 0, 0)


def test_rows_must_agree_with_each_other() -> None:
    lines = [
        HEADER,
        row(),
        row(given_names="Anna", registered_on="2017-01-01", ended_on="2020-01-01"),
        row(document="99990002D", street="Another street"),
        row(),
        row(address_id="A-2", registered_on="2020-01-02"),
    ]
    with pytest.raises(ImportRefused) as caught:
        read_rows(io.StringIO("\n".join(lines)), today=TODAY)
    problems = caught.value.problems
    assert (3, "Expected the same person's data as line 2, but it differs") in problems
    assert (4, "Expected the same address as line 2, but it differs") in problems
    assert (5, "Expected one line per registration, but line 2 is it") in problems
    assert (6, "Expected one current registration per person, but line 2 is current too") in (
        problems
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("document,given_names", "but got missing first_surname, birth_date"),
        (HEADER + ",shoe_size", "but got unknown shoe_size"),
    ],
)
def test_the_header_is_checked(header: str, message: str) -> None:
    with pytest.raises(ImportRefused) as caught:
        read_rows(io.StringIO(header + "\n"), today=TODAY)
    assert caught.value.problems[0][0] == 1
    assert message in caught.value.problems[0][1]


def test_a_line_with_too_many_fields_is_refused() -> None:
    with pytest.raises(ImportRefused) as caught:
        read_rows(io.StringIO(f"{HEADER}\n{row()},extra\n"), today=TODAY)
    assert caught.value.problems == [(2, "Expected as many fields as the header has, but got more")]


def test_a_file_that_is_not_utf8_is_refused(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + row(given_names="Àna") + "\n").encode("latin-1"))
    with pytest.raises(ImportRefused) as caught:
        import_file(database, path, today=TODAY)
    assert caught.value.problems == [(2, "Expected UTF-8 text, but got other bytes")]


def test_a_byte_order_mark_is_accepted(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + demo_csv().encode())
    assert import_file(database, path, today=TODAY).residents == 8


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="cabina")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def test_the_command_imports_and_reports(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CABINA_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CABINA_DATABASE_URL", sqlite_url)
    path = tmp_path / "padron.csv"
    path.write_text(demo_csv(), encoding="utf-8")
    assert run_cli("padron", "import", str(path)) == 0
    assert "8 residents at 4 addresses from 8 rows; added 8 residents" in capsys.readouterr().out
    assert run_cli("padron", "import", str(path)) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_the_command_lists_bad_lines_and_fails(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cabina.cli import CommandError

    monkeypatch.setenv("CABINA_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CABINA_DATABASE_URL", sqlite_url)
    path = write(tmp_path, row(), row(document="1234"))
    with pytest.raises(CommandError, match="1 lines have problems; nothing was imported"):
        run_cli("padron", "import", str(path))
    assert f"{path}:3: document: Expected 9 characters" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Expected a CSV file, but"):
        run_cli("padron", "import", str(tmp_path / "missing.csv"))


def test_the_demo_command_seeds_the_demo_residents(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CABINA_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CABINA_DATABASE_URL", sqlite_url)
    assert run_cli("padron", "demo-residents") == 0
    out = capsys.readouterr().out
    assert "8 residents at 4 addresses" in out
    assert "99990001P  1984-03-14" in out
