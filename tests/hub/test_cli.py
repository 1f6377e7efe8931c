"""The hub's commands, run as a person runs them: ``python -m cabina …`` in another directory."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from support import process_logs

from hub.db import Database, alembic_config
from hub.models import LogEntry, User

SECRET = "cli-test-secret-key-0123456789-abcdefghij"


def cabina(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINA_")}
    environment["CABINA_SECRET_KEY"] = SECRET
    environment.update(env or {})
    return process_logs.run(
        [sys.executable, "-m", "cabina", *args],
        log=process_logs.log_file(cwd.parent / "processes", "cabina"),
        input=stdin,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory far from the repository, so nothing is found by accident."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def test_db_upgrade_creates_the_database_in_the_data_dir(workdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = cabina("db", "upgrade", "--data-dir", str(data), cwd=workdir)
    assert done.returncode == 0, done.stderr
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert done.stdout == f"database at revision {head}\n"
    assert (data / "hub.db").is_file()


def test_user_add_takes_the_password_from_stdin(workdir: Path, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    add = ("user", "add", "Ana", "--role", "agent", "--name", "Ana Puig", "--languages", "es, ca",
           "--services", "padron", "--password-stdin", "--data-dir", data)  # fmt: skip
    done = cabina(*add, cwd=workdir, stdin="ana-password-1\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user ana created with id 1 and role agent\n"
    database = Database(f"sqlite:///{data}/hub.db")
    with database.session() as session:
        user = session.scalars(select(User)).one()
        assert (user.display_name, user.languages, user.services) == (
            "Ana Puig",
            ["es", "ca"],
            ["padron"],
        )
        assert user.password_hash.startswith("$argon2id$")
    database.dispose()
    again = cabina(*add, cwd=workdir, stdin="ana-password-1\n")
    assert again.returncode == 1
    assert again.stderr.endswith("cabina: Expected a new username, but 'ana' exists\n")


def test_user_add_refuses_a_short_password_and_an_unknown_role(
    workdir: Path, tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    short = cabina("user", "add", "bo", "--role", "agent", "--password-stdin", "--data-dir", data,
                   cwd=workdir, stdin="short\n")  # fmt: skip
    assert short.returncode == 1
    assert "Expected a password of 10 to 256 characters, but got 5" in short.stderr
    role = cabina("user", "add", "bo", "--role", "mayor", "--password-stdin", cwd=workdir)
    assert role.returncode == 2
    assert "invalid choice: 'mayor'" in role.stderr


def test_settings_errors_are_reported_plainly(workdir: Path, tmp_path: Path) -> None:
    done = cabina(
        "db",
        "upgrade",
        "--data-dir",
        str(tmp_path),
        cwd=workdir,
        env={"CABINA_SECRET_KEY": "short"},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("cabina: setting 'secret_key' (environment CABINA_SECRET_KEY)")
    assert not (tmp_path / "hub.db").exists()
    missing = cabina("db", "upgrade", "--config", str(tmp_path / "nope.toml"), cwd=workdir)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr


def test_audit_verify_needs_an_existing_database(workdir: Path, tmp_path: Path) -> None:
    done = cabina("audit", "verify", "--data-dir", str(tmp_path / "empty"), cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.startswith("cabina: Expected a hub database at ")


def test_audit_verify_exit_codes(workdir: Path, database_url: str) -> None:
    env = {"CABINA_DATABASE_URL": database_url}
    for name in ("ana", "bob", "carla"):
        added = cabina("user", "add", name, "--role", "agent", "--password-stdin", cwd=workdir,
                       stdin=f"{name}-password-1\n", env=env)  # fmt: skip
        assert added.returncode == 0, added.stderr
    good = cabina("audit", "verify", cwd=workdir, env=env)
    assert (good.returncode, good.stdout) == (0, "ok: 3 entries\n")

    database = Database(database_url)
    try:
        with database.transaction() as session:
            event_id = session.scalar(select(LogEntry.event_id).where(LogEntry.seq == 2))
            if database.dialect == "sqlite":
                session.execute(text("DROP TRIGGER log_entries_no_update"))
            else:
                session.execute(text("DROP TRIGGER log_entries_no_update ON log_entries"))
            session.execute(
                text("UPDATE log_entries SET payload = :payload WHERE seq = 2"),
                {"payload": '{"role":"admin","user_id":2}'},
            )
    finally:
        database.dispose()
    bad = cabina("audit", "verify", cwd=workdir, env=env)
    assert bad.returncode == 1
    assert re.match(
        rf"broken at seq 2 \(event {event_id}\): Expected the hash to match the entry's contents",
        bad.stdout,
    ), bad.stdout
    assert "the 1 entries before it are intact" in bad.stdout


def test_seed_demo_prints_the_demo_credentials(workdir: Path, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    first = cabina("db", "seed-demo", "--data-dir", data, cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "cabin token: demo-cabin-sant-andreu-1-not-a-secret" in first.stdout
    assert re.search(r"agent\s+agent1\s+password: agent1-demo", first.stdout)
    second = cabina("db", "seed-demo", "--data-dir", data, cwd=workdir)
    assert second.stdout == first.stdout
    assert cabina("audit", "verify", "--data-dir", data, cwd=workdir).stdout == "ok: 7 entries\n"


def test_cabina_hub_serves_until_interrupted(workdir: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINA_")}
    environment["CABINA_SECRET_KEY"] = SECRET
    command = [sys.executable, "-m", "cabina", "hub", "--data-dir", str(tmp_path / "data"),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    hub = subprocess.Popen(command, cwd=workdir, env=environment, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                assert hub.poll() is None, hub.communicate()[1]
                assert time.monotonic() < deadline, "the hub did not start"
                time.sleep(0.1)
        assert response.json()["info"]["title"] == "Cabina hub"
        assert (tmp_path / "data" / "hub.db").is_file()
    finally:
        hub.send_signal(signal.SIGINT)
        _, stderr = hub.communicate(timeout=30)
        process_logs.keep(process_logs.log_file(tmp_path / "processes", "hub"), stderr)
    # Shut down gracefully, then reported as interrupted, as cabina does for Ctrl-C.
    assert hub.returncode == 130, stderr
    assert "Traceback" not in stderr


#: Run in a fresh interpreter where the hub's libraries cannot be imported, as on a cabin.
WITHOUT_HUB_LIBRARIES = """
import importlib.abc
import sys

