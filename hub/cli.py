"""The hub's commands: ``cabina hub``, ``cabina user add``, ``cabina db``, ``cabina audit``.

``cabina`` builds its parser on a cabin too, where the hub's libraries (FastAPI, SQLAlchemy,
uvicorn …) are not installed: this module imports them only inside the commands, and a
command run without them says which install it needs (:func:`needs_hub`).
"""

from __future__ import annotations

import argparse
import functools
import getpass
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cabina.cli import CommandError
from cabina.config import SettingsError, load_settings
from contract.clock import utc_now
from hub.roles import Role
from hub.settings import HubSettings

if TYPE_CHECKING:
    from hub.db import Database

#: The libraries a hub command needs that a cabin's install does not have.
HUB_LIBRARIES = frozenset(
    {"fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "redis", "uvicorn", "argon2"}
)

Command = Callable[[argparse.Namespace], int]


def needs_hub(command: Command) -> Command:
    """``command``, answering a missing hub library with the install that brings it."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ModuleNotFoundError as exc:
            name = (exc.name or "").partition(".")[0]
            if name not in HUB_LIBRARIES:
                raise
            raise CommandError(f"{name} is not installed here: pip install 'cabina[hub]'") from exc

    return run


def _settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        default=os.environ.get("CABINA_CONFIG"),
        help="a TOML settings file (default: $CABINA_CONFIG)",
    )
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the hub keeps its data")


def _settings(args: argparse.Namespace, **overrides: Any) -> HubSettings:
    try:
        return load_settings(HubSettings, args.config, {"data_dir": args.data_dir, **overrides})
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc


def _database(settings: HubSettings, *, upgrade: bool) -> Database:
    from hub.db import Database, DatabaseError

    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # Alembic narrates every migration at INFO; a person running a command wants the result.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        database = Database.from_settings(settings)
        sqlite_file = database.url.database if database.dialect == "sqlite" else None
        if not upgrade and sqlite_file and not Path(sqlite_file).is_file():
            raise CommandError(f"Expected a hub database at {sqlite_file}, but there is none")
        if upgrade:
            database.upgrade()
        elif database.current_revision() is None:
            raise CommandError(f"{database!r} has no hub tables yet; run 'cabina db upgrade' first")
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc
    return database


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _run_hub(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app
    from hub.server import uvicorn_config

    settings = _settings(args, host=args.host, port=args.port)
    uvicorn.Server(uvicorn_config(create_app(settings), settings)).run()
    return 0


def _read_password(args: argparse.Namespace) -> str:
    from hub.security import check_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("Expected the same password twice, but they differ")
    try:
        check_password(password)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return password


def _user_add(args: argparse.Namespace) -> int:
    from hub.attention_log import AttentionLog
    from hub.routes.users import create_user
    from hub.security import Passwords

    username = args.username.lower()
    settings = _settings(args)
    password = _read_password(args)
    database = _database(settings, upgrade=True)
    try:
        user = create_user(
            AttentionLog(database),
            username=username,
            display_name=args.name or username,
            password_hash=Passwords().hash(password),
            role=Role(args.role),
            now=utc_now(),
            actor="hub",
            languages=_csv(args.languages),
            services=_csv(args.services),
            max_calls=args.max_calls,
        )
    finally:
        database.dispose()
    if user is None:
        raise CommandError(f"Expected a new username, but {username!r} exists")
    print(f"user {user.username} created with id {user.id} and role {user.role.value}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    database = _database(_settings(args), upgrade=True)
    print(f"database at revision {database.current_revision()}")
    database.dispose()
    return 0


def _db_seed_demo(args: argparse.Namespace) -> int:
    from hub.attention_log import AttentionLog
    from hub.demo_data import seed_demo
    from hub.security import Passwords

    database = _database(_settings(args), upgrade=True)
    try:
        seed = seed_demo(AttentionLog(database), Passwords(), now=utc_now(), appointments=True)
    finally:
        database.dispose()
    print(f"demo site {seed.site_id}, cabin {seed.cabin_id}, cabin token: {seed.cabin_token}")
    for account in seed.accounts:
        print(f"  {account.role.value:<11} {account.username:<11} password: {account.password}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from hub.attention_log import AttentionLog

    database = _database(_settings(args), upgrade=False)
    try:
        report = AttentionLog(database).verify()
    finally:
        database.dispose()
    if report.ok:
        print(f"ok: {report.entries_checked} entries")
        return 0
    event = report.first_bad_event_id or "missing"
    print(f"broken at seq {report.first_bad_seq} (event {event}): {report.reason}")
    print(f"the {report.entries_checked} entries before it are intact")
    return 1


def register(subparsers: Any) -> None:
    """Add the hub's commands to ``cabina``."""
    hub = subparsers.add_parser("hub", help="run the hub (HTTP API, WebSockets, console)")
    _settings_options(hub)
    hub.add_argument("--host", help="address to listen on")
    hub.add_argument("--port", type=int, help="port to listen on")
    hub.set_defaults(func=needs_hub(_run_hub), log_level=logging.INFO)

    user = subparsers.add_parser("user", help="manage staff accounts")
    user_actions = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = user_actions.add_parser("add", help="create a staff account")
    _settings_options(add)
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--name", help="the name shown to colleagues (default: the username)")
    add.add_argument("--languages", default="", help="languages served, e.g. es,ca")
    add.add_argument("--services", default="", help="services served, e.g. padron,general")
    add.add_argument("--max-calls", type=int, default=1, help="calls at once (default 1)")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=needs_hub(_user_add))

    db = subparsers.add_parser("db", help="the hub's database")
    db_actions = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = db_actions.add_parser("upgrade", help="create or migrate the tables")
    _settings_options(upgrade)
    upgrade.set_defaults(func=needs_hub(_db_upgrade))
    seed = db_actions.add_parser("seed-demo", help="add the demo office, staff and cabin")
    _settings_options(seed)
    seed.set_defaults(func=needs_hub(_db_seed_demo))

    audit = subparsers.add_parser("audit", help="the attention and audit log")
    audit_actions = audit.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = audit_actions.add_parser("verify", help="check the log's hash chain")
    _settings_options(verify)
    verify.set_defaults(func=needs_hub(_audit_verify))
