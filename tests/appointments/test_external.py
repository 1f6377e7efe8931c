"""The REST adapter to the council's appointment system, against a real HTTP server that plays
it (``municipal.py``): booking, reading back, moving and cancelling; its field names; its
credentials; and every way it can fail — with no citizen's data in any message or log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

import pytest
from appointments.municipal import (
    MADRID,
    Answer,
    Drop,
    Hang,
    Municipal,
    closed_port_url,
)
from pydantic import SecretStr, ValidationError

from cabina.config import SettingsError, load_settings
from hub.appointments.external import (
    USER_AGENT,
    EmbeddedSystem,
    ExternalBooking,
    ExternalConflict,
    ExternalUnavailable,
    RestAppointmentSystem,
    build_system,
)
from hub.appointments.settings import AppointmentSettings, RestSystemSettings
from hub.settings import HubSettings

NAME = "Itziar Etxeberria Goñi"
DOCUMENT = "12345678Z"
EMAIL = "itziar.etxeberria@example.org"
PHONE = "612345678"
#: What must never be in an exception or a log line.
PERSONAL = (NAME, "Etxeberria", DOCUMENT, "12345678", EMAIL, PHONE)

NINE = datetime(2026, 12, 9, 9, 0, tzinfo=MADRID)
DAY = (datetime(2026, 12, 9, tzinfo=MADRID), datetime(2026, 12, 10, tzinfo=MADRID))


class Where(TypedDict):
    service: str
    site_id: int
    channel: str


#: The offer every test asks about.
WHERE: Where = {"service": "padron", "site_id": 3, "channel": "cabin_video"}

#: A council that names everything in Spanish.
SPANISH = {
    "id": "idCita",
    "reference": "localizador",
    "service": "tramite",
    "site_id": "oficina",
    "channel": "canal",
    "starts_at": "inicio",
    "ends_at": "fin",
    "citizen_name": "nombre",
    "citizen_document": "dni",
    "email": "correo",
    "phone": "movil",
    "language": "idioma",
    "taken": "ocupadas",
    "from": "desde",
    "to": "hasta",
}


def booking(reference: str = "CP-7K3M-Q9XA", starts_at: datetime = NINE) -> ExternalBooking:
    """A citizen's booking at the demo site."""
    return ExternalBooking(
        reference=reference,
        service="padron",
        site_id=3,
        channel="cabin_video",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=15),
        citizen_name=NAME,
        citizen_document=DOCUMENT,
        email=EMAIL,
        phone=PHONE,
        language="eu",
    )


def utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def assert_no_personal_data(*texts: str) -> None:
    for text in texts:
        for value in PERSONAL:
            assert value not in text, f"{value!r} leaked into {text!r}"


def messages(exc: BaseException) -> list[str]:
    """The exception's message and repr, and those of its causes."""
    found: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        found += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return found


@pytest.fixture
def municipal() -> Iterator[Municipal]:
    """The council's system with two places per slot."""
    with Municipal(capacity=2) as system:
        yield system


