"""Attention and audit events: what happened, who did it, when, and what it carried.

Events are produced by cabins (through their outbox), by the hub and by people using the
console; each producer chooses the event's id, which makes every upload idempotent. The data of
each kind that the attention projection reads is checked here, so that a stored event never
leaves the projection guessing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from contract.languages import CITIZEN_LANGUAGES

#: The most bytes an event's ``data`` may take as canonical JSON.
MAX_EVENT_DATA_BYTES = 16 * 1024
#: The longest free text an agent may write when closing an attention.
MAX_NOTES_CHARS = 4000

#: ``web:<n>`` is a citizen's video visit from home (the visit's number at the hub).
ACTOR_PATTERN = r"^(hub|(cabin|user|web):[1-9][0-9]{0,9})$"
CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,39}$"

_CODE_RE = re.compile(CODE_PATTERN)
# Spanish national identity numbers (DNI) and foreigners' numbers (NIE), with or without
# separators: an opaque citizen reference must never be one of these in clear.
_IDENTITY_NUMBER_RE = re.compile(r"(?<![0-9A-Z])([XYZ]?[0-9]{7,8})[A-Z](?![0-9A-Z])")


class EventKind(StrEnum):
    """Every kind of event the log accepts."""

    ATTENTION_STARTED = "attention.started"
    LANGUAGE_CHOSEN = "language.chosen"
    CALL_QUEUED = "call.queued"
    CALL_OFFERED = "call.offered"
    CALL_ANSWERED = "call.answered"
    CALL_DECLINED = "call.declined"
    CALL_RING_TIMEOUT = "call.ring_timeout"
    CALL_TRANSFERRED = "call.transferred"
    CALL_CANCELLED = "call.cancelled"
    CALL_ENDED = "call.ended"
    CONSENT_RECORDED = "consent.recorded"
    DOCUMENT_SCANNED = "document.scanned"
    DOCUMENT_PRINTED = "document.printed"
    DOCUMENT_SIGNED = "document.signed"
    CERTIFICATE_ISSUED = "certificate.issued"
    SURVEY_ANSWERED = "survey.answered"
    ATTENTION_CLOSED = "attention.closed"
    ATTENTION_ENDED = "attention.ended"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_MOVED = "appointment.moved"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_NOTIFIED = "appointment.notified"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    #: The call of a checked-in appointment was answered and is over (its attention ended
    #: or was wrapped up): ``data.joined_attention_id`` names that attention.
    APPOINTMENT_DONE = "appointment.done"
    #: The citizen sent a document ahead of the appointment (by its private link), or took one
    #: back: the event names the document by id, kind, size and SHA-256, never its content.
    APPOINTMENT_DOCUMENT_ADDED = "appointment.document_added"
    APPOINTMENT_DOCUMENT_REMOVED = "appointment.document_removed"
    AUDIT_LOGIN = "audit.login"
    AUDIT_LOGIN_FAILED = "audit.login_failed"
    AUDIT_USER_CREATED = "audit.user_created"
    AUDIT_CABIN_CREATED = "audit.cabin_created"
    AUDIT_CREDENTIAL_REVOKED = "audit.credential_revoked"
    AUDIT_CREDENTIAL_ISSUED = "audit.credential_issued"
    AUDIT_IDENTIFICATION = "audit.identification"
    AUDIT_USER_CHANGED = "audit.user_changed"
    AUDIT_SITE_CREATED = "audit.site_created"
    AUDIT_SITE_CHANGED = "audit.site_changed"
    AUDIT_SITE_DELETED = "audit.site_deleted"
    #: A change to what can be booked: an appointment offer, an agent's shift, a closed stretch.
    AUDIT_CALENDAR_CHANGED = "audit.calendar_changed"
    AUDIT_CABIN_CHANGED = "audit.cabin_changed"
    AUDIT_CABIN_SETTINGS_CHANGED = "audit.cabin_settings_changed"
    AUDIT_REMOTE_ACTION = "audit.remote_action"
    AUDIT_CERTIFICATE_REVOKED = "audit.certificate_revoked"
    AUDIT_ENROLMENT_REFUSED = "audit.enrolment_refused"
    #: An agent sent a document to a citizen's cabin (to print or to show).
    AUDIT_DOCUMENT_SENT = "audit.document_sent"
    #: A person read personal data: a citizen's history, a document, a certificate, an
    #: attention's record or a cabin's screenshot (``data.what`` says which, ``data.id`` its id).
    AUDIT_RECORD_READ = "audit.record_read"
    AUDIT_EXPORT = "audit.export"

    @property
    def is_audit(self) -> bool:
        """Audit events may stand alone; every other kind belongs to an attention."""
        return self.value.startswith("audit.")


#: The kinds a cabin may upload; the others are written by the hub or by staff.
CABIN_KINDS: frozenset[EventKind] = frozenset(
    kind
    for kind in EventKind
    if not kind.is_audit
    and kind is not EventKind.ATTENTION_CLOSED
    and not kind.value.startswith("appointment.")
) | {EventKind.AUDIT_IDENTIFICATION}


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and no NaN: the same value always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def format_instant(moment: datetime) -> str:
    """An aware datetime as UTC ISO 8601 with microseconds, the form hashed in the log."""
    if moment.tzinfo is None:
        raise ValueError(f"Expected a timezone-aware datetime, but got {moment.isoformat()}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def actor_for_cabin(cabin_id: int) -> str:
    """The actor string of a cabin."""
    return f"cabin:{cabin_id}"


def actor_for_user(user_id: int) -> str:
    """The actor string of a signed-in person."""
    return f"user:{user_id}"


def actor_for_web_visit(visit_id: int) -> str:
    """The actor string of a citizen's video visit from home."""
    return f"web:{visit_id}"


