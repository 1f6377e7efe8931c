"""``cabina demo``: a hub on SQLite with a demo office, its staff and a cabin, on this machine.

The data directory keeps the demo between runs (``demo-data/`` by default); the hub's secret
key is generated there on the first run, with permissions 0600.
"""

from __future__ import annotations

import argparse
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cabina.cli import CommandError
from cabina.config import SettingsError, load_settings

logger = logging.getLogger(__name__)


def _secret(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app
    from hub.attention_log import AttentionLog
    from hub.db import Database
    from hub.demo_data import seed_demo
    from hub.padron.demo_residents import seed_demo_residents
    from hub.security import Passwords
    from hub.server import uvicorn_config
    from hub.settings import HubSettings

    data_dir = Path(args.data_dir).resolve()
    try:
        settings = load_settings(
            HubSettings,
            None,
            {
                "data_dir": data_dir,
                "secret_key": _secret(data_dir),
                "host": args.host,
                "port": args.port,
                # The demo serves plain HTTP on this machine, so cookies cannot require HTTPS.
                "cookie_secure": False,
                "public_url": f"http://{args.host}:{args.port}",
            },
        )
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc

    database = Database.from_settings(settings)
    database.upgrade()
    seed = seed_demo(AttentionLog(database), Passwords(), now=datetime.now(UTC))
    seed_demo_residents(database, today=datetime.now(UTC).date())
    base = f"http://{args.host}:{args.port}"
    lines = [
        "",
        "Cabina demo",
        f"  hub:          {base}",
        f"  API docs:     {base}/docs",
        f"  console:      {base}/console/",
        f"  data:         {data_dir}",
        "",
        "  accounts (user / password, role):",
    ]
    lines += [
        f"    {a.username:<11} {a.password:<17} {a.role.value}"
        + (f"  ({', '.join(a.languages)}; {', '.join(a.services)})" if a.services else "")
        for a in seed.accounts
    ]
    lines += [
        "",
        f"  demo cabin {seed.cabin_id}: token {seed.cabin_token}",
        "",
        "Stop with Ctrl+C.",
        "",
    ]
    print("\n".join(lines), flush=True)
    app = create_app(settings, database=database)
    uvicorn.Server(uvicorn_config(app, settings)).run()
    database.dispose()
    return 0


def register(subparsers: Any) -> None:
    """Add ``cabina demo``."""
    demo = subparsers.add_parser(
        "demo", help="run a demo hub with a demo office, staff and cabin (SQLite)"
    )
    demo.add_argument("--data-dir", default="demo-data", help="where the demo keeps its data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=_run, log_level=logging.INFO)
