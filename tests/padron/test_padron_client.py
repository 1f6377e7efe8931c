"""The kiosk's padrón client against a real hub: the whole self-service errand, and refusals."""

from __future__ import annotations

from datetime import date

import pytest
from padron.office import Office, free_port

from kiosk.effects.padron_client import HubUnreachable, PadronClient, PadronRefused


async def test_a_citizen_gets_a_certificate_at_the_cabin(office: Office) -> None:
    attention = office.start_attention()
    async with PadronClient(hub_url=office.url, token=office.seed.cabin_token) as client:
        identification = await client.identify(attention, "99990001p", date(1984, 3, 14), "ca")
        assert identification.confirmed
        assert identification.holder_initials == "A. P. E."
        assert "99990001" not in repr(
            identification
        ) and identification.identification_id not in repr(identification)
        certificate = await client.issue(identification.identification_id, "collective", "ca")
        assert certificate.people == 3
        assert certificate.verify_url.endswith(certificate.csv.replace("-", ""))
        pdf = await client.fetch_pdf(certificate)
    assert pdf.startswith(b"%PDF-")


async def test_refusals_carry_the_code_and_the_citizens_message(office: Office) -> None:
    attention = office.start_attention()
    async with PadronClient(hub_url=office.url, token=office.seed.cabin_token) as client:
        with pytest.raises(PadronRefused) as caught:
            await client.identify(attention, "99990001A", "1984-03-14", "eu")
        assert (caught.value.status, caught.value.code) == (422, "invalid_document")
        assert caught.value.reason == "wrong_letter"
        assert caught.value.message == "Letra ez dator bat zenbakiarekin. Egiaztatu biak."
        for _ in range(4):
            with pytest.raises(PadronRefused):
                await client.identify(attention, "99990001P", "1984-03-15", "es")
        with pytest.raises(PadronRefused) as locked:
            await client.identify(attention, "99990001P", "1984-03-15", "es")
        assert locked.value.code == "not_found"
        with pytest.raises(PadronRefused) as locked:
            await client.identify(attention, "99990001P", "1984-03-14", "es")
        assert locked.value.code == "too_many_attempts"
        assert locked.value.retry_at is not None and locked.value.retry_at > office.clock()
        with pytest.raises(PadronRefused) as gone:
            await client.issue("not-an-identification", "individual", "es")
        assert gone.value.code == "identification_invalid"


async def test_a_wrong_token_is_refused_without_a_citizen_message(office: Office) -> None:
    async with PadronClient(hub_url=office.url, token="not-a-token") as client:
        with pytest.raises(PadronRefused) as caught:
            await client.identify(office.start_attention(), "99990001P", "1984-03-14", "es")
    assert caught.value.status == 401
    assert caught.value.message is None


async def test_a_hub_that_is_not_there_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with PadronClient(hub_url=url, token="t", timeout_s=2) as client:
        with pytest.raises(HubUnreachable, match="Expected the hub to answer POST"):
            await client.identify("a", "99990001P", "1984-03-14", "es")
