"""The public verification page: the form, the verdicts, its languages and its rate limit."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from padron.office import Office

from hub.padron import csv_code
from hub.padron.verify_page import negotiate

ANA = {"document": "99990001P", "birth_date": "1984-03-14"}


def _passes_check(code: str) -> bool:
    try:
        csv_code.parse(code)
    except csv_code.MalformedCode:
        return False
    return True


def issue(office: Office, http: httpx.Client) -> dict[str, str]:
    attention = office.start_attention()
    identification = http.post(
        "/api/padron/identify",
        json={"attention_id": attention, **ANA},
        headers=office.cabin_headers(),
    ).json()["identification_id"]
    response = http.post(
        "/api/padron/certificates",
        json={"identification_id": identification, "kind": "collective"},
        headers=office.cabin_headers(),
    )
    assert response.status_code == 201
    issued: dict[str, str] = response.json()
    return issued


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("eu", "es", "eu"),
        (None, "gl-ES,gl;q=0.9,es;q=0.8", "gl"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5,ca;q=0.7", "ca"),
        (None, "de, en;q=0", "es"),
        (None, "en;q=bad, eu;q=0.2", "eu"),
        (None, None, "es"),
        ("ca@valencia", None, "ca@valencia"),
        ("fr", "en-GB", "en"),
    ],
)
def test_the_language_is_chosen_by_query_then_browser(
    query: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query, header) == expected


def test_the_form_sends_a_typed_code_to_its_page(http: httpx.Client, office: Office) -> None:
    form = http.get("/verify", headers={"Accept-Language": "ca"})
    assert form.status_code == 200
    assert "Verificació de certificats" in form.text and '<form method="get"' in form.text
    assert form.headers["content-language"] == "ca"
    assert "default-src 'none'" in form.headers["content-security-policy"]
    issued = issue(office, http)
    typed = issued["csv"].lower().replace("-", " ")
    sent = http.get("/verify", params={"code": typed, "lang": "ca"})
    assert sent.status_code == 303
    compact = issued["csv"].replace("-", "")
    assert sent.headers["location"] == f"/verify/{compact}?lang=ca"
    page = http.get(sent.headers["location"])
    assert "Certificat autèntic" in page.text
    assert "Col·lectiu" in page.text and "<dd>3</dd>" in page.text
    assert "Oficina d&#x27;Atenció Ciutadana — Sant Andreu" in page.text


def test_a_mistyped_code_is_told_apart_from_an_unknown_one(
    http: httpx.Client, office: Office
) -> None:
    issued = issue(office, http)
    compact = issued["csv"].replace("-", "")
    typo = next(
        typed
        for typed in (compact[:5] + char + compact[6:] for char in csv_code.ALPHABET)
        if typed != compact and not _passes_check(typed)
    )
    mistyped = http.get(f"/verify/{typo}?lang=es")
    assert mistyped.status_code == 400
    assert "Este código está mal escrito" in mistyped.text
    unknown_code = csv_code.derive(csv_code.signing_key("another hub's secret key 0123456789"), "x")
    unknown = http.get(f"/verify/{unknown_code}?lang=es")
    assert unknown.status_code == 404
    assert (
        "Código desconocido" in unknown.text
        and "Ningún certificado tiene este código" in unknown.text
    )
    short = http.get("/verify", params={"code": "ABC", "lang": "en"})
    assert short.status_code == 400
    assert "This code is mistyped" in short.text
    assert 'value="ABC"' in short.text
    assert http.get(f"/verify/{unknown_code}/pdf").status_code == 404


def test_machines_can_ask_for_json(http: httpx.Client, office: Office) -> None:
    issued = issue(office, http)
    answer = http.get(issued["verify_url"], headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "genuine"
    assert body["kind"] == "collective" and body["people"] == 3
    assert body["holder_initials"] == "A. P. E."
    assert body["site"] == "Oficina d'Atenció Ciutadana — Sant Andreu"
    assert body["revoked_at"] is None


def test_what_is_typed_is_escaped(http: httpx.Client, office: Office) -> None:
    page = http.get("/verify", params={"code": '"><script>alert(1)</script>'})
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_each_client_address_is_limited(make_office: Callable[..., Office]) -> None:
    office = make_office(verify_per_minute=3)
    with httpx.Client(base_url=office.url) as http:
        code = csv_code.derive(csv_code.signing_key("x" * 40), "y")
        statuses = [http.get(f"/verify/{code}?lang=en").status_code for _ in range(4)]
        assert statuses == [404, 404, 404, 429]
        limited = http.get(f"/verify/{code}/pdf", headers={"Accept-Language": "en"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) == 60
        assert "Too many checks from your connection" in limited.text
        assert http.get("/verify").status_code == 200  # the empty form is not counted
        office.clock.advance(seconds=61)
        assert http.get(f"/verify/{code}").status_code == 404
