"""The council's appointment system: the embedded calendar by default, or one reached by REST.

The booking service asks an :class:`AppointmentSystem` for places taken outside the hub and
writes each booking, change and cancellation to it. :class:`EmbeddedSystem` is the default: the
hub's own calendar is the only one, and every call is a no-op. :class:`RestAppointmentSystem`
speaks to the council's system over HTTP; :func:`build_system` picks one from the settings.

Exceptions::

    ExternalUnavailable   no answer, an error status, or an answer that makes no sense;
                          the hub has no id, so it treats the booking as not written (after
                          a timeout the council's system may hold it anyway: see below)
    ExternalConflict      the council's system refused a booking or a move (409): that slot
                          is taken there

Their messages name what was wrong, never the citizen (no name, document, e-mail or phone),
and never quote the answer's body, which could echo them.

The wire format (``docs/appointments-external.md`` has examples). Times are ISO 8601 with an
offset; the hub sends UTC and refuses a time without an offset. Every field and query
parameter is named by ``field_map`` (our name → theirs); a name not in it is sent as is::

    GET    {url}/availability?service=&site_id=&channel=&from=&to=
           → 200 [{"starts_at": "2026-12-09T08:00:00+00:00", "taken": 2}, …]
             places taken per slot start in [from, to); starts outside it are ignored and
             repeated starts are added up
    POST   {url}/bookings   {"reference", "service", "site_id", "channel", "starts_at",
                             "ends_at", "citizen_name", "citizen_document", "email", "phone",
                             "language"}
           → 201 (or 200) {"id": "…"}  · 409 the slot is taken there
             the reference is unique: a booking sent again with the same reference should
             be answered with the same id, so a booking whose answer was lost can be sent again
    PATCH  {url}/bookings/{id}   {"starts_at", "ends_at"}
           → 200 or 204  · 409 the new slot is taken there
    DELETE {url}/bookings/{id}
           → 200 or 204; 404 and 410 also count as cancelled (a retry after a lost answer)

Any other status is :class:`ExternalUnavailable`. Requests carry ``User-Agent:
cabina-hub/<version>`` and either ``Authorization: Bearer <token>`` or HTTP basic credentials.
Nothing is retried here: a booking sent twice could be booked twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import httpx

from cabina import __version__
from hub.appointments.settings import AppointmentSettings, RestSystemSettings

logger = logging.getLogger(__name__)

#: Our names of everything on the wire: the keys ``field_map`` may rename.
WIRE_FIELDS = (
    "id",
    "reference",
    "service",
    "site_id",
    "channel",
    "starts_at",
    "ends_at",
    "citizen_name",
    "citizen_document",
    "email",
    "phone",
    "language",
    "taken",
    "from",
    "to",
)

USER_AGENT = f"cabina-hub/{__version__}"


class ExternalUnavailable(Exception):
    """The council's system did not answer, or answered nonsense; the hub holds no id there.

    After a timeout on a booking the council's system may have written it all the same; sent
    again with the same reference, it is expected to answer with the same id.
    """


class ExternalConflict(Exception):
    """The council's system refused the booking: that slot is taken there."""


@dataclass(frozen=True, slots=True)
class ExternalBooking:
    """What the council's system is told of a booking (no more personal data than it needs)."""

    reference: str
    service: str
    site_id: int
    channel: str
    starts_at: datetime
    ends_at: datetime
    # Out of the repr, so a logged or printed booking does not carry the citizen.
    citizen_name: str = field(repr=False)
    citizen_document: str = field(repr=False)
    email: str | None = field(repr=False)
    phone: str | None = field(repr=False)
    language: str


class AppointmentSystem(Protocol):
    """Where bookings live besides the hub."""

    def taken(
        self, *, service: str, site_id: int, channel: str, first: datetime, last: datetime
    ) -> dict[datetime, int]:
        """Places taken outside the hub per slot start in ``[first, last)``."""
        ...

    def book(self, booking: ExternalBooking) -> str | None:
        """Write a booking; its id there (``None`` for the embedded calendar)."""
        ...

    def move(self, external_id: str, starts_at: datetime, ends_at: datetime) -> None:
        """Move a booking written before."""
        ...

    def cancel(self, external_id: str) -> None:
        """Cancel a booking written before."""
        ...


class EmbeddedSystem:
    """The hub's own calendar is the only one: nothing to read or write elsewhere."""

    def taken(
        self, *, service: str, site_id: int, channel: str, first: datetime, last: datetime
    ) -> dict[datetime, int]:
        return {}

    def book(self, booking: ExternalBooking) -> str | None:
        return None

    def move(self, external_id: str, starts_at: datetime, ends_at: datetime) -> None:
        return None

    def cancel(self, external_id: str) -> None:
        return None


