"""The kiosk's settings and the cabin's credential file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cabina.config import SettingsError, load_settings
from kiosk.settings import KioskSettings
from provisioning.credential import (
    CabinCredential,
    CredentialError,
    read_credential,
    write_credential,
)


def test_defaults_and_derived_places(tmp_path: Path) -> None:
    settings = load_settings(KioskSettings, None, {"data_dir": tmp_path})
    assert settings.ws_url == "ws://127.0.0.1:8000/ws/cabin"
    assert settings.credential_path == tmp_path / "cabin-credential.json"
    assert settings.outbox_path == tmp_path / "outbox.sqlite3"
    assert settings.citizen_dir == tmp_path / "citizen"
    flow = settings.flow_config()
    assert flow.default_language == "es" and flow.idle_s == 60 and "ca@valencia" in flow.languages
    assert settings.hardware.camera is None


def test_a_toml_file_and_the_environment_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        'hub_url = "https://hub.example.cat/"\n'
        'languages = ["ca", "es"]\n'
        'default_language = "ca"\n'
        "inactivity_s = 45\n"
        "[hardware.camera]\n"
        'backend = "simulator"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CABINA_KIOSK_WARNING_S", "20")
    settings = load_settings(KioskSettings, config)
    assert settings.ws_url == "wss://hub.example.cat/ws/cabin"
    assert settings.warning_s == 20 and settings.inactivity_s == 45
    assert settings.hardware.camera is not None and settings.hardware.camera.backend == "simulator"
    assert settings.flow_config().languages == ("ca", "es")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"hub_url": "ftp://hub"}, "hub_url"),
        ({"languages": ["ca"], "default_language": "es"}, "default_language"),
        ({"languages": ["fr"]}, "languages"),
        ({"hub_timeout_s": 30}, "hub_timeout_s"),
        ({"inactivity_s": 0}, "inactivity_s"),
        ({"orientation": "diagonal"}, "orientation"),
        ({"hardware": {"camera": {"backend": "simulator", "fps": -1}}}, "hardware"),
    ],
)
def test_a_bad_setting_is_named(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(KioskSettings, None, overrides)


def test_the_technician_pin_is_checked_against_its_hash() -> None:
    hashed = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("2468")
    settings = load_settings(KioskSettings, None, {"technician_pin_hash": hashed})
    assert settings.verify_pin("2468") and not settings.verify_pin("1357")
    assert not load_settings(KioskSettings, None, {}).verify_pin("2468")
    broken = load_settings(KioskSettings, None, {"technician_pin_hash": "not-a-hash"})
    assert not broken.verify_pin("2468")


def test_the_credential_is_written_for_its_owner_only_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cabin-credential.json"
    write_credential(path, CabinCredential(3, "s3cret-token"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    credential = read_credential(path)
    assert credential == CabinCredential(3, "s3cret-token")
    assert credential.actor == "cabin:3"
    assert "s3cret" not in repr(credential)


def test_a_credential_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cabin-credential.json"
    write_credential(path, CabinCredential(3, "token"))
    os.chmod(path, 0o644)
    with pytest.raises(CredentialError, match=r"0600.*0644"):
        read_credential(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "JSON with cabin_id and token"),
        ('{"token": "x"}', "JSON with cabin_id and token"),
        ('{"cabin_id": 0, "token": "x"}', "positive cabin_id"),
        ('{"cabin_id": true, "token": "x"}', "positive cabin_id"),
        ('{"cabin_id": 2, "token": ""}', "Expected a token"),
    ],
)
def test_a_malformed_credential_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "cabin-credential.json"
    path.write_text(content, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(CredentialError, match=message):
        read_credential(path)


def test_a_missing_credential_says_to_enrol(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match="enrol the cabin"):
        read_credential(tmp_path / "nowhere.json")
