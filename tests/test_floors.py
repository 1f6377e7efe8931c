"""A cabin runs without the hub: the kiosk and the technician's tools load none of its libraries.

A cabin installs ``cabina[cabin]``, which has no FastAPI, SQLAlchemy, PostgreSQL driver, Redis
client or uvicorn. Each test runs the real ``cabina`` command in a child process in which those
imports fail (and are written down): the kiosk reaches its attract screen, the self-test runs,
and nothing even tried to import them. The same floors are checked statically by import-linter
in ``make check``; this proves it for the process that really runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import process_logs

from provisioning.credential import CabinCredential, write_credential

#: What a hub installs and a cabin does not.
HUB_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "redis", "uvicorn")

_CABIN_ONLY = """
import importlib.abc, sys

BLOCKED = {blocked!r}


class NotOnACabin(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            print("blocked import: " + name, file=sys.stderr, flush=True)
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotOnACabin())
from cabina.cli import main

sys.exit(main(sys.argv[1:]))
"""


def cabina_on_a_cabin(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``cabina ARGS`` in a process where the hub's libraries cannot be imported."""
    script = _CABIN_ONLY.format(blocked=HUB_LIBRARIES)
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_the_kiosk_reaches_its_attract_screen_without_the_hubs_libraries(tmp_path: Path) -> None:
    data_dir = tmp_path / "cabin"
    write_credential(data_dir / "cabin-credential.json", CabinCredential(1, "no-hub-here"))
    notify_path = tmp_path / "notify"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(notify_path))
    systemd.settimeout(0.5)
    kiosk = cabina_on_a_cabin(
        "kiosk",
        "--simulate",
        "--headless",
        "--data-dir",
        str(data_dir),
        cwd=tmp_path,
        # No hub answers on the discard port: the kiosk must start all the same.
        env={"CABINA_KIOSK_HUB_URL": "http://127.0.0.1:9", "NOTIFY_SOCKET": str(notify_path)},
    )
    # The simulated printers' helpers inherit NOTIFY_SOCKET and say a bare READY=1 of their own.
    attract = b"READY=1\nSTATUS=showing the attract screen"
    said: list[bytes] = []
    try:
        deadline = time.monotonic() + 120
        while attract not in said and time.monotonic() < deadline:
            if kiosk.poll() is not None:
                break
            try:
                said.append(systemd.recv(4096))
            except TimeoutError:
                continue
    finally:
        if kiosk.poll() is None:
            kiosk.send_signal(signal.SIGTERM)
        out, err = kiosk.communicate(timeout=60)
        systemd.close()
        process_logs.keep(process_logs.log_file(tmp_path / "processes", "kiosk"), out, err)
    assert "blocked import" not in err, err[-3000:]
    assert attract in said, (said, err[-3000:])


def test_the_technicians_self_test_runs_without_the_hubs_libraries(tmp_path: Path) -> None:
    selftest = cabina_on_a_cabin(
        "provision", "test", "--simulate", "--no-ticket", "--json", cwd=tmp_path, env={}
    )
    out, err = selftest.communicate(timeout=180)
    process_logs.keep(process_logs.log_file(tmp_path / "processes", "selftest"), out, err)
    assert "blocked import" not in err, err[-3000:]
    assert selftest.returncode == 0, err[-3000:]
    assert json.loads(out)["ok"] is True


def test_the_command_lists_every_subcommand_on_a_cabin(tmp_path: Path) -> None:
    helped = cabina_on_a_cabin("--help", cwd=tmp_path, env={})
    out, err = helped.communicate(timeout=60)
    process_logs.keep(process_logs.log_file(tmp_path / "processes", "help"), out, err)
    assert helped.returncode == 0, err[-3000:]
    assert "blocked import" not in err, err[-3000:]
    for command in ("demo", "hub", "kiosk", "provision", "hardware"):
        assert command in out