def build_system(settings: AppointmentSettings) -> AppointmentSystem:
    """The system the settings name: embedded, or the council's over REST."""
    if settings.system == "embedded":
        return EmbeddedSystem()
    if settings.rest is None:
        # AppointmentSettings refuses this already; kept for settings built without validation.
        raise ValueError("Expected [appointments.rest] when system is 'rest', but it is not set")
    return RestAppointmentSystem(settings.rest)


def _wire_time(value: datetime, what: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Expected an aware datetime for {what}, but got a naive one")
    return value.astimezone(UTC).isoformat()


class RestAppointmentSystem:
    """An :class:`AppointmentSystem` over the council's REST service (see the module)."""

    def __init__(
        self, settings: RestSystemSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        _check(settings)
        self.settings = settings
        self._names = {name: settings.field_map.get(name, name) for name in WIRE_FIELDS}
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        auth: httpx.Auth | None = None
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        elif settings.username is not None and settings.password is not None:
            auth = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
        self._client = httpx.Client(
            base_url=settings.url.rstrip("/"),
            headers=headers,
            auth=auth,
            timeout=settings.timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def __enter__(self) -> RestAppointmentSystem:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def taken(
        self, *, service: str, site_id: int, channel: str, first: datetime, last: datetime
    ) -> dict[datetime, int]:
        """Places taken in the council's system per slot start (UTC) in ``[first, last)``."""
        params = {
            self._names["service"]: service,
            self._names["site_id"]: str(site_id),
            self._names["channel"]: channel,
            self._names["from"]: _wire_time(first, "first"),
            self._names["to"]: _wire_time(last, "last"),
        }
        what = "availability"
        response = self._send("GET", "/availability", what, params=params)
        self._expect(response, what, (200,))
        answer = self._json(response, what)
        if not isinstance(answer, list):
            raise ExternalUnavailable(
                f"Expected a JSON list of slots in the {what}, but got {_kind(answer)}"
            )
        taken: dict[datetime, int] = {}
        for index, item in enumerate(answer):
            starts_at, count = self._slot(item, index)
            if first <= starts_at < last:
                taken[starts_at] = taken.get(starts_at, 0) + count
        logger.debug("council's system: %d slots with places taken", len(taken))
        return taken

    def book(self, booking: ExternalBooking) -> str:
        """Write a booking; its id in the council's system."""
        body = {
            self._names["reference"]: booking.reference,
            self._names["service"]: booking.service,
            self._names["site_id"]: booking.site_id,
            self._names["channel"]: booking.channel,
            self._names["starts_at"]: _wire_time(booking.starts_at, "starts_at"),
            self._names["ends_at"]: _wire_time(booking.ends_at, "ends_at"),
            self._names["citizen_name"]: booking.citizen_name,
            self._names["citizen_document"]: booking.citizen_document,
            self._names["email"]: booking.email,
            self._names["phone"]: booking.phone,
            self._names["language"]: booking.language,
        }
        what = f"booking {booking.reference}"
        response = self._send("POST", "/bookings", what, json=body)
        if response.status_code == 409:
            logger.info("council's system refused %s: slot taken", what)
            raise ExternalConflict(
                f"The council's system refused {what}: the slot at "
                f"{_wire_time(booking.starts_at, 'starts_at')} is taken there"
            )
        self._expect(response, what, (200, 201))
        answer = self._json(response, what)
        id_name = self._names["id"]
        if not isinstance(answer, dict):
            raise ExternalUnavailable(
                f"Expected a JSON object with {id_name!r} for {what}, but got {_kind(answer)}"
            )
        external_id = answer.get(id_name)
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str):
            raise ExternalUnavailable(
                f"Expected the booking's id in {id_name!r} for {what}, "
                f"but got {'nothing' if id_name not in answer else _kind(external_id)}"
            )
        if not external_id.strip():
            raise ExternalUnavailable(
                f"Expected the booking's id in {id_name!r} for {what}, but it is empty"
            )
        logger.info("council's system booked %s as %s", booking.reference, external_id)
        return external_id

    def move(self, external_id: str, starts_at: datetime, ends_at: datetime) -> None:
        """Move a booking written before; :class:`ExternalConflict` if that slot is taken."""
        body = {
            self._names["starts_at"]: _wire_time(starts_at, "starts_at"),
            self._names["ends_at"]: _wire_time(ends_at, "ends_at"),
        }
        what = f"the move of booking {external_id!r}"
        response = self._send("PATCH", self._booking_path(external_id), what, json=body)
        if response.status_code == 409:
            logger.info("council's system refused %s: slot taken", what)
            raise ExternalConflict(
                f"The council's system refused {what}: the slot at "
                f"{body[self._names['starts_at']]} is taken there"
            )
        self._expect(response, what, (200, 204))
        logger.info("council's system moved booking %s", external_id)

    def cancel(self, external_id: str) -> None:
        """Cancel a booking written before; one the system no longer has counts as cancelled."""
        what = f"the cancellation of booking {external_id!r}"
        response = self._send("DELETE", self._booking_path(external_id), what)
        if response.status_code in (404, 410):
            logger.warning(
                "council's system has no booking %s to cancel (%d); taken as cancelled",
                external_id,
                response.status_code,
            )
            return
        self._expect(response, what, (200, 204))
        logger.info("council's system cancelled booking %s", external_id)

    def _booking_path(self, external_id: str) -> str:
        if not external_id:
            raise ValueError("Expected a booking id, but got an empty one")
        return f"/bookings/{quote(external_id, safe='')}"

    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            logger.warning("council's system timed out on %s", what)
            raise ExternalUnavailable(
                f"Expected the council's system to answer {what} within "
                f"{self.settings.timeout_s} s, but it did not"
            ) from exc
        except httpx.HTTPError as exc:
            logger.warning("council's system unreachable for %s: %s", what, type(exc).__name__)
            raise ExternalUnavailable(
                f"Expected to reach the council's system for {what}, but got {type(exc).__name__}"
            ) from exc

    def _expect(self, response: httpx.Response, what: str, statuses: tuple[int, ...]) -> None:
        status = response.status_code
        if status in statuses:
            return
        logger.warning("council's system answered %s with status %d", what, status)
        expected = " or ".join(str(s) for s in statuses)
        hint = " (credentials refused)" if status in (401, 403) else ""
        raise ExternalUnavailable(
            f"Expected status {expected} from the council's system for {what}, "
            f"but got {status}{hint}"
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            # The decoder's message quotes no content, but the body may: keep neither.
            raise ExternalUnavailable(
                f"Expected JSON from the council's system for {what}, but the answer is not JSON"
            ) from None

    def _slot(self, item: Any, index: int) -> tuple[datetime, int]:
        starts_name, taken_name = self._names["starts_at"], self._names["taken"]
        where = f"slot {index} of the availability"
        if not isinstance(item, dict):
            raise ExternalUnavailable(f"Expected a JSON object for {where}, but got {_kind(item)}")
        text = item.get(starts_name)
        if not isinstance(text, str):
            raise ExternalUnavailable(
                f"Expected a time in {starts_name!r} of {where}, but got {_kind(text)}"
            )
        try:
            starts_at = datetime.fromisoformat(text)
        except ValueError:
            # Not a time, so it is not quoted: it could be anything.
            raise ExternalUnavailable(
                f"Expected an ISO 8601 time in {starts_name!r} of {where}, but got other text"
            ) from None
        if starts_at.tzinfo is None or starts_at.utcoffset() is None:
            raise ExternalUnavailable(
                f"Expected a time with an offset in {starts_name!r} of {where}, "
                f"but got {text[:40]!r}"
            )
        count = item.get(taken_name)
        if isinstance(count, bool) or not isinstance(count, int):
            raise ExternalUnavailable(
                f"Expected a whole number in {taken_name!r} of {where}, but got {_kind(count)}"
            )
        if count < 0:
            raise ExternalUnavailable(
                f"Expected places taken ≥ 0 in {taken_name!r} of {where}, but got {count}"
            )
        return starts_at.astimezone(UTC), count


def _kind(value: Any) -> str:
    """A value's JSON kind, never the value (it could be personal data)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _check(settings: RestSystemSettings) -> None:
    """Refuse REST settings that cannot work, naming the setting."""
    parts = urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"Expected an http:// or https:// URL in appointments.rest.url, "
            f"but got {settings.url!r}"
        )
    if (settings.username is None) != (settings.password is None):
        raise ValueError(
            "Expected both appointments.rest.username and password, or neither, but got only one"
        )
    if settings.token is not None and settings.username is not None:
        raise ValueError("Expected appointments.rest.token or username and password, but got both")
    unknown = sorted(set(settings.field_map) - set(WIRE_FIELDS))
    if unknown:
        raise ValueError(
            f"Expected appointments.rest.field_map keys among {', '.join(WIRE_FIELDS)}, "
            f"but got {unknown}"
        )
    empty = sorted(ours for ours, theirs in settings.field_map.items() if not theirs.strip())
    if empty:
        raise ValueError(
            f"Expected a name for each field in appointments.rest.field_map, but {empty} are empty"
        )
    names = [settings.field_map.get(name, name) for name in WIRE_FIELDS]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(
            "Expected appointments.rest.field_map to give each field its own name, "
            f"but {clashes} would name two fields"
        )
