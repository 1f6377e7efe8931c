"""An enrolled cabin's start: the hub's configuration over the local settings, pinned TLS to
its hub (and to no other), and a start from the kept configuration when the hub is away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from support.enrolled_cabin import (
    Certificate,
    TlsHub,
    enrol_cabin,
    make_certificate,
)

from contract.cabin import CabinSettings
from contract.events import EventKind
from kiosk.effects.hub_client import HubClient
from kiosk.effects.outbox import Outbox, OutboxSender, UploadError
from kiosk.enrolled import CabinStart, prepare_start, with_hub_settings
from kiosk.flow.commands import RecordEvent
from kiosk.settings import KioskSettings
from provisioning.cabin_config import CabinFiles
from provisioning.credential import CabinCredential, CredentialError, write_credential

pytestmark = pytest.mark.slow


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    """The hub's self-signed certificate."""
    return make_certificate(tmp_path / "tls", "hub")


@pytest.fixture
def hub(tmp_path: Path, certificate: Certificate) -> Iterator[TlsHub]:
    """The hub over TLS, with the demo data."""
    served = TlsHub(tmp_path / "hub", certificate).start()
    yield served
    served.stop()


@pytest.fixture
def kiosk_dir(tmp_path: Path, hub: TlsHub) -> Path:
    """The data directory of a cabin enrolled to ``hub``."""
    folder = tmp_path / "kiosk"
    enrol_cabin(hub, folder, "dmi:START-1", name="Cabina Orfila")
    return folder


def local_settings(data_dir: Path) -> KioskSettings:
    """The cabin's own settings file: a hub URL of its own, which enrolment overrides."""
    return KioskSettings(hub_url="http://192.0.2.1:8000", data_dir=data_dir, goodbye_s=5)


def set_at_hub(hub: TlsHub, cabin_id: int, values: dict[str, Any]) -> None:
    with hub.client(hub.technician_token()) as client:
        answer = client.put(f"/api/fleet/cabins/{cabin_id}/settings", json=values)
    assert answer.status_code == 200, answer.text


async def connect(start: CabinStart) -> HubClient:
    """A hub client as the kiosk builds it, run until it is online or refused."""
    client = HubClient(
        ws_url=start.settings.ws_url,
        token=start.credential.token,
        on_message=lambda _message: None,
        hub_timeout_s=5,
        ssl=start.ssl,
    )
    task = asyncio.ensure_future(client.run())
    try:
        for _ in range(400):
            if client.online or client.certificate_refused:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return client


async def test_an_enrolled_cabin_starts_with_its_hub_configuration_over_pinned_tls(
    hub: TlsHub, kiosk_dir: Path
) -> None:
    cabin_id = CabinFiles(kiosk_dir).load()[1].cabin_id
    set_at_hub(hub, cabin_id, {"languages": ["ca", "es"], "default_language": "ca"})

    start = await prepare_start(local_settings(kiosk_dir))

    assert start.fresh and start.endpoint is not None
    assert start.settings.hub_url == hub.url and start.settings.ws_url.startswith("wss://")
    assert (start.settings.languages, start.settings.default_language) == (["ca", "es"], "ca")
    assert start.settings.goodbye_s == 5  # what the hub does not set stays the cabin's
    assert start.cabin_name == "Cabina Orfila"
    assert start.site is not None and start.site.opening_hours == {"always": True}
    client = await connect(start)
    assert client.connections == 1 and not client.certificate_refused


async def test_a_hub_presenting_another_certificate_is_refused_before_the_credential_goes(
    hub: TlsHub, kiosk_dir: Path, tmp_path: Path
) -> None:
    # The cabin pinned another certificate: the hub at this address is, to it, an impostor.
    other = make_certificate(tmp_path / "tls", "impostor")
    files = CabinFiles(kiosk_dir)
    kept = json.loads(files.hub.read_text(encoding="utf-8"))
    files.hub.write_text(json.dumps({**kept, "certificate": other.pem}), encoding="utf-8")

    start = await prepare_start(local_settings(kiosk_dir))

    assert not start.fresh and start.config is not None  # the kept copy, not the impostor's
    client = await connect(start)
    assert client.certificate_refused and client.connections == 0 and not client.online
    outbox = Outbox(kiosk_dir / "outbox.sqlite3", actor=start.credential.actor)
    try:
        outbox.add(
            RecordEvent(
                "6a1f3e2c-0000-4000-8000-000000000001",
                EventKind.ATTENTION_STARTED,
                "6a1f3e2c-0000-4000-8000-0000000000aa",
                datetime.now(UTC),
                {},
            )
        )
        sender = OutboxSender(
            outbox, hub_url=start.settings.hub_url, token=start.credential.token, ssl=start.ssl
        )
        with pytest.raises(UploadError):
            await sender.send_pending()
        assert outbox.count() == 1  # kept for the real hub
    finally:
        outbox.close()


