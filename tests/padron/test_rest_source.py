"""The REST adapter against a real HTTP server on a loopback port: mapping, credentials,
timeouts, error statuses and answers that make no sense.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cabina.config import SettingsError, load_settings
from contract.identity import parse_document
from hub.padron.errors import SourceAnswerError, SourceError, SourceTimeout
from hub.padron.rest_source import RestSource
from hub.padron.settings import PadronSettings

#: A council service that names things its own way, with the address nested.
MAPPING = {
    "id": "idHabitante",
    "document": "numDocumento",
    "given_names": "nombre",
    "first_surname": "apellido1",
    "second_surname": "apellido2",
    "birth_date": "fechaNacimiento",
    "email": "contacto.email",
    "phone": "contacto.movil",
    "registration_id": "hoja.id",
    "registered_on": "hoja.fechaAlta",
    "ended_on": "hoja.fechaBaja",
    "street": "hoja.domicilio.via",
    "number": "hoja.domicilio.numero",
    "floor": "hoja.domicilio.planta",
    "door": "hoja.domicilio.puerta",
    "postcode": "hoja.domicilio.cp",
    "municipality": "hoja.domicilio.municipio",
}


def person(
    document: str, name: str, born: str, sheet: str = "H-77", **extra: Any
) -> dict[str, Any]:
    """A person as the council's service writes one (dates as DD/MM/YYYY)."""
    answer = {
        "idHabitante": f"hab-{document}",
        "numDocumento": document,
        "nombre": name,
        "apellido1": "Proba",
        "apellido2": "Demo",
        "fechaNacimiento": born,
        "contacto": {"email": None, "movil": "600000004"},
        "hoja": {
            "id": sheet,
            "fechaAlta": "12/04/2010",
            "fechaBaja": None,
            "domicilio": {
                "via": "Adibide kalea",
                "numero": 7,
                "planta": "3º",
                "puerta": "izq.",
                "cp": "01001",
                "municipio": "Vitoria-Gasteiz",
            },
        },
    }
    return answer | extra


class Council:
    """What the fake council service answers, and what it was asked."""

    def __init__(self) -> None:
        self.people = {
            "99990004B": person("99990004B", "Miren", "08/08/1975"),
            "99990005N": person("99990005N", "Iker", "24/12/1973"),
        }
        self.override: Callable[[BaseHTTPRequestHandler], bool] | None = None
        self.requests: list[tuple[str, str | None]] = []


