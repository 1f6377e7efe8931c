"""The cabin's appointment client turns every answer of the hub into a flow event: refusals
with their code, and anything that is not the API's answer as an unreachable hub."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, date, datetime

import httpx

from contract.appointments import BookingRequest, CheckIn, Citizen
from kiosk.effects.appointments import AppointmentParts, carry_out, load_offers
from kiosk.effects.appointments_client import AppointmentsClient
from kiosk.flow import (
    AppointmentFailed,
    BookAppointment,
    CheckInAppointment,
    LoadAvailability,
    LoadNextSlot,
    NextSlotLoaded,
    OffersLoaded,
)

ATTENTION = "00000000-0000-4000-8000-000000000001"


def client_answering(status: int, body: object, *, raw: bytes | None = None) -> AppointmentsClient:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["Authorization"] == "Bearer cabin-token"
        content = raw if raw is not None else json.dumps(body).encode()
        return httpx.Response(status, content=content)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = AppointmentsClient(http, hub_url="http://hub.test/", token="cabin-token")
    client.seen = seen  # type: ignore[attr-defined]
    return client


async def test_a_refusal_becomes_a_failure_with_its_code_and_reason() -> None:
    refusal = {"code": "invalid_document", "message": "Mal", "reason": "wrong_letter"}
    client = client_answering(422, refusal)
    command = CheckInAppointment("r-1", ATTENTION, CheckIn(reference="CP-7K3M-Q9XA", document="1"))
    answer = await carry_out(command, AppointmentParts(client))
    assert answer == [AppointmentFailed("r-1", "invalid_document", "Mal", "wrong_letter")]
    (request,) = client.seen  # type: ignore[attr-defined]
    assert request.url.path == "/api/cabin/appointments/check-in"
    assert request.url.params["attention_id"] == ATTENTION
    assert json.loads(request.content) == {"reference": "CP-7K3M-Q9XA", "document": "1"}


async def test_answers_that_are_not_the_apis_are_an_unreachable_hub() -> None:
    command = LoadAvailability("r-2", 7, date(2026, 12, 7), date(2026, 12, 20))
    for client in (
        client_answering(502, None, raw=b"<html>Bad gateway</html>"),
        client_answering(404, {"detail": "Not Found"}),  # a hub without the routes
        client_answering(200, {"offer_id": 7}),  # not an Availability
        client_answering(200, None, raw=b"not json"),
    ):
        answer = await carry_out(command, AppointmentParts(client))
        assert answer == [AppointmentFailed("r-2", "hub_unreachable")]
    assert await carry_out(command, AppointmentParts()) == [
        AppointmentFailed("r-2", "hub_unreachable")
    ]


async def test_a_hub_that_does_not_answer_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(timeout=2) as http:
        client = AppointmentsClient(http, hub_url=f"http://127.0.0.1:{port}", token="t")
        answer = await carry_out(LoadNextSlot("r-3", "padron"), AppointmentParts(client))
        assert answer == [AppointmentFailed("r-3", "hub_unreachable")]
        assert await load_offers(client) is None, "the tile keeps what it knew"


async def test_no_next_free_time_and_no_offers_are_plain_answers() -> None:
    client = client_answering(200, None)
    answer = await carry_out(LoadNextSlot("r-4", "padron"), AppointmentParts(client))
    assert answer == [NextSlotLoaded("r-4", None)]
    (request,) = client.seen  # type: ignore[attr-defined]
    assert request.url.path == "/api/cabin/appointments/next-slot"
    assert request.url.params["service"] == "padron"
    assert await load_offers(client_answering(200, [])) == OffersLoaded(())
    refused = client_answering(429, {"code": "too_many_attempts", "message": "Espere"})
    assert await load_offers(refused) == OffersLoaded(()), "a refusal dims the tile"


async def test_a_connection_the_hub_lets_go_is_tried_once_more_but_never_for_a_booking() -> None:
    # A server on a real port that, like a hub whose kept-alive connection has just expired,
    # closes each first connection after reading the request, and answers on the next.
    requests: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n")
             if line.lower().startswith(b"content-length:")),
            0,
        )  # fmt: skip
        await reader.readexactly(length)
        requests.append(head.split(b" ", 2)[1])
        if len(requests) % 2 == 1:
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
        writer.write(b"content-length: 4\r\nconnection: close\r\n\r\nnull")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            client = AppointmentsClient(http, hub_url=f"http://127.0.0.1:{port}", token="t")
            answer = await carry_out(LoadNextSlot("r-5", "padron"), AppointmentParts(client))
            assert answer == [NextSlotLoaded("r-5", None)]
            assert len(requests) == 2, "the read was sent again"

            citizen = Citizen(name="Marta López", document="12345678Z", email="m@example.org")
            booking = BookingRequest(
                offer_id=1,
                starts_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
                citizen=citizen,
                consent=True,
            )
            booked = await carry_out(BookAppointment("r-6", booking), AppointmentParts(client))
            assert booked == [AppointmentFailed("r-6", "hub_unreachable")]
            assert len(requests) == 3, "a booking is sent once"
    finally:
        server.close()
        await server.wait_closed()