async def test_the_outbox_uploads_through_the_pinned_certificate(
    hub: TlsHub, kiosk_dir: Path
) -> None:
    start = await prepare_start(local_settings(kiosk_dir))
    outbox = Outbox(kiosk_dir / "outbox.sqlite3", actor=start.credential.actor)
    try:
        outbox.add(
            RecordEvent(
                "6a1f3e2c-0000-4000-8000-000000000002",
                EventKind.ATTENTION_STARTED,
                "6a1f3e2c-0000-4000-8000-0000000000bb",
                datetime.now(UTC),
                {},
            )
        )
        sender = OutboxSender(
            outbox, hub_url=start.settings.hub_url, token=start.credential.token, ssl=start.ssl
        )
        assert await sender.send_pending() == 1 and outbox.count() == 0
    finally:
        outbox.close()


async def test_without_the_hub_the_cabin_starts_from_its_kept_configuration(
    hub: TlsHub, kiosk_dir: Path
) -> None:
    cabin_id = CabinFiles(kiosk_dir).load()[1].cabin_id
    set_at_hub(hub, cabin_id, {"services": ["padron"], "inactivity_s": 45})
    assert (await prepare_start(local_settings(kiosk_dir))).fresh  # keeps this configuration
    hub.stop()

    start = await prepare_start(local_settings(kiosk_dir))

    assert not start.fresh and start.config is not None
    assert start.settings.services == ["padron"] and start.settings.inactivity_s == 45
    assert start.settings.hub_url == hub.url and start.cabin_name == "Cabina Orfila"


async def test_a_revoked_cabin_still_starts_from_its_kept_configuration(
    hub: TlsHub, kiosk_dir: Path
) -> None:
    cabin_id = CabinFiles(kiosk_dir).load()[1].cabin_id
    with hub.client(hub.technician_token()) as http:
        assert http.post(f"/api/fleet/cabins/{cabin_id}/revoke").status_code in (200, 204)

    start = await prepare_start(local_settings(kiosk_dir))

    assert not start.fresh and start.config is not None and start.endpoint is not None
    client = await connect_briefly(start)
    assert not client.online and client.connections == 0


async def connect_briefly(start: CabinStart) -> HubClient:
    """A hub client given a few seconds: a refused credential never brings it online."""
    client = HubClient(
        ws_url=start.settings.ws_url,
        token=start.credential.token,
        on_message=lambda _message: None,
        hub_timeout_s=2,
        ssl=start.ssl,
    )
    task = asyncio.ensure_future(client.run())
    await asyncio.sleep(3)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return client


async def test_a_cabin_that_is_not_enrolled_uses_its_own_settings(tmp_path: Path) -> None:
    settings = local_settings(tmp_path / "demo")
    with pytest.raises(CredentialError, match="enrol the cabin"):
        await prepare_start(settings)
    write_credential(settings.credential_path, CabinCredential(7, "demo-token"))

    start = await prepare_start(settings)

    assert start.endpoint is None and start.ssl is None and start.config is None
    assert start.settings == settings and start.credential.cabin_id == 7


async def test_a_damaged_hub_file_is_a_clear_error(kiosk_dir: Path) -> None:
    CabinFiles(kiosk_dir).hub.write_text("{not json", encoding="utf-8")
    with pytest.raises(CredentialError, match="hub's address"):
        await prepare_start(local_settings(kiosk_dir))


def test_settings_the_hub_may_not_set_are_refused_by_the_contract() -> None:
    with pytest.raises(ValidationError) as caught:
        CabinSettings.model_validate(
            {"hub_url": "https://evil.example", "technician_pin_hash": "x", "warning_s": 9}
        )
    refused = {error["loc"][0] for error in caught.value.errors()}
    assert refused == {"hub_url", "technician_pin_hash"}
    with pytest.raises(ValidationError, match="inactivity_s"):
        CabinSettings.model_validate({"inactivity_s": -3})


def test_every_setting_the_hub_may_set_is_one_the_kiosk_applies(tmp_path: Path) -> None:
    assert set(CabinSettings.model_fields) <= set(KioskSettings.model_fields)
    settings = local_settings(tmp_path)
    pushed = CabinSettings(
        languages=["eu", "es"],
        default_language="eu",
        services=["padron"],
        complaint_service="padron",
        inactivity_s=31,
        warning_s=9,
        queue_inactivity_s=301,
        goodbye_s=4,
        long_wait_s=601,
        orientation="portrait",
        required_devices=["camera", "scanner"],
    )
    assert set(pushed.overrides()) == set(CabinSettings.model_fields)
    applied = with_hub_settings(settings, pushed)
    for name, value in pushed.overrides().items():
        assert getattr(applied, name) == value, name


def test_settings_that_do_not_fit_are_refused_whole_and_named_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = KioskSettings(data_dir=tmp_path, languages=["es", "ca"], default_language="ca")
    unfit = with_hub_settings(settings, CabinSettings(default_language="gl", warning_s=9))
    assert unfit == settings
    assert "refusing the hub's settings" in caplog.text and "default_language" in caplog.text