@pytest.fixture
def council() -> Iterator[tuple[Council, str]]:
    """The council's padrón service on a loopback port."""
    state = Council()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Authorization")))
            if state.override is not None and state.override(self):
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/api/habitantes":
                found = state.people.get(query.get("dni", [""])[0])
                self._json(200, [found] if found else [])
            elif url.path.startswith("/api/hojas/") and url.path.endswith("/habitantes"):
                sheet = url.path.split("/")[3]
                people = [p for p in state.people.values() if p["hoja"]["id"] == sheet]
                self._json(200 if people else 404, people or {"error": "no such sheet"})
            else:
                self._json(404, {"error": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def source_for(url: str, **settings: Any) -> RestSource:
    values: dict[str, Any] = {
        "source": "rest",
        "rest_url": url,
        "rest_lookup_path": "/habitantes",
        "rest_household_path": "/hojas/{registration}/habitantes",
        "rest_document_param": "dni",
        "rest_birth_date_param": "fecha",
        "rest_date_format": "%d/%m/%Y",
        "rest_fields": MAPPING,
        "rest_token": "council-token",
        "rest_timeout_s": 2,
    }
    return RestSource(load_settings(PadronSettings, None, values | settings))


def test_a_person_is_read_through_the_mapping(council: tuple[Council, str]) -> None:
    state, url = council
    miren = source_for(url).lookup(parse_document("99990004B"), date(1975, 8, 8))
    assert miren is not None and miren.registration is not None
    assert (miren.reference, miren.full_name) == ("hab-99990004B", "Miren Proba Demo")
    assert (miren.email, miren.phone) == (None, "600000004")
    assert miren.registration.reference == "H-77"
    assert miren.registration.registered_on == date(2010, 4, 12)
    assert miren.registration.address.lines() == (
        "Adibide kalea, 7, 3º izq.",
        "01001 Vitoria-Gasteiz",
    )
    path, auth = state.requests[-1]
    assert path == "/api/habitantes?dni=99990004B&fecha=08%2F08%2F1975"
    assert auth == "Bearer council-token"


def test_the_date_of_birth_is_checked_even_if_the_service_ignores_it(
    council: tuple[Council, str],
) -> None:
    _, url = council
    assert source_for(url).lookup(parse_document("99990004B"), date(1975, 8, 9)) is None
    assert source_for(url).lookup(parse_document("12345678Z"), date(1975, 8, 8)) is None


def test_the_household_lists_everyone_on_the_sheet(council: tuple[Council, str]) -> None:
    state, url = council
    home = source_for(url).household("H-77")
    assert home is not None
    assert [p.given_names for p in home.residents] == ["Miren", "Iker"]
    assert source_for(url).household("H-404") is None
    assert state.requests[-1][0] == "/api/hojas/H-404/habitantes"


def test_basic_credentials_are_sent(council: tuple[Council, str]) -> None:
    state, url = council
    source = source_for(url, rest_token=None, rest_username="cabina", rest_password="s3cret")
    source.lookup(parse_document("99990004B"), date(1975, 8, 8))
    expected = base64.b64encode(b"cabina:s3cret").decode()
    assert state.requests[-1][1] == f"Basic {expected}"


def test_a_slow_service_is_a_timeout_with_a_plain_message(council: tuple[Council, str]) -> None:
    state, url = council

    def slow(handler: BaseHTTPRequestHandler) -> bool:
        time.sleep(1.5)
        return False

    state.override = slow
    with pytest.raises(SourceTimeout) as caught:
        source_for(url, rest_timeout_s=0.3).lookup(parse_document("99990004B"), date(1975, 8, 8))
    assert str(caught.value) == "Expected the padrón service to answer within 0.3 s, but it did not"
    assert caught.value.code == "source_timeout"
    assert "try again in a few minutes" in caught.value.citizen_message("en")
    assert "Inténtelo de nuevo" in caught.value.citizen_message("es")


@pytest.mark.parametrize(
    ("body", "status", "error", "message"),
    [
        (b"<html>maintenance</html>", 200, SourceAnswerError, "Expected JSON from the padrón"),
        ({"error": "boom"}, 500, SourceError, "Expected status 200 or 404 from the padrón "
         "service, but got 500"),
        ("a string", 200, SourceAnswerError, "Expected a JSON object for a person, but got str"),
        ([{"numDocumento": "99990004B"}], 200, SourceAnswerError,
         "Expected the field 'idHabitante', but it is missing"),
        ([person("99990004B", "Miren", "1975-08-08")], 200, SourceAnswerError,
         "Expected 'fechaNacimiento' as %d/%m/%Y, but it is not"),
        ([person("99990004B", "Miren", "08/08/1975", nombre=["M"])], 200, SourceAnswerError,
         "Expected text in 'nombre', but got list"),
        ([person("99990004B", "M", "08/08/1975")] * 2, 200, SourceAnswerError,
         "Expected at most one person for a document, but got 2"),
        ([person("99990005N", "Iker", "08/08/1975")], 200, SourceAnswerError,
         "Expected the person with the document asked for, but got another document"),
    ],
)  # fmt: skip
def test_answers_that_make_no_sense_are_typed_errors(
    council: tuple[Council, str], body: Any, status: int, error: type[Exception], message: str
) -> None:
    state, url = council

    def answer(handler: BaseHTTPRequestHandler) -> bool:
        handler._json(status, body)  # type: ignore[attr-defined]
        return True

    state.override = answer
    with pytest.raises(error) as caught:
        source_for(url).lookup(parse_document("99990004B"), date(1975, 8, 8))
    assert message in str(caught.value)


def test_a_household_that_is_not_a_list_is_refused(council: tuple[Council, str]) -> None:
    state, url = council

    def answer(handler: BaseHTTPRequestHandler) -> bool:
        handler._json(200, {"habitantes": []})  # type: ignore[attr-defined]
        return True

    state.override = answer
    with pytest.raises(SourceAnswerError, match="Expected a JSON list of people, but got dict"):
        source_for(url).household("H-77")


def test_a_service_that_is_not_there_is_unavailable() -> None:
    with pytest.raises(SourceError, match="Expected to reach the padrón service, but Connect"):
        source_for("http://127.0.0.1:9").lookup(parse_document("99990004B"), date(1975, 8, 8))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"source": "rest"}, "Expected rest_url when source is 'rest'"),
        ({"rest_url": "ftp://council"}, "Expected an http:// or https:// URL"),
        ({"rest_fields": {"shoe": "talla"}}, "Expected field names among id, document"),
        ({"rest_household_path": "/hojas"}, "Expected '{registration}' in rest_household_path"),
        ({"rest_username": "only-me"}, "Expected both rest_username and rest_password"),
        ({"otp_enabled": True}, "Expected smtp_host and smtp_from when otp_enabled"),
        ({"source": "ldap"}, "source"),
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_settings(PadronSettings, None, settings)
