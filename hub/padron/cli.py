"""``cabina padron import FILE.csv`` and ``cabina padron demo-residents``.

Like :mod:`hub.cli`, this imports the hub's libraries only inside its commands.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cabina.cli import CommandError
from cabina.config import SettingsError, load_settings
from hub.cli import needs_hub
from hub.settings import HubSettings

if TYPE_CHECKING:
    from hub.db import Database
    from hub.padron.importer import ImportReport


def _database(args: argparse.Namespace) -> Database:
    from hub.db import Database, DatabaseError

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # Alembic narrates every migration at INFO; a person running a command wants the result.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = load_settings(HubSettings, args.config, {"data_dir": args.data_dir})
        database = Database.from_settings(settings)
        database.upgrade()
    except (SettingsError, DatabaseError) as exc:
        raise CommandError(str(exc)) from exc
    return database


def _summary(report: ImportReport) -> str:
    changes = ", ".join(
        f"{verb} {counts['residents']} residents and {counts['registrations']} registrations"
        for verb, counts in (
            ("added", report.added),
            ("updated", report.updated),
            ("removed", report.removed),
        )
    )
    return (
        f"padrón: {report.residents} residents at {report.addresses} addresses "
        f"from {report.rows} rows; {changes if report.changed else 'nothing changed'}"
    )


def _import(args: argparse.Namespace) -> int:
    from hub.padron.importer import ImportRefused, import_file

    path: Path = args.file
    if not path.is_file():
        raise CommandError(f"Expected a CSV file, but {path} does not exist")
    database = _database(args)
    try:
        report = import_file(database, path, today=date.today())
    except ImportRefused as exc:
        for line, problem in exc.problems:
            print(f"{path}:{line}: {problem}")
        if exc.total > len(exc.problems):
            print(f"… and {exc.total - len(exc.problems)} more")
        raise CommandError(f"{exc}; nothing was imported") from exc
    finally:
        database.dispose()
    print(_summary(report))
    return 0


def _demo_residents(args: argparse.Namespace) -> int:
    from hub.padron.demo_residents import DEMO_COLLECTIVE, DEMO_NIE, seed_demo_residents

    database = _database(args)
    try:
        report = seed_demo_residents(database, today=date.today())
    finally:
        database.dispose()
    print(_summary(report))
    print("try the cabin with (document, date of birth):")
    for document, born in (DEMO_COLLECTIVE, DEMO_NIE):
        print(f"  {document}  {born}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``cabina padron``."""
    padron = subparsers.add_parser("padron", help="the embedded padrón (municipal register)")
    actions = padron.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = actions.add_parser(
        "import", help="replace the embedded padrón with a CSV export (docs/padron.md)"
    )
    load.add_argument("file", type=Path, metavar="FILE.csv")
    demo = actions.add_parser("demo-residents", help="fill the padrón with fictitious residents")
    for parser in (load, demo):
        parser.add_argument("--config", type=Path, metavar="FILE", help="a TOML settings file")
        parser.add_argument("--data-dir", type=Path, metavar="DIR", help="the hub's data")
    load.set_defaults(func=needs_hub(_import))
    demo.set_defaults(func=needs_hub(_demo_residents))
