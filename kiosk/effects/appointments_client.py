"""The cabin's client of the hub's appointment API (``/api/cabin/appointments/...``).

It speaks :mod:`contract.appointments`: offers of the cabin's site, their free places, booking,
the next free time of a service, and checking a citizen in. It uses the kiosk's HTTP client,
the one that trusts the hub's pinned certificate (:func:`kiosk.runtime.run_kiosk` makes it).

A refusal (a 4xx whose body is a :class:`~contract.appointments.Refusal`) arrives as
:class:`AppointmentRefused` with its code; a hub that cannot be reached, or answers with
something that is not the API's, is :class:`HubUnreachable`. Neither message holds the
citizen's data. ::

    AppointmentClientError
    ├── AppointmentRefused   the hub said no, with a code the kiosk acts on
    └── HubUnreachable       no answer, or an answer that is not the API's

A request that may be repeated (a read, a check-in) is sent once more when the hub closed its
kept-alive connection as the request went out: the hub and the HTTP client both let an idle
connection go after about five seconds, and a request sent at that moment gets no answer
though the hub is there. A booking is never sent twice.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from contract.appointments import (
    Appointment,
    Availability,
    BookingRequest,
    CheckIn,
    Offer,
    Refusal,
    Slot,
)

logger = logging.getLogger(__name__)

BASE = "/api/cabin/appointments"
_Model = TypeVar("_Model", bound=BaseModel)
_OFFERS: TypeAdapter[list[Offer]] = TypeAdapter(list[Offer])
_NEXT_SLOT: TypeAdapter[Slot | None] = TypeAdapter(Slot | None)


class AppointmentClientError(Exception):
    """The appointment API could not be used."""


class HubUnreachable(AppointmentClientError):
    """The hub did not answer (network down, timeout, or an answer that is not the API's)."""

    code = "hub_unreachable"


class AppointmentRefused(AppointmentClientError):
    """The hub refused, with a :data:`contract.appointments.RefusalCode`."""

    def __init__(self, status: int, refusal: Refusal) -> None:
        self.status = status
        self.code: str = refusal.code
        #: The hub's words; the kiosk shows its own for each code.
        self.message: str = refusal.message
        self.reason: str | None = refusal.reason
        super().__init__(f"{status} {self.code}")


class AppointmentsClient:
    """Async client of the cabin's appointment routes, on an HTTP client the kiosk owns."""

    def __init__(self, http: httpx.AsyncClient, *, hub_url: str, token: str) -> None:
        self._http = http
        self._base = hub_url.rstrip("/") + BASE
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _send(
        self, method: str, path: str, *, repeatable: bool = True, **kwargs: Any
    ) -> httpx.Response:
        url = self._base + path
        try:
            try:
                response = await self._http.request(method, url, headers=self._headers, **kwargs)
            except httpx.RemoteProtocolError:
                if not repeatable:
                    raise
                # The hub let the idle kept-alive connection go as the request went out, and
                # no answer came: a new connection gets one.
                logger.info("the hub closed the connection of %s %s: sent again", method, path)
                response = await self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise HubUnreachable(
                f"Expected the hub to answer {method} {BASE}{path}, but {type(exc).__name__}"
            ) from exc
        if response.is_success:
            return response
        try:
            refusal = Refusal.model_validate_json(response.content)
        except ValidationError as exc:
            raise HubUnreachable(
                f"Expected the appointment API's answer to {method} {BASE}{path}, "
                f"but got status {response.status_code} without one"
            ) from exc
        logger.info("appointment API refused %s %s: %s", method, BASE + path, refusal.code)
        raise AppointmentRefused(response.status_code, refusal)

    @staticmethod
    def _parse(response: httpx.Response, adapter: TypeAdapter[Any], what: str) -> Any:
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            raise HubUnreachable(f"Expected {what} from the hub, but got another answer") from exc

    async def _model(self, model: type[_Model], method: str, path: str, **kwargs: Any) -> _Model:
        response = await self._send(method, path, **kwargs)
        parsed: _Model = self._parse(response, TypeAdapter(model), model.__name__)
        return parsed

    async def offers(self) -> list[Offer]:
        """What the cabin's site offers to book."""
        response = await self._send("GET", "/offers")
        offers: list[Offer] = self._parse(response, _OFFERS, "a list of offers")
        return offers

    async def availability(self, offer_id: int, first: date, last: date) -> Availability:
        """The free places of ``offer_id`` from ``first`` to ``last`` (dates at the office)."""
        params = {"first": first.isoformat(), "last": last.isoformat()}
        return await self._model(
            Availability, "GET", f"/offers/{offer_id}/availability", params=params
        )

    async def book(self, booking: BookingRequest) -> Appointment:
        """Book; the answer carries the management link for the receipt."""
        body = booking.model_dump(mode="json")
        # Not sent again: a booking the hub did take would be taken twice.
        return await self._model(Appointment, "POST", "", json=body, repeatable=False)

    async def next_slot(self, service: str) -> Slot | None:
        """The earliest free time of ``service`` at the cabin's site, if any."""
        response = await self._send("GET", "/next-slot", params={"service": service})
        slot: Slot | None = self._parse(response, _NEXT_SLOT, "a time or null")
        return slot

    async def check_in(self, check_in: CheckIn, *, attention_id: str) -> Appointment:
        """Check the citizen in for this attention, by the QR's link or reference and DNI/NIE.

        Sent again when need be: the hub answers a repeated check-in of an attention the same.
        """
        body = check_in.model_dump(mode="json", exclude_none=True)
        params = {"attention_id": attention_id}
        return await self._model(Appointment, "POST", "/check-in", json=body, params=params)
