"""The hub client against a real hub: restarting the hub mid-queue costs no place and no event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contract import signalling as p
from contract.events import EventKind
from kiosk.effects.hub_client import Backoff, HubClient
from kiosk.effects.outbox import Outbox, OutboxSender
from kiosk.flow import RecordEvent


class Cabin:
    """One cabin's link: hub client, outbox and sender, and what it heard."""

    def __init__(self, hub: Any, cabin_id: int, token: str, data_dir: Path) -> None:
        self.messages: list[p.Message] = []
        self.links: list[bool] = []
        self.client = HubClient(
            ws_url=hub.ws_url,
            token=token,
            on_message=self.messages.append,
            on_link=self.links.append,
            hub_timeout_s=3.0,
            backoff=Backoff(minimum=0.05, maximum=0.5),
        )
        self.outbox = Outbox(data_dir / "outbox.sqlite3", actor=f"cabin:{cabin_id}")
        self.sender = OutboxSender(
            self.outbox, hub_url=hub.url, token=token, backoff=Backoff(0.05, 0.5), poll_s=0.1
        )
        self.attention_id = str(uuid.uuid4())
        self.recorded: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []

    def record(self, kind: EventKind, **data: Any) -> None:
        event = RecordEvent(str(uuid.uuid4()), kind, self.attention_id, datetime.now(UTC), data)
        self.recorded.append(self.outbox.add(event))
        self.sender.wake()

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self.client.run()),
            asyncio.create_task(self.sender.run()),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def positions(self) -> list[int]:
        return [m.position for m in self.messages if isinstance(m, p.QueueUpdate)]


async def test_the_hub_welcomes_the_cabin_and_answers_its_heartbeat(
    hub: Any, tmp_path: Path, eventually: Any
) -> None:
    cabin = Cabin(hub, hub.cabin_id, hub.token, tmp_path)
    cabin.start()
    try:
        await eventually(lambda: cabin.client.online, "the welcome")
        welcome = cabin.client.welcome
        assert welcome is not None and welcome.me.id == str(hub.cabin_id)
        assert welcome.heartbeat_interval_s == 1
        # Several heartbeats later the hub has not closed the link for silence (4408).
        await asyncio.sleep(3.5)
        assert cabin.links == [True] and cabin.client.connections == 1
    finally:
        await cabin.stop()


async def test_a_wrong_token_never_gets_online(hub: Any, tmp_path: Path) -> None:
    cabin = Cabin(hub, hub.cabin_id, "not-a-cabin-token", tmp_path)
    cabin.start()
    try:
        await asyncio.sleep(1.5)
        assert cabin.links == [] and not cabin.client.online
    finally:
        await cabin.stop()


@pytest.mark.slow
async def test_a_hub_restarted_mid_queue_keeps_places_and_stores_each_event_once(
    hub: Any, tmp_path: Path, eventually: Any
) -> None:
    other_id, other_token = hub.add_cabin("Sant Andreu 2")
    first = Cabin(hub, hub.cabin_id, hub.token, tmp_path / "first")
    second = Cabin(hub, other_id, other_token, tmp_path / "second")
    for cabin in (first, second):
        cabin.start()
        await eventually(lambda c=cabin: c.client.online, "the welcome")
        cabin.record(EventKind.ATTENTION_STARTED)
        cabin.record(EventKind.LANGUAGE_CHOSEN, language="ca")
        cabin.record(EventKind.CONSENT_RECORDED, recording=False)
        cabin.client.send(
            p.CallRequest(
                call_id=f"call-{uuid.uuid4().hex[:12]}",
                attention_id=cabin.attention_id,
                service="general",
                language="ca",
            )
        )
        await eventually(lambda c=cabin: c.positions(), "a place in the queue")
    assert (first.positions()[-1], second.positions()[-1]) == (1, 2)
    first_request = first.client.pending_request
    assert first_request is not None and first_request.queued_at is not None

    hub.kill()
    await eventually(lambda: first.links[-1] is False and second.links[-1] is False, "the loss")
    # The first cabin stays away until the second is back in the queue, alone at first.
    await first.stop()
    first.record(EventKind.SURVEY_ANSWERED, satisfaction=4)
    hub.start()
    await eventually(lambda: second.links.count(True) == 2, "the second cabin back")
    await eventually(lambda: len(second.positions()) >= 2, "the second cabin re-queued")
    first.start()
    await eventually(lambda: first.links.count(True) == 2, "the first cabin back")
    await eventually(lambda: second.positions()[-1] == 2, "the second cabin behind again")
    assert first.positions()[-1] == 1
    assert first.client.pending_request == first_request

    for cabin, cabin_id in ((first, hub.cabin_id), (second, other_id)):
        await eventually(lambda c=cabin: c.outbox.count() == 0, "the outbox sent")
        at_hub = hub.cabin_events(cabin_id)
        ours = [event_id for event_id, _ in at_hub if event_id in cabin.recorded]
        assert sorted(ours) == sorted(cabin.recorded)  # each once, none lost
        assert [kind for _, kind in at_hub].count("call.queued") == 1
        await cabin.stop()
