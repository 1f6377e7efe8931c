"""Appointments (cita previa): what the cabin, the console and the web page send and receive.

One booking service in the hub serves three places: the cabin's "Book an appointment" tile, the
agent console, and the public web page. They all speak these models. Times are aware datetimes
(UTC on the wire); the calendar itself lives in the site's time zone.

A refusal is an HTTP error whose body is ``{"code": …, "message": …}``; ``code`` is one of
:data:`RefusalCode`, and each side finds the citizen's words for it in its own catalogs::

    slot_taken          the last place in that slot was booked a moment ago
    slot_unavailable    the slot is in the past, on a holiday, outside hours, or blocked
    invalid_document    the DNI/NIE is malformed (``reason`` as in :mod:`contract.identity`)
    invalid_email       the e-mail address cannot be one
    invalid_phone       the phone number cannot be a mobile one
    no_contact          neither an e-mail nor a phone was given
    no_consent          the citizen did not accept the use of their data
    not_found           no appointment has that reference or management link
    link_expired        the management link has expired (the appointment is over)
    already_cancelled   someone cancelled the appointment before this change
    not_changeable      the appointment has started, ended or been checked in
    too_many_attempts   too many wrong references or links from this address; wait
    external_unavailable  the council's appointment system did not answer; nothing was booked
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from contract.identity import parse_document
from contract.languages import Language

#: The management token's length in URL-safe base64 characters: 32 bytes, 256 bits.
TOKEN_CHARS = 43
#: A reference as a citizen reads and types it: ``CP-`` then 8 letters and digits without
#: look-alikes (no 0/O, 1/I/L), shown as ``CP-7K3M-Q9XA``.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PATTERN = r"^CP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$"
#: The path of the management page; the token follows (``/cita/g/<token>``). A QR code on the
#: receipt carries the full URL; the cabin reads the token back from it.
MANAGE_PATH = "/cita/g/"
#: The page of a video appointment from home: the same private token as the management
#: page's follows (``/cita/v/<token>``).
VIDEO_PATH = "/cita/v/"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# A Spanish mobile (6xx or 7xx), with or without +34/0034; or any other country's number in
# E.164 form (+ and 8 to 15 digits).
_SPANISH_MOBILE = re.compile(r"^(?:\+34|0034)?([67][0-9]{8})$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_REFERENCE = re.compile(REFERENCE_PATTERN)


RefusalCode = Literal[
    "slot_taken",
    "slot_unavailable",
    "invalid_document",
    "invalid_email",
    "invalid_phone",
    "no_contact",
    "no_consent",
    "not_found",
    "link_expired",
    "already_cancelled",
    "not_changeable",
    "too_many_attempts",
    "external_unavailable",
]
REFUSAL_CODES: tuple[RefusalCode, ...] = get_args(RefusalCode)


class Channel(StrEnum):
    """How the citizen meets the agent."""

    CABIN_VIDEO = "cabin_video"
    HOME_VIDEO = "home_video"
    IN_PERSON = "in_person"


class AppointmentStatus(StrEnum):
    """Where an appointment is; only ``booked`` can still be moved or cancelled."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    DONE = "done"
    NO_SHOW = "no_show"


class BookedVia(StrEnum):
    """Where the booking was made."""

    CABIN = "cabin"
    CONSOLE = "console"
    WEB = "web"


def normalise_email(text: str) -> str:
    """The e-mail address in ``text``, trimmed; ``ValueError`` if it cannot be one.

    The message never repeats the address: it is personal data.
    """
    value = text.strip()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError("Expected an e-mail address like name@example.org")
    return value


def normalise_phone(text: str) -> str:
    """A mobile number in E.164 (``+34612345678``); ``ValueError`` if it cannot be one.

    Nine digits starting with 6 or 7 are a Spanish mobile; another country's number needs its
    ``+`` prefix. The message never repeats the number.
    """
    compact = _PHONE_SEPARATORS.sub("", text)
    spanish = _SPANISH_MOBILE.fullmatch(compact)
    if spanish:
        return "+34" + spanish.group(1)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164.fullmatch(compact) and not compact.startswith("+34"):
        return compact
    raise ValueError("Expected a mobile number: 9 digits starting with 6 or 7, or + and a prefix")


def normalise_reference(text: str) -> str:
    """A reference as typed (``cp 7k3m q9xa``) in canonical form; ``ValueError`` if not one."""
    compact = re.sub(r"[\s\-_.]", "", text).upper()
    if compact.startswith("CP"):
        compact = compact[2:]
    compact = compact.replace("O", "0").replace("I", "1").replace("L", "1")
    candidate = f"CP-{compact[:4]}-{compact[4:]}"
    if len(compact) != 8 or not _REFERENCE.fullmatch(candidate):
        raise ValueError("Expected a reference like CP-7K3M-Q9XA")
    return candidate


