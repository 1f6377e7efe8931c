"""Appointment notices by SMS through the hub's configured gateway (a real HTTP server here):
queued only with a gateway, retried after the gateway's 503, and delivered exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from appointments.conftest import PUBLIC_URL, SECRET, Office, booking, citizen, madrid
from sqlalchemy import select
from support.clock import FakeClock
from support.sms_gateway import Answer, Gateway, running_gateway

from cabina.config import load_settings
from contract.appointments import BookedVia
from contract.events import EventKind
from hub.appointments.models import Notice, NoticeChannel, NoticeKind, NoticeStatus
from hub.appointments.notices import backoff
from hub.db import Database
from hub.services import build_services, sweep_appointments_once
from hub.settings import HubSettings

#: Thursday 5 March 2026, 10:00 in Madrid: its reminders are due on the days before.
THURSDAY = date(2026, 3, 5)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as serving:
        yield serving


def hub_settings(tmp_path: Path, **padron: object) -> HubSettings:
    values = {"data_dir": tmp_path, "secret_key": SECRET, "public_url": PUBLIC_URL}
    return load_settings(HubSettings, None, values | {"padron": padron})


def test_an_sms_notice_is_sent_once_through_the_gateway_after_its_503(
    database: Database, office: Office, clock: FakeClock, tmp_path: Path, gateway: Gateway
) -> None:
    settings = hub_settings(
        tmp_path, sms_sender="http", sms_url=gateway.url, sms_auth="header", sms_token="k-1"
    )
    services = build_services(settings, database=database, clock=clock)
    booked = services.appointments.book(
        booking(office.offer_id, madrid(THURSDAY, 10), citizen=citizen(email=None)),
        via=BookedVia.WEB,
        actor="hub",
    )
    gateway.answers.append(Answer(503, b'{"error": "try later"}'))
    sweep_appointments_once(services)
    [receipt] = _receipts(database)
    assert (receipt.status, receipt.last_error) == (NoticeStatus.PENDING, "sms_refused_503")
    sweep_appointments_once(services)  # not due again before its back-off
    assert len(gateway.received) == 1
    clock.advance(seconds=backoff(1).total_seconds())
    sweep_appointments_once(services)
    sweep_appointments_once(services)
    assert len(gateway.received) == 2
    [receipt] = _receipts(database)
    assert (receipt.status, receipt.attempts, receipt.last_error) == (NoticeStatus.SENT, 2, None)
    first, second = (json.loads(request.body) for request in gateway.received)
    assert first == second
    assert second["to"] == "+34612345678"
    assert second["text"].endswith(booked.token)
    assert gateway.received[1].headers["x-api-key"] == "k-1"
    notified = [
        entry
        for entry in services.attention_log.timeline(booked.attention_id)
        if entry.kind == EventKind.APPOINTMENT_NOTIFIED.value
    ]
    assert len(notified) == 1


def test_a_message_the_gateway_refuses_itself_is_given_up_at_once(
    database: Database, office: Office, clock: FakeClock, tmp_path: Path, gateway: Gateway
) -> None:
    settings = hub_settings(tmp_path, sms_sender="http", sms_url=gateway.url)
    services = build_services(settings, database=database, clock=clock)
    services.appointments.book(
        booking(office.offer_id, madrid(THURSDAY, 10), citizen=citizen(email=None)),
        via=BookedVia.WEB,
        actor="hub",
    )
    gateway.answers.append(Answer(400, b'{"error": "unknown destination"}'))
    sweep_appointments_once(services)
    [receipt] = _receipts(database)
    assert (receipt.status, receipt.last_error) == (NoticeStatus.FAILED, "sms_refused_400")
    clock.advance(seconds=backoff(1).total_seconds())
    sweep_appointments_once(services)
    assert len(gateway.received) == 1  # the same request would be refused the same way


def test_without_a_gateway_no_sms_notice_is_queued(
    database: Database, office: Office, clock: FakeClock, tmp_path: Path
) -> None:
    services = build_services(hub_settings(tmp_path), database=database, clock=clock)
    services.appointments.book(
        booking(office.offer_id, madrid(THURSDAY, 10)), via=BookedVia.WEB, actor="hub"
    )
    with database.session() as session:
        channels = set(session.scalars(select(Notice.channel)))
    assert NoticeChannel.SMS not in channels


def _receipts(database: Database) -> list[Notice]:
    with database.session() as session:
        return list(
            session.scalars(
                select(Notice).where(
                    Notice.kind == NoticeKind.RECEIPT, Notice.channel == NoticeChannel.SMS
                )
            )
        )