BLOCKED = {"fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "redis", "uvicorn"}


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Blocker())

import cabina.cli

cabina.cli.COMMAND_MODULES = ("hub.cli", "hub.padron.cli")
parser = cabina.cli.build_parser()
parser.parse_args(["user", "add", "ana", "--role", "agent"])
loaded = sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)
assert not loaded, loaded
sys.exit(cabina.cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "command",
    [
        ["hub", "--port", "0"],
        ["db", "upgrade"],
        ["audit", "verify"],
        ["padron", "demo-residents"],
    ],
)
def test_hub_commands_on_a_machine_without_the_hub_libraries_say_what_to_install(
    workdir: Path, tmp_path: Path, command: list[str]
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CABINA_")}
    environment["CABINA_SECRET_KEY"] = SECRET
    args = [*command, "--data-dir", str(tmp_path / "data")]
    done = process_logs.run(
        [sys.executable, "-c", WITHOUT_HUB_LIBRARIES, *args],
        log=process_logs.log_file(tmp_path / "processes", "cabina"),
        cwd=workdir,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert re.fullmatch(
        r"cabina: (fastapi|sqlalchemy|uvicorn|alembic) is not installed here: "
        r"pip install 'cabina\[hub\]'\n",
        done.stderr,
    ), done.stderr
    assert not (tmp_path / "data").exists()
