"""The padrón certificate's screens for the tour (:mod:`kiosk.devtools.tour`), with sample data.

The sample citizen is one of the demo residents (``hub/padron/demo_residents.py``): a
fictitious person with a DNI of valid form in the ``9999…`` range.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from cabina.identity_texts import locked_out_text
from kiosk.flow import (
    CertificatePrinted,
    CertificateReady,
    ChooseCertificate,
    ChooseEntry,
    ChooseLanguage,
    ConfirmPrint,
    Flow,
    HomeEntry,
    PadronFailed,
    PadronIdentified,
    PadronKey,
    SubmitPadron,
    TouchScreen,
)

Reach = Callable[[Flow, Path], None]
SAMPLE_DOCUMENT = "99990001P"
SAMPLE_BIRTH = "1403198"  # the year still being typed
SAMPLE_CSV = "W8F8-HGMM-B4BV-R1BK-HMZW-D7XK-4KM4"


def _pending(flow: Flow) -> str:
    request_id = flow.padron.request_id
    assert request_id is not None, "the tour expected a padrón request in progress"
    return request_id


def _keys(flow: Flow, keys: str) -> None:
    for key in keys:
        flow.dispatch(PadronKey(key))


def padron_scenes(
    lang: str, now: datetime, sample_page: Callable[[Path], Path]
) -> list[tuple[str, Reach]]:
    """Each padrón screen's name and how a fresh flow reaches it, in ``lang``."""

    def document(flow: Flow, _folder: Path) -> None:
        flow.dispatch(TouchScreen())
        flow.dispatch(ChooseLanguage(lang))
        flow.dispatch(ChooseEntry(HomeEntry.PADRON_CERTIFICATE))
        _keys(flow, SAMPLE_DOCUMENT[:-1])

    def birth_date(flow: Flow, folder: Path) -> None:
        document(flow, folder)
        _keys(flow, SAMPLE_DOCUMENT[-1])
        flow.dispatch(SubmitPadron())
        _keys(flow, SAMPLE_BIRTH)

    def identified(flow: Flow, folder: Path, *, confirmed: bool) -> None:
        birth_date(flow, folder)
        _keys(flow, "4")
        flow.dispatch(SubmitPadron())
        flow.dispatch(
            PadronIdentified(
                _pending(flow),
                "sample-identification",
                confirmed,
                masked_destination=None if confirmed else "a•••@e•••.org",
                holder_initials="A. P. E." if confirmed else None,
            )
        )

    def code(flow: Flow, folder: Path) -> None:
        identified(flow, folder, confirmed=False)
        _keys(flow, "482")

    def kind(flow: Flow, folder: Path) -> None:
        identified(flow, folder, confirmed=True)

    def preview(flow: Flow, folder: Path) -> None:
        kind(flow, folder)
        flow.dispatch(ChooseCertificate("collective"))
        page = sample_page(folder / "certificate.png")
        flow.dispatch(
            CertificateReady(
                _pending(flow),
                "sample-certificate",
                SAMPLE_CSV,
                "https://cabina.example.org/verify/" + SAMPLE_CSV.replace("-", ""),
                3,
                bytearray(b"%PDF-1.7 sample"),
                page,
            )
        )

    def printing(flow: Flow, folder: Path) -> None:
        preview(flow, folder)
        flow.dispatch(ConfirmPrint())

    def done(flow: Flow, folder: Path) -> None:
        printing(flow, folder)
        flow.dispatch(CertificatePrinted(_pending(flow), "a4"))

    def problem(flow: Flow, folder: Path) -> None:
        birth_date(flow, folder)
        _keys(flow, "4")
        flow.dispatch(SubmitPadron())
        retry_at = now + timedelta(minutes=15)
        # What the hub answers after too many attempts, in the words the hub uses.
        message = locked_out_text(lang)
        flow.dispatch(PadronFailed(_pending(flow), "too_many_attempts", message, retry_at=retry_at))

    return [
        ("padron_document", document),
        ("padron_birth_date", birth_date),
        ("padron_code", code),
        ("padron_kind", kind),
        ("padron_preview", preview),
        ("padron_printing", printing),
        ("padron_done", done),
        ("padron_problem", problem),
    ]