Connect = Callable[..., RestAppointmentSystem]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Build adapters from settings keywords; close them at the end."""
    made: list[RestAppointmentSystem] = []

    def make(url: str, **settings: Any) -> RestAppointmentSystem:
        adapter = RestAppointmentSystem(RestSystemSettings(url=url, **settings))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


def test_books_reads_back_moves_and_cancels(municipal: Municipal, connect: Connect) -> None:
    half_past = NINE + timedelta(minutes=30)
    municipal.phoned_in[("padron", 3, "cabin_video", utc(half_past))] = 1
    municipal.phoned_in[("registro", 3, "cabin_video", utc(NINE))] = 2
    system = connect(municipal.url)

    assert system.taken(**WHERE, first=DAY[0], last=DAY[1]) == {utc(half_past): 1}

    external_id = system.book(booking())
    assert external_id == "CITA/101"
    stored = municipal.bookings[external_id]
    assert stored["reference"] == "CP-7K3M-Q9XA"
    assert stored["starts_at"] == "2026-12-09T08:00:00+00:00"
    assert stored["citizen_document"] == DOCUMENT
    taken = system.taken(**WHERE, first=DAY[0], last=DAY[1])
    assert taken == {utc(NINE): 1, utc(half_past): 1}
    assert all(start.tzinfo is UTC for start in taken)

    system.move(external_id, half_past, half_past + timedelta(minutes=15))
    assert system.taken(**WHERE, first=DAY[0], last=DAY[1]) == {utc(half_past): 2}

    system.cancel(external_id)
    assert municipal.bookings == {}
    assert system.taken(**WHERE, first=DAY[0], last=DAY[1]) == {utc(half_past): 1}

    methods = [(r.method, r.path) for r in municipal.requests]
    assert methods[2:5] == [
        ("GET", "/api/citas/availability"),
        ("PATCH", "/api/citas/bookings/CITA%2F101"),
        ("GET", "/api/citas/availability"),
    ]
    first = municipal.requests[0]
    assert first.query == {
        "service": "padron",
        "site_id": "3",
        "channel": "cabin_video",
        "from": "2026-12-08T23:00:00+00:00",
        "to": "2026-12-09T23:00:00+00:00",
    }
    assert first.headers["User-Agent"] == USER_AGENT
    assert first.headers["Accept"] == "application/json"


def test_a_council_that_names_fields_its_own_way(connect: Connect) -> None:
    with Municipal(names=SPANISH) as municipal:
        system = connect(municipal.url + "/", field_map=SPANISH)
        external_id = system.book(booking())
        stored = municipal.bookings[external_id]
        assert set(stored) == set(SPANISH.values()) - {"idCita", "ocupadas", "desde", "hasta"}
        assert stored["inicio"] == "2026-12-09T08:00:00+00:00"
        assert stored["idioma"] == "eu"
        assert system.taken(**WHERE, first=DAY[0], last=DAY[1]) == {utc(NINE): 1}
        assert set(municipal.requests[-1].query) == {
            "tramite",
            "oficina",
            "canal",
            "desde",
            "hasta",
        }
        later = NINE + timedelta(hours=1)
        system.move(external_id, later, later + timedelta(minutes=15))
        assert municipal.bookings[external_id]["fin"] == "2026-12-09T09:15:00+00:00"
        system.cancel(external_id)
        assert municipal.bookings == {}


def test_a_full_slot_there_is_a_conflict(municipal: Municipal, connect: Connect) -> None:
    municipal.phoned_in[("padron", 3, "cabin_video", utc(NINE))] = 1
    system = connect(municipal.url)
    system.book(booking("CP-AAAA-AAAA"))

    with pytest.raises(ExternalConflict) as refused:
        system.book(booking("CP-BBBB-BBBB"))
    assert str(refused.value) == (
        "The council's system refused booking CP-BBBB-BBBB: "
        "the slot at 2026-12-09T08:00:00+00:00 is taken there"
    )
    assert len(municipal.bookings) == 1
    assert_no_personal_data(*messages(refused.value))


def test_a_booking_whose_answer_was_lost_can_be_sent_again(
    municipal: Municipal, connect: Connect
) -> None:
    municipal.capacity = 1
    municipal.fault = Drop(done=True)
    with pytest.raises(ExternalUnavailable, match="but got RemoteProtocolError"):
        connect(municipal.url).book(booking())
    assert [b["reference"] for b in municipal.bookings.values()] == ["CP-7K3M-Q9XA"]
    municipal.fault = None
    external_id = connect(municipal.url).book(booking())
    assert connect(municipal.url).book(booking()) == external_id
    assert list(municipal.bookings) == [external_id]


def test_moving_into_a_full_slot_is_a_conflict(municipal: Municipal, connect: Connect) -> None:
    later = NINE + timedelta(hours=1)
    municipal.phoned_in[("padron", 3, "cabin_video", utc(later))] = 2
    system = connect(municipal.url)
    external_id = system.book(booking())

    with pytest.raises(ExternalConflict, match="the slot at 2026-12-09T09:00:00"):
        system.move(external_id, later, later + timedelta(minutes=15))
    assert municipal.bookings[external_id]["starts_at"] == "2026-12-09T08:00:00+00:00"


def test_moving_a_booking_it_does_not_know_is_unavailable(
    municipal: Municipal, connect: Connect
) -> None:
    with pytest.raises(ExternalUnavailable) as failed:
        connect(municipal.url).move("CITA/999", NINE, NINE + timedelta(minutes=15))
    assert str(failed.value) == (
        "Expected status 200 or 204 from the council's system for the move of booking "
        "'CITA/999', but got 404"
    )


def test_cancelling_what_it_no_longer_has_counts_as_cancelled(
    municipal: Municipal, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    connect(municipal.url).cancel("CITA/999")
    assert "no booking CITA/999 to cancel (404)" in caplog.text


def test_an_id_given_as_a_number_is_kept_as_text(municipal: Municipal, connect: Connect) -> None:
    municipal.fault = Answer(200, {"id": 42}, methods=("POST",))
    assert connect(municipal.url).book(booking()) == "42"


def test_bearer_token(connect: Connect) -> None:
    with Municipal(token="s3cret") as municipal:
        assert connect(municipal.url, token=SecretStr("s3cret")).book(booking())
        assert municipal.requests[-1].headers["Authorization"] == "Bearer s3cret"
        with pytest.raises(ExternalUnavailable) as refused:
            connect(municipal.url, token=SecretStr("wrong")).book(booking())
    assert str(refused.value) == (
        "Expected status 200 or 201 from the council's system for booking CP-7K3M-Q9XA, "
        "but got 401 (credentials refused)"
    )
    assert "wrong" not in str(refused.value)


def test_basic_credentials(connect: Connect) -> None:
    with Municipal(basic=("hub", "pass word")) as municipal:
        system = connect(municipal.url, username="hub", password=SecretStr("pass word"))
        assert system.taken(**WHERE, first=DAY[0], last=DAY[1]) == {}
        with pytest.raises(ExternalUnavailable, match="got 401"):
            connect(municipal.url, username="hub", password=SecretStr("nope")).taken(
                **WHERE, first=DAY[0], last=DAY[1]
            )


# What each operation is, so every failure can be tried on each.
OPERATIONS: dict[str, Callable[[RestAppointmentSystem], object]] = {
    "taken": lambda system: system.taken(**WHERE, first=DAY[0], last=DAY[1]),
    "book": lambda system: system.book(booking()),
    "move": lambda system: system.move("CITA/1", NINE, NINE + timedelta(minutes=15)),
    "cancel": lambda system: system.cancel("CITA/1"),
}

FAILURES: dict[str, tuple[Answer | Hang | Drop | None, str]] = {
    "server error": (
        Answer(500, {"error": f"NullPointerException for {DOCUMENT}"}),
        r"from the council's system for .*, but got 500$",
    ),
    "html from a proxy": (Answer(502, b"<html>Bad gateway</html>"), r"but got 502$"),
    "a redirect": (Answer(302, b""), r"but got 302$"),
    "a bad request": (Answer(400, {"error": f"{EMAIL} is not valid"}), r"but got 400$"),
    "timeout": (
        Hang(),
        r"^Expected the council's system to answer .* within 0.3 s, but it did not$",
    ),
    "dropped connection": (
        Drop(),
        r"^Expected to reach the council's system for .*, but got RemoteProtocolError$",
    ),
    "nothing listening": (None, r"^Expected to reach .*, but got ConnectError$"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("failure", FAILURES)
def test_each_failure_is_unavailable_without_personal_data(
    operation: str, failure: str, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fault, message = FAILURES[failure]
    with Municipal() as municipal:
        municipal.fault = fault
        url = closed_port_url() if failure == "nothing listening" else municipal.url
        system = connect(url, timeout_s=0.3)
        with pytest.raises(ExternalUnavailable, match=message) as failed:
            OPERATIONS[operation](system)
    assert_no_personal_data(caplog.text, *messages(failed.value))
    assert "council's system" in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>maintenance</html>", "Expected JSON from the council's system for availability"),
        (b"", "but the answer is not JSON"),
        ({"slots": []}, "Expected a JSON list of slots in the availability, but got an object"),
        ([3], "Expected a JSON object for slot 0 of the availability, but got a number"),
        (
            [{"taken": 1}],
            "Expected a time in 'starts_at' of slot 0 of the availability, but got null",
        ),
        (
            [{"starts_at": 1765267200, "taken": 1}],
            "Expected a time in 'starts_at' of slot 0 of the availability, but got a number",
        ),
        (
            [{"starts_at": "mañana", "taken": 1}],
            "Expected an ISO 8601 time in 'starts_at' of slot 0 of the availability, "
            "but got other text",
        ),
        (
            [
                {"starts_at": "2026-12-09T08:00:00Z", "taken": 1},
                {"starts_at": "2026-12-09T09:00:00", "taken": 1},
            ],
            "Expected a time with an offset in 'starts_at' of slot 1 of the availability, "
            "but got '2026-12-09T09:00:00'",
        ),
        (
            [{"starts_at": "2026-12-09T08:00:00Z", "taken": -1}],
            "Expected places taken ≥ 0 in 'taken' of slot 0 of the availability, but got -1",
        ),
        (
            [{"starts_at": "2026-12-09T08:00:00Z", "taken": "2"}],
            "Expected a whole number in 'taken' of slot 0 of the availability, but got text",
        ),
        (
            [{"starts_at": "2026-12-09T08:00:00Z", "taken": 1.5}],
            "Expected a whole number in 'taken' of slot 0 of the availability, but got a number",
        ),
        (
            [{"starts_at": "2026-12-09T08:00:00Z", "taken": True}],
            "but got a boolean",
        ),
        ([{"starts_at": "2026-12-09T08:00:00Z"}], "but got null"),
    ],
)
def test_nonsense_availability_is_unavailable(
    body: Any, message: str, municipal: Municipal, connect: Connect
) -> None:
    municipal.fault = Answer(200, body)
    with pytest.raises(ExternalUnavailable) as failed:
        connect(municipal.url).taken(**WHERE, first=DAY[0], last=DAY[1])
    assert message in str(failed.value)


def test_availability_ignores_other_times_and_adds_up_repeats(
    municipal: Municipal, connect: Connect
) -> None:
    municipal.fault = Answer(
        200,
        [
            {"starts_at": "2026-12-08T22:45:00Z", "taken": 4},
            {"starts_at": "2026-12-09T09:00:00+01:00", "taken": 1},
            {"starts_at": "2026-12-09T08:00:00Z", "taken": 2, "agent": "A-7"},
            {"starts_at": "2026-12-09T10:00:00+01:00", "taken": 0},
            {"starts_at": "2026-12-09T23:00:00Z", "taken": 5},
        ],
    )
    taken = connect(municipal.url).taken(**WHERE, first=DAY[0], last=DAY[1])
    assert taken == {utc(NINE): 3, utc(NINE + timedelta(hours=1)): 0}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (201, {}, "Expected the booking's id in 'id' for booking CP-7K3M-Q9XA, but got nothing"),
        (201, {"id": None}, "but got null"),
        (
            201,
            {"id": ""},
            "Expected the booking's id in 'id' for booking CP-7K3M-Q9XA, but it is empty",
        ),
        (201, {"id": "  "}, "but it is empty"),
        (201, {"id": True}, "but got a boolean"),
        (201, {"id": {"value": 7}}, "but got an object"),
        (
            201,
            [{"id": "7"}],
            "Expected a JSON object with 'id' for booking CP-7K3M-Q9XA, but got a list",
        ),
        (201, b"Created", "Expected JSON from the council's system for booking CP-7K3M-Q9XA"),
        (202, {"id": "7"}, "Expected status 200 or 201 from the council's system"),
    ],
)
def test_nonsense_booking_answers_are_unavailable(
    status: int,
    body: Any,
    message: str,
    municipal: Municipal,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    municipal.fault = Answer(status, body)
    with pytest.raises(ExternalUnavailable) as failed:
        connect(municipal.url).book(booking())
    assert message in str(failed.value)
    assert_no_personal_data(caplog.text, *messages(failed.value))


def test_a_booking_succeeds_without_personal_data_in_the_logs(
    municipal: Municipal, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    external_id = connect(municipal.url).book(booking())
    assert f"booked CP-7K3M-Q9XA as {external_id}" in caplog.text
    assert_no_personal_data(caplog.text, repr(booking()))


def test_naive_times_from_the_hub_are_refused_before_sending(
    municipal: Municipal, connect: Connect
) -> None:
    system = connect(municipal.url)
    with pytest.raises(ValueError, match="aware datetime for first"):
        system.taken(**WHERE, first=datetime(2026, 12, 9), last=DAY[1])
    with pytest.raises(ValueError, match="aware datetime for starts_at"):
        system.book(booking(starts_at=datetime(2026, 12, 9, 9)))
    assert municipal.requests == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"url": "ftp://council.example/citas"}, "Expected an http:// or https:// URL"),
        ({"url": "citas"}, "Expected an http:// or https:// URL"),
        ({"username": "hub"}, "Expected both appointments.rest.username and password"),
        (
            {"username": "hub", "password": "x", "token": "t"},
            "Expected appointments.rest.token or username and password, but got both",
        ),
        ({"field_map": {"start": "inicio"}}, "field_map keys among id, reference"),
        ({"field_map": {"starts_at": " "}}, "but ['starts_at'] are empty"),
        ({"field_map": {"starts_at": "ends_at"}}, "but ['ends_at'] would name two fields"),
    ],
)
def test_rest_settings_that_cannot_work_are_refused(settings: dict[str, Any], message: str) -> None:
    rest = RestSystemSettings.model_validate({"url": "http://council.example/citas"} | settings)
    with pytest.raises(ValueError) as refused:
        RestAppointmentSystem(rest)
    assert message in str(refused.value)


def test_the_settings_choose_the_system() -> None:
    assert isinstance(build_system(AppointmentSettings()), EmbeddedSystem)
    rest = AppointmentSettings.model_validate(
        {"system": "rest", "rest": {"url": "http://council.example/citas", "token": "t"}}
    )
    system = build_system(rest)
    assert isinstance(system, RestAppointmentSystem)
    system.close()
    with pytest.raises(ValidationError, match=r"Expected \[appointments.rest\]"):
        AppointmentSettings(system="rest")


def test_a_hub_told_to_use_rest_without_its_settings_does_not_start(tmp_path: Path) -> None:
    values = {"data_dir": tmp_path, "secret_key": "s" * 40, "appointments": {"system": "rest"}}
    with pytest.raises(SettingsError) as refused:
        load_settings(HubSettings, None, values)
    assert "setting 'appointments'" in str(refused.value)
    assert "Expected [appointments.rest] (at least its url) when system is 'rest'" in str(
        refused.value
    )
