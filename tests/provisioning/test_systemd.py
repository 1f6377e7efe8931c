"""The systemd units: ``systemd-analyze verify`` accepts them, and they say what they must."""

from __future__ import annotations

import argparse
import importlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.cabin_config import CREDENTIAL_FILE

UNITS = Path(__file__).parents[2] / "systemd"
NAMES = ("cabina-hub.service", "cabina-kiosk.service", "cabina-firstboot.service")
INSTALLED_CABINA = "/opt/cabina/venv/bin/cabina"
#: The kiosk's data directory in a cabin, where enrolment leaves the credential.
KIOSK_DATA = "/var/lib/cabina/kiosk"


def directives(name: str) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit, by key (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key, []).append(value)
    return found


def one(name: str, key: str) -> str:
    values = directives(name)[key]
    assert len(values) == 1, f"{name}: {key} appears {len(values)} times"
    return values[0]


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def runnable_copy(name: str, folder: Path, extra: str = "") -> Path:
    """The unit with its programs pointed at ones installed here: this venv's ``cabina``, and
    ``true`` standing in for the ``cage`` compositor, which only the cabin image has."""
    text = (UNITS / name).read_text()
    text = text.replace(INSTALLED_CABINA, str(Path(sys.executable).with_name("cabina")))
    text = text.replace("/usr/bin/cage", shutil.which("true") or "/bin/true")
    copy = folder / name
    copy.write_text(text + extra)
    return copy


@pytest.mark.parametrize("name", NAMES)
def test_systemd_analyze_verify_accepts_the_unit(name: str, tmp_path: Path) -> None:
    result = verify(runnable_copy(name, tmp_path))
    assert (result.returncode, result.stderr) == (0, "")


def test_verify_catches_a_mistake(tmp_path: Path) -> None:
    broken = runnable_copy("cabina-hub.service", tmp_path, "[Service]\nWatchdogSek=30\n")
    result = verify(broken)
    assert "Unknown key 'WatchdogSek'" in result.stderr


def test_the_hub_is_a_hardened_notify_service() -> None:
    unit = "cabina-hub.service"
    assert one(unit, "Type") == "notify" and int(one(unit, "WatchdogSec")) > 0
    assert one(unit, "ProtectSystem") == "strict"
    assert one(unit, "NoNewPrivileges") == one(unit, "PrivateTmp") == "yes"
    assert one(unit, "ProtectHome") == "yes"
    assert one(unit, "CapabilityBoundingSet") == ""
    assert one(unit, "ReadWritePaths") == "/var/lib/" + one(unit, "StateDirectory")
    assert one(unit, "Environment") == "CABINA_DATA_DIR=/var/lib/cabina-hub"
    assert one(unit, "User") != "root"


def test_the_kiosk_restarts_always_under_a_compositor_as_its_own_user() -> None:
    unit = "cabina-kiosk.service"
    assert one(unit, "Restart") == "always" and int(one(unit, "WatchdogSec")) > 0
    assert (one(unit, "Type"), one(unit, "NotifyAccess")) == ("notify", "all")
    assert one(unit, "ExecStart").startswith("/usr/bin/cage ")
    assert one(unit, "User") == "cabina-kiosk" and one(unit, "PAMName") == "login"
    assert one(unit, "ConditionPathExists") == f"{KIOSK_DATA}/{CREDENTIAL_FILE}"
    assert (
        one(unit, "ProtectSystem") == "strict" and one(unit, "ReadWritePaths") == "/var/lib/cabina"
    )


def test_first_boot_runs_only_until_the_cabin_is_enrolled() -> None:
    unit = "cabina-firstboot.service"
    assert one(unit, "ConditionPathExists") == f"!{KIOSK_DATA}/{CREDENTIAL_FILE}"
    assert "cabina-kiosk.service" in directives(unit)["Before"]
    assert " provision enrol " in one(unit, "ExecStart")
    assert any("start cabina-kiosk.service" in line for line in directives(unit)["ExecStartPost"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cabina")
    sub = parser.add_subparsers(dest="command")
    for module in ("hub.cli", "kiosk.cli", "provisioning.cli"):
        importlib.import_module(module).register(sub)
    return parser


@pytest.mark.parametrize("name", NAMES)
def test_every_cabina_command_in_the_units_is_one_cabina_accepts(name: str) -> None:
    commands = [
        line
        for key, values in directives(name).items()
        if key.startswith("Exec")
        for line in values
        if INSTALLED_CABINA in line
    ]
    assert commands
    parser = _parser()
    for line in commands:
        words = shlex.split(line.lstrip("-+!"))
        args = parser.parse_args(words[words.index(INSTALLED_CABINA) + 1 :])
        assert callable(args.func), line