def parse_actor(actor: str) -> tuple[str, int | None]:
    """Split ``cabin:3`` into ``("cabin", 3)``; ``hub`` gives ``("hub", None)``."""
    if not re.fullmatch(ACTOR_PATTERN, actor):
        raise ValueError(
            f"Expected an actor like 'hub', 'cabin:3', 'user:7' or 'web:2', but got {actor!r}"
        )
    if actor == "hub":
        return "hub", None
    kind, _, number = actor.partition(":")
    return kind, int(number)


def looks_like_identity_number(text: str) -> bool:
    """Whether ``text`` contains something shaped like a DNI or NIE."""
    compact = re.sub(r"[.\-]", "", text.upper())
    return bool(_IDENTITY_NUMBER_RE.search(compact))


def _canonical_uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"Expected {field} to be a UUID, but got {value!r}") from None


def _need(data: Mapping[str, Any], key: str, check: Callable[[Any], bool], what: str) -> None:
    if key not in data:
        raise ValueError(f"Expected data.{key} ({what}), but it is missing")
    if not check(data[key]):
        raise ValueError(f"Expected data.{key} to be {what}, but got {data[key]!r}")


def _optional(data: Mapping[str, Any], key: str, check: Callable[[Any], bool], what: str) -> None:
    if key in data and data[key] is not None:
        _need(data, key, check, what)


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and bool(_CODE_RE.fullmatch(value))


def _is_user_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit() and int(value) > 0


def _check_data(kind: EventKind, data: Mapping[str, Any]) -> None:
    """Refuse data that the projection would have to guess about."""
    if kind is EventKind.LANGUAGE_CHOSEN:
        _need(data, "language", lambda v: v in CITIZEN_LANGUAGES, f"one of {CITIZEN_LANGUAGES}")
    elif kind in (EventKind.CALL_QUEUED, EventKind.ATTENTION_STARTED):
        _optional(data, "service", _is_code, "a service code")
    elif kind is EventKind.CALL_ANSWERED:
        _optional(data, "agent_id", _is_user_id, "a user id")
    elif kind is EventKind.CONSENT_RECORDED:
        _need(data, "recording", lambda v: isinstance(v, bool), "true or false")
    elif kind is EventKind.SURVEY_ANSWERED:
        _need(
            data,
            "satisfaction",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5,
            "a whole number from 1 to 5",
        )
    elif kind is EventKind.ATTENTION_CLOSED:
        _need(data, "topic", _is_code, "a topic code")
        _need(data, "outcome", _is_code, "an outcome code")
        _optional(
            data,
            "notes",
            lambda v: isinstance(v, str) and len(v) <= MAX_NOTES_CHARS,
            f"text of at most {MAX_NOTES_CHARS} characters",
        )
    _optional(
        data,
        "citizen_ref",
        lambda v: isinstance(v, str) and 0 < len(v) <= 128 and not looks_like_identity_number(v),
        "an opaque reference of at most 128 characters, never a DNI or NIE",
    )


class NewEvent(BaseModel):
    """An event as its producer hands it in, before it is given a place in the log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Annotated[str, Field(max_length=36, description="A UUID chosen by the producer")]
    kind: EventKind
    attention_id: Annotated[str | None, Field(max_length=36)] = None
    actor: Annotated[str, Field(pattern=ACTOR_PATTERN, examples=["cabin:3", "user:7", "hub"])]
    occurred_at: AwareDatetime
    data: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("event_id")
    @classmethod
    def _event_uuid(cls, value: str) -> str:
        return _canonical_uuid(value, "event_id")

    @field_validator("attention_id")
    @classmethod
    def _attention_uuid(cls, value: str | None) -> str | None:
        return None if value is None else _canonical_uuid(value, "attention_id")

    @field_validator("occurred_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("data")
    @classmethod
    def _small_json(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        try:
            size = len(canonical_json(value).encode())
        except ValueError as exc:
            raise ValueError(f"Expected JSON-safe data, but {exc}") from None
        if size > MAX_EVENT_DATA_BYTES:
            raise ValueError(
                f"Expected data of at most {MAX_EVENT_DATA_BYTES} bytes, but got {size} bytes"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> NewEvent:
        if self.attention_id is None and not self.kind.is_audit:
            raise ValueError(
                f"Expected an attention_id for a {self.kind.value} event, but got none"
            )
        _check_data(self.kind, self.data)
        return self

    @property
    def payload(self) -> str:
        """The data as canonical JSON, as it is stored and hashed."""
        return canonical_json(self.data)
