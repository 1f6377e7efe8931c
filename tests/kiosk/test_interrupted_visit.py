"""A kiosk killed mid-visit ends that visit on its next start, from its outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contract.events import EventKind, NewEvent
from kiosk.effects.outbox import RESTART_REASON, Outbox

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _event(kind: EventKind, attention_id: str, at: float, **data: str) -> NewEvent:
    return NewEvent(
        event_id=str(uuid.uuid4()),
        kind=kind,
        attention_id=attention_id,
        actor="cabin:4",
        occurred_at=T0 + timedelta(seconds=at),
        data=dict(data),
    )


def test_a_visit_cut_short_is_ended_once_on_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    attention = str(uuid.uuid4())
    killed = Outbox(path, actor="cabin:4")
    killed.add(_event(EventKind.ATTENTION_STARTED, attention, 0))
    killed.add(_event(EventKind.CALL_QUEUED, attention, 5, service="general"))
    assert killed.current_visit() == attention
    # Killed without closing: the next start opens the same file.
    restarted = Outbox(path, actor="cabin:4")
    restart = T0 + timedelta(minutes=3)
    assert restarted.end_interrupted(restart) == attention
    ends = [p.body for p in restarted.pending() if p.body["kind"] == EventKind.ATTENTION_ENDED]
    assert len(ends) == 1
    assert ends[0]["attention_id"] == attention
    assert ends[0]["data"] == {"reason": RESTART_REASON}
    assert ends[0]["actor"] == "cabin:4"
    assert datetime.fromisoformat(ends[0]["occurred_at"]) == restart
    assert restarted.current_visit() is None
    # Killed again before anything was sent: nothing more to end.
    again = Outbox(path, actor="cabin:4")
    assert again.end_interrupted(restart + timedelta(minutes=1)) is None
    assert [p.body["kind"] for p in again.pending()].count(EventKind.ATTENTION_ENDED) == 1
    for outbox in (killed, restarted, again):
        outbox.close()


def test_a_visit_that_ended_or_a_later_one_is_what_the_outbox_remembers(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", actor="cabin:4")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert outbox.current_visit() is None
    outbox.add(_event(EventKind.ATTENTION_STARTED, first, 0))
    outbox.add(_event(EventKind.ATTENTION_ENDED, first, 60, reason="finished"))
    assert outbox.current_visit() is None
    assert outbox.end_interrupted(T0 + timedelta(minutes=2)) is None
    outbox.add(_event(EventKind.ATTENTION_STARTED, second, 120))
    # The events were sent and forgotten; the visit under way is still known.
    outbox.remove([p.event_id for p in outbox.pending()])
    assert outbox.current_visit() == second
    # An end for another attention (a late replay) leaves this visit alone.
    outbox.add(_event(EventKind.ATTENTION_ENDED, first, 61, reason="finished"))
    assert outbox.current_visit() == second
    outbox.close()