def token_from_link(text: str) -> str | None:
    """The management token in a link (or a bare token), as read from a receipt's QR code."""
    value = text.strip()
    if MANAGE_PATH in value:
        value = value.split(MANAGE_PATH, 1)[1].split("?", 1)[0].split("#", 1)[0].strip("/")
    if re.fullmatch(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}", value):
        return value
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offer(_Model):
    """An errand that can be booked, at one site, by one channel."""

    id: int
    site_id: int
    site_name: str
    site_address: str
    service: str
    #: The errand's name by language: ``{"es": "Padrón", "ca": "Padró", ...}``.
    names: dict[str, str]
    channel: Channel
    slot_minutes: int
    timezone: str
    #: Days the citizen's name, document and contacts are kept after the appointment: what
    #: the consent a citizen reads before booking says.
    retention_days: int = Field(ge=0)


class Slot(_Model):
    """A time that can be booked, and how many places it has left."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    free: int = Field(ge=1)


class DayAvailability(_Model):
    """The bookable slots of one day (a date at the site), earliest first."""

    day: date
    slots: list[Slot]


class Availability(_Model):
    """What an offer has free between two days."""

    offer_id: int
    days: list[DayAvailability]


Name = Annotated[str, Field(min_length=1, max_length=200)]


class Citizen(_Model):
    """Who the appointment is for, and how to reach them (an e-mail, a mobile, or both)."""

    name: Name
    document: str = Field(max_length=32)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    language: Language = "es"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("Expected a name")
        return value

    @field_validator("document")
    @classmethod
    def _document(cls, value: str) -> str:
        return parse_document(value).number

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value not in (None, "") else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value not in (None, "") else None


class BookingRequest(_Model):
    """Book ``starts_at`` of an offer; ``consent`` must be true (the data-use notice was read).

    ``agent_id`` is for the console only: an agent booking a follow-up with themself.
    """

    offer_id: int = Field(ge=1)
    starts_at: AwareDatetime
    citizen: Citizen
    consent: bool
    agent_id: int | None = Field(default=None, ge=1)


class MoveRequest(_Model):
    """Move an appointment to another time of the same offer."""

    starts_at: AwareDatetime


class Appointment(_Model):
    """An appointment as the citizen sees it (receipt, management page, cabin)."""

    reference: str
    status: AppointmentStatus
    offer: Offer
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    #: The citizen's name, masked (``M. G.``): the page behind a link shows no more.
    citizen_initials: str
    language: Language
    #: What to bring, in the citizen's language; empty when nothing.
    what_to_bring: str
    #: The private management link; only in the answer to the booking itself.
    manage_url: str | None = None
    #: How the receipt is being sent (``email``, ``sms``); only in the answer to the booking.
    #: Empty when the hub has no way to send one: the citizen keeps the reference instead.
    receipt_by: list[Literal["email", "sms"]] = Field(default_factory=list)


class AgendaEntry(_Model):
    """One appointment in an agent's agenda for the day (the console)."""

    id: str
    reference: str
    status: AppointmentStatus
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    service: str
    channel: Channel
    site_id: int
    citizen_name: str
    agent_id: int | None
    booked_via: BookedVia
    #: How many documents the citizen has sent ahead (by the appointment's private link).
    documents: int = 0


class AppointmentDocument(_Model):
    """A document a citizen sent ahead of an appointment, as the console lists it."""

    id: str
    kind: Literal["pdf", "jpeg", "png"]
    #: ``application/pdf``, ``image/jpeg`` or ``image/png``.
    content_type: str
    size: int
    #: What the citizen said it is, if they said (personal data: shown, never logged).
    label: str | None
    created_at: AwareDatetime


class CheckIn(_Model):
    """A citizen at a cabin joining their appointment, by the QR's link or a typed reference.

    Exactly one of ``link`` (what the camera read) and ``reference`` is given; a reference
    needs the DNI/NIE too, so that a reference read over someone's shoulder is not enough.
    """

    link: str | None = Field(default=None, max_length=512)
    reference: str | None = Field(default=None, max_length=32)
    document: str | None = Field(default=None, max_length=32)


class Refusal(_Model):
    """The body of every refused appointment request."""

    code: RefusalCode
    message: str
    #: For ``invalid_document``, the :data:`contract.identity.DocumentProblem`.
    reason: str | None = None
