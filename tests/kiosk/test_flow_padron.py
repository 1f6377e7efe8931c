"""The padrón certificate's part of the flow, driven without a window or a hub."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from contract.events import EventKind
from kiosk.flow import (
    Back,
    CertificatePrinted,
    CertificateReady,
    ChooseCertificate,
    ChooseDateField,
    ChooseEntry,
    ChooseLanguage,
    ConfirmIdentity,
    ConfirmPrint,
    DeviceFailed,
    EraseCitizenData,
    Finish,
    Flow,
    HomeEntry,
    HubLink,
    IdentifyCitizen,
    InvalidChoice,
    IssueCertificate,
    PadronFailed,
    PadronIdentified,
    PadronKey,
    PadronRetry,
    PrintCertificate,
    RecordEvent,
    State,
    SubmitPadron,
    Tick,
    TouchScreen,
    TransitionRefused,
)

PDF = b"%PDF-1.7 certificate of 99990001P"


def type_keys(flow: Flow, keys: str) -> None:
    for key in keys:
        flow.dispatch(PadronKey(key))


def only(out: list[Any], kind: type[Any]) -> Any:
    found = [c for c in out if isinstance(c, kind)]
    assert len(found) == 1, out
    return found[0]


def to_document(flow: Flow, lang: str = "ca") -> None:
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage(lang))
    assert flow.entries()[HomeEntry.PADRON_CERTIFICATE]
    flow.dispatch(ChooseEntry(HomeEntry.PADRON_CERTIFICATE))
    assert flow.state is State.PADRON_DOCUMENT


def identify(flow: Flow, document: str = "99990001P", born: str = "14031984") -> IdentifyCitizen:
    to_document(flow)
    type_keys(flow, document)
    flow.dispatch(SubmitPadron())
    assert flow.state is State.PADRON_BIRTH_DATE
    type_keys(flow, born)
    out = flow.dispatch(SubmitPadron())
    command: IdentifyCitizen = only(out, IdentifyCitizen)
    return command


def to_kind(flow: Flow) -> None:
    command = identify(flow)
    flow.dispatch(PadronIdentified(command.request_id, "ident-1", confirmed=True))
    assert flow.state is State.PADRON_KIND


def ready(flow: Flow, tmp_path: Path, request_id: str) -> CertificateReady:
    preview = tmp_path / "preview.png"
    preview.write_bytes(b"\x89PNG picture of the certificate")
    event = CertificateReady(
        request_id, "cert-1", "W8F8-HGMM", "https://hub/verify/W8F8HGMM", 3, bytearray(PDF), preview
    )
    flow.dispatch(event)
    return event


def test_a_citizen_gets_a_certificate_and_the_visit_forgets_it(
    make_flow: Callable[..., Flow], tmp_path: Path, clock: Any
) -> None:
    flow = make_flow()
    command = identify(flow)
    assert (command.document, command.birth_date, command.language) == (
        "99990001P",
        date(1984, 3, 14),
        "ca",
    )
    assert command.attention_id == flow.session.attention_id
    assert "99990001P" not in repr(command) and "1984" not in repr(command)
    assert flow.padron.busy
    with pytest.raises(InvalidChoice, match="in progress"):
        flow.dispatch(SubmitPadron())

    flow.dispatch(PadronIdentified(command.request_id, "ident-1", confirmed=True))
    assert flow.state is State.PADRON_KIND and not flow.padron.busy
    out = flow.dispatch(ChooseCertificate("collective"))
    issue: IssueCertificate = only(out, IssueCertificate)
    assert (issue.identification_id, issue.kind, issue.language) == ("ident-1", "collective", "ca")
    assert flow.state is State.PADRON_PREVIEW and flow.padron.busy
    with pytest.raises(InvalidChoice, match="in progress"):
        flow.dispatch(ConfirmPrint())

    event = ready(flow, tmp_path, issue.request_id)
    certificate = flow.padron.certificate
    assert certificate is not None and certificate.people == 3 and certificate.kind == "collective"
    out = flow.dispatch(ConfirmPrint())
    printing: PrintCertificate = only(out, PrintCertificate)
    assert printing.pdf is event.pdf and printing.a4 and printing.verify_url.endswith("HGMM")
    assert flow.state is State.PADRON_PRINTING
    clock.advance(flow.config.idle_s * 10)
    flow.dispatch(Tick())
    assert flow.state is State.PADRON_PRINTING, "a print in progress is not cut by inactivity"

    out = flow.dispatch(CertificatePrinted(printing.request_id, "a4"))
    assert flow.state is State.PADRON_DONE and flow.padron.printer == "a4"
    printed: RecordEvent = only(out, RecordEvent)
    assert printed.kind is EventKind.DOCUMENT_PRINTED
    assert printed.data == {
        "document": "padron_certificate",
        "certificate_id": "cert-1",
        "printer": "a4",
    }
    assert "9999" not in repr(printed)

    flow.dispatch(Finish())
    clock.advance(flow.config.goodbye_s)
    out = flow.dispatch(Tick())
    erase: EraseCitizenData = only(out, EraseCitizenData)
    assert event.pdf in erase.session.buffers and event.preview in erase.session.files
    assert flow.padron.document == "" and flow.padron.certificate is None
    assert flow.state is State.ATTRACT


def test_the_keypad_types_only_what_a_document_can_hold(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_document(flow)
    type_keys(flow, "X1234567LZZZ")
    assert flow.padron.document == "X1234567L", "nine characters at most"
    flow.dispatch(PadronKey("erase"))
    assert flow.padron.document == "X1234567"
    for bad in ("Ñ", "I", "ab", ""):
        with pytest.raises(InvalidChoice, match="Expected a key"):
            flow.dispatch(PadronKey(bad))
    assert flow.padron.document == "X1234567"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("1234567", "wrong_length"),
        ("99990001A", "wrong_letter"),
        ("A1234567L", "wrong_nie_prefix"),
        ("X9990001D", "wrong_letter"),
        ("1234X678Z", "non_digits"),
        ("123456789", "no_letter"),
    ],
)
def test_a_wrong_document_is_explained_before_anything_is_sent(
    make_flow: Callable[..., Flow], typed: str, reason: str
) -> None:
    flow = make_flow()
    to_document(flow)
    type_keys(flow, typed)
    out = flow.dispatch(SubmitPadron())
    assert out == [] and flow.state is State.PADRON_DOCUMENT
    problem = flow.padron.problem
    assert problem is not None and (problem.code, problem.reason) == ("invalid_document", reason)
    flow.dispatch(PadronKey("erase"))
    assert flow.padron.problem is None, "typing again clears the message"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("290220", "bad_format"),  # no four-digit year
        ("29022025", "no_such_day"),
        ("31042000", "no_such_day"),
        ("00011990", "no_such_day"),
        ("01132000", "no_such_day"),
        ("01012099", "in_future"),
        ("01011850", "too_old"),
    ],
)
def test_a_date_that_does_not_exist_is_explained_before_anything_is_sent(
    make_flow: Callable[..., Flow], typed: str, reason: str
) -> None:
    flow = make_flow()
    to_document(flow)
    type_keys(flow, "99990001P")
    flow.dispatch(SubmitPadron())
    type_keys(flow, typed)
    out = flow.dispatch(SubmitPadron())
    assert out == [] and flow.state is State.PADRON_BIRTH_DATE
    problem = flow.padron.problem
    assert problem is not None and (problem.code, problem.reason) == ("invalid_birth_date", reason)


def test_the_date_fields_fill_in_turn_and_can_be_chosen(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    to_document(flow)
    type_keys(flow, "99990001P")
    flow.dispatch(SubmitPadron())
    type_keys(flow, "0")
    flow.dispatch(ChooseDateField("month"))
    type_keys(flow, "3")
    flow.dispatch(ChooseDateField("day"))
    type_keys(flow, "1")
    assert flow.padron.date_field == "month", "a full day moves on to the month"
    flow.dispatch(ChooseDateField("year"))
    type_keys(flow, "19845")
    visit = flow.padron
    assert (visit.day, visit.month, visit.year) == ("01", "3", "1984")
    assert visit.birth_date_text() == "1984-03-01"
    for _ in range(5):
        flow.dispatch(PadronKey("erase"))
    assert (visit.day, visit.month, visit.year, visit.date_field) == ("01", "", "", "month")
    with pytest.raises(InvalidChoice, match="day"):
        flow.dispatch(ChooseDateField("week"))  # type: ignore[arg-type]
    flow.dispatch(Back())
    assert flow.state is State.PADRON_DOCUMENT and flow.padron.document == "99990001P"


def test_a_one_time_code_is_asked_for_and_a_wrong_one_typed_again(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    command = identify(flow)
    flow.dispatch(
        PadronIdentified(
            command.request_id, "ident-1", confirmed=False, masked_destination="a•••@e•••.org"
        )
    )
    assert flow.state is State.PADRON_CODE
    flow.dispatch(SubmitPadron())
    assert flow.padron.problem is not None and flow.padron.problem.code == "empty_code"
    type_keys(flow, "123456")
    confirm: ConfirmIdentity = only(flow.dispatch(SubmitPadron()), ConfirmIdentity)
    assert (confirm.identification_id, confirm.code) == ("ident-1", "123456")
    flow.dispatch(
        PadronFailed(confirm.request_id, "wrong_code", "El codi no és correcte.", attempts_left=2)
    )
    assert flow.state is State.PADRON_CODE and flow.padron.code == ""
    assert flow.padron.problem is not None and flow.padron.problem.attempts_left == 2
    type_keys(flow, "654321")
    confirm = only(flow.dispatch(SubmitPadron()), ConfirmIdentity)
    flow.dispatch(PadronIdentified(confirm.request_id, "ident-1", confirmed=True))
    assert State(flow.state) is State.PADRON_KIND


@pytest.mark.parametrize(
    ("code", "state", "retry"),
    [
        ("not_found", State.PADRON_DOCUMENT, None),
        ("invalid_birth_date", State.PADRON_BIRTH_DATE, None),
        ("not_registered", State.PADRON_PROBLEM, None),
        ("no_contact", State.PADRON_PROBLEM, None),
        ("too_many_attempts", State.PADRON_PROBLEM, None),
        ("source_timeout", State.PADRON_PROBLEM, State.PADRON_BIRTH_DATE),
        ("hub_unreachable", State.PADRON_PROBLEM, State.PADRON_BIRTH_DATE),
        ("identification_invalid", State.PADRON_PROBLEM, State.PADRON_DOCUMENT),
    ],
)
def test_each_refusal_leads_where_the_citizen_can_act(
    make_flow: Callable[..., Flow], code: str, state: State, retry: State | None
) -> None:
    flow = make_flow()
    command = identify(flow)
    retry_at = datetime(2025, 3, 14, 9, 45, tzinfo=UTC)
    flow.dispatch(PadronFailed(command.request_id, code, f"message for {code}", retry_at=retry_at))
    assert flow.state is state and not flow.padron.busy
    problem = flow.padron.problem
    assert problem is not None and problem.message == f"message for {code}"
    assert problem.retry_at == retry_at
    if state is not State.PADRON_PROBLEM:
        return
    assert flow.padron.retry is retry
    if retry is None:
        with pytest.raises(InvalidChoice, match="trying again"):
            flow.dispatch(PadronRetry())
        flow.dispatch(Back())
        assert flow.state is State.HOME
    else:
        flow.dispatch(PadronRetry())
        assert flow.state is retry and flow.padron.problem is None
        assert flow.padron.document == "99990001P", "the citizen need not type it again"


def test_a_printer_out_of_paper_is_said_and_the_ticket_takes_over(
    make_flow: Callable[..., Flow], tmp_path: Path
) -> None:
    flow = make_flow()
    to_kind(flow)
    issue = only(flow.dispatch(ChooseCertificate("individual")), IssueCertificate)
    ready(flow, tmp_path, issue.request_id)
    printing = only(flow.dispatch(ConfirmPrint()), PrintCertificate)
    flow.dispatch(DeviceFailed(device="a4_printer", code="paper_out"))
    out = flow.dispatch(PadronFailed(printing.request_id, "paper_out"))
    assert out == [] and flow.state is State.PADRON_PROBLEM
    assert flow.padron.problem is not None and flow.padron.problem.code == "paper_out"
    flow.dispatch(PadronRetry())
    assert State(flow.state) is State.PADRON_PREVIEW
    printing = only(flow.dispatch(ConfirmPrint()), PrintCertificate)
    assert printing.a4 is False, "with the A4 printer out of paper, a receipt with the CSV"
    flow.dispatch(CertificatePrinted(printing.request_id, "receipt"))
    assert State(flow.state) is State.PADRON_DONE and flow.padron.printer == "receipt"


def test_answers_for_a_request_the_citizen_left_are_ignored_and_erased(
    make_flow: Callable[..., Flow], tmp_path: Path
) -> None:
    flow = make_flow()
    to_kind(flow)
    issue = only(flow.dispatch(ChooseCertificate("individual")), IssueCertificate)
    flow.dispatch(Back())
    assert flow.state is State.PADRON_KIND and not flow.padron.busy
    late = ready(flow, tmp_path, issue.request_id)
    assert flow.padron.certificate is None and flow.state is State.PADRON_KIND
    assert late.pdf == bytearray(len(PDF)), "the late PDF is zeroed at once"
    assert late.preview in flow.session.files, "and its picture left for the reset"
    flow.dispatch(PadronIdentified("another-request", "ident-2", confirmed=True))
    flow.dispatch(PadronFailed("another-request", "not_found"))
    assert flow.state is State.PADRON_KIND and flow.padron.problem is None


def test_the_entry_needs_the_hub_and_a_printer(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("es"))
    flow.dispatch(DeviceFailed(device="a4_printer", code="paper_out"))
    assert flow.entries()[HomeEntry.PADRON_CERTIFICATE], "the receipt printer can do it"
    flow.dispatch(DeviceFailed(device="receipt_printer", code="cover_open"))
    assert not flow.entries()[HomeEntry.PADRON_CERTIFICATE]
    with pytest.raises(InvalidChoice, match="available"):
        flow.dispatch(ChooseEntry(HomeEntry.PADRON_CERTIFICATE))
    offline = make_flow()
    offline.dispatch(TouchScreen())
    offline.dispatch(ChooseLanguage("es"))
    offline.dispatch(HubLink(online=False))
    assert not offline.entries()[HomeEntry.PADRON_CERTIFICATE]


def test_padron_events_are_refused_elsewhere_and_back_walks_home(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    with pytest.raises(TransitionRefused, match="PadronKey"):
        flow.dispatch(PadronKey("1"))
    to_kind(flow)
    with pytest.raises(TransitionRefused, match="ConfirmPrint"):
        flow.dispatch(ConfirmPrint())
    with pytest.raises(InvalidChoice, match="individual or collective"):
        flow.dispatch(ChooseCertificate("family"))  # type: ignore[arg-type]
    flow.dispatch(Back())
    assert flow.state is State.HOME and flow.padron.identification_id is None
    assert flow.padron.document == ""
