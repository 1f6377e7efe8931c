"""The part of :class:`kiosk.flow.Flow` that serves a padrón certificate, with no agent. ::

    HOME ─► PADRON_DOCUMENT ─► PADRON_BIRTH_DATE ─► [PADRON_CODE] ─► PADRON_KIND ─► PADRON_PREVIEW
                 ▲                    │ identify          │ confirm       │ issue       │ print
                 └── not found ───────┘                                                 ▼
       PADRON_PROBLEM ◄── refusals, hub unreachable, printer faults ── PADRON_PRINTING ─► DONE

The citizen types on the flow's keypads (:class:`~kiosk.flow.events.PadronKey`), so what they
typed lives in :class:`PadronVisit` and nowhere else; the privacy reset replaces it, zeroes the
PDF's buffer and shreds the preview. The document and the date are checked with
:mod:`contract.identity` before anything is sent: it is pure Python (no database, no
network), the very rules the hub applies, so the cabin and the hub cannot disagree.

Each request to the hub or a printer carries a request id; an answer for another request (the
citizen went back, or left) is ignored, and any PDF or picture it brought is handed to the
session so that the reset erases it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from contract.events import EventKind
from contract.identity import (
    CONTROL_LETTERS,
    NIE_PREFIXES,
    InvalidBirthDate,
    InvalidDocument,
    parse_birth_date,
    parse_document,
)
from kiosk.flow import commands as cmd
from kiosk.flow import events as ev
from kiosk.flow.errors import InvalidChoice
from kiosk.flow.states import PADRON_STATES, State
from kiosk.session import Session

logger = logging.getLogger(__name__)

S = State
#: What the document keypad types: digits, the NIE prefixes and the control letters.
DOCUMENT_KEYS = "0123456789" + "".join(sorted(set(CONTROL_LETTERS) | set(NIE_PREFIXES)))
ERASE = "erase"
DOCUMENT_CHARS = 9
DATE_FIELDS: dict[str, int] = {"day": 2, "month": 2, "year": 4}
CODE_CHARS = 8
#: Refusals after which the citizen may fix what they typed, and on which screen.
_FIX_ON: dict[str, State] = {
    "invalid_document": S.PADRON_DOCUMENT,
    "not_found": S.PADRON_DOCUMENT,
    "invalid_birth_date": S.PADRON_BIRTH_DATE,
    "wrong_code": S.PADRON_CODE,
}
#: Refusals that trying again cannot change: the citizen needs an agent (or another day).
_FINAL = frozenset({"not_registered", "no_contact", "too_many_attempts"})
#: Refusals that end the identification: trying again means identifying again.
_IDENTIFY_AGAIN = frozenset({"identification_invalid"})


@dataclass(frozen=True, slots=True)
class PadronProblem:
    """What went wrong, for the screen to say: a code and the hub's message, if it sent one."""

    code: str
    message: str | None = None
    reason: str | None = None
    attempts_left: int | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Certificate:
    """The certificate issued in this visit, as the screens and the printer need it."""

    certificate_id: str
    csv: str = field(repr=False)
    verify_url: str = field(repr=False)
    people: int
    kind: str


@dataclass(eq=False)
class PadronVisit:
    """One citizen's padrón errand: what they typed and what the hub answered."""

    document: str = field(default="", repr=False)
    day: str = field(default="", repr=False)
    month: str = field(default="", repr=False)
    year: str = field(default="", repr=False)
    date_field: str = "day"
    code: str = field(default="", repr=False)
    identification_id: str | None = field(default=None, repr=False)
    masked_destination: str | None = field(default=None, repr=False)
    holder_initials: str | None = field(default=None, repr=False)
    kind: str | None = None
    certificate: Certificate | None = None
    pdf: bytearray | None = field(default=None, repr=False)
    preview: Path | None = field(default=None, repr=False)
    #: Where the certificate came out: ``a4`` or ``receipt``.
    printer: str | None = None
    #: The id of the request the flow waits for; None when nothing is pending.
    request_id: str | None = None
    problem: PadronProblem | None = None
    #: Where "try again" leads from the problem screen; None when it cannot help.
    retry: State | None = None

    @property
    def busy(self) -> bool:
        """Whether the hub or a printer is working on this errand."""
        return self.request_id is not None

    def birth_date_text(self) -> str:
        """The date as typed, ``YYYY-MM-DD`` (a one-digit day or month counts as typed)."""
        return f"{self.year}-{self.month.zfill(2)}-{self.day.zfill(2)}"


class PadronHandlers:
    """Handlers for the padrón certificate's screens; mixed into the flow."""

    state: State
    session: Session
    device_faults: dict[str, str]
    hub_online: bool
    padron: PadronVisit
    _out: list[cmd.Command]
    _new_id: Callable[[], str]
    _now: Callable[[], datetime]

    def _go(self, state: State) -> None:
        raise NotImplementedError

    def _record(self, kind: EventKind, **data: Any) -> None:
        raise NotImplementedError

    # --- what screens read ------------------------------------------------------------------

    @property
    def padron_available(self) -> bool:
        """Whether a certificate can be issued and printed now."""
        printers = {"a4_printer", "receipt_printer"}
        return self.hub_online and not printers <= self.device_faults.keys()

    # --- helpers ----------------------------------------------------------------------------

    def _start_padron(self) -> None:
        self.padron = PadronVisit()
        self._go(S.PADRON_DOCUMENT)

    def _request(self) -> str:
        request_id = self._new_id()
        self.padron.request_id = request_id
        return request_id

    def _answers(self, request_id: str) -> bool:
        """Whether ``request_id`` is the one the flow waits for (and stop waiting if so)."""
        if self.state not in PADRON_STATES or request_id != self.padron.request_id:
            return False
        self.padron.request_id = None
        return True

    def _refuse_busy(self) -> None:
        if self.padron.busy:
            raise InvalidChoice("Expected no padrón request in progress, but one is")

    def _padron_back(self) -> None:
        """Back one padrón screen; whatever was pending is forgotten."""
        visit = self.padron
        visit.request_id = None
        visit.problem = None
        if self.state is S.PADRON_BIRTH_DATE:
            self._go(S.PADRON_DOCUMENT)
        elif self.state is S.PADRON_CODE:
            visit.code = ""
            visit.identification_id = None
            self._go(S.PADRON_BIRTH_DATE)
        elif self.state is S.PADRON_PREVIEW:
            self._go(S.PADRON_KIND)
        else:
            self.padron = PadronVisit()
            self._go(S.HOME)

    def _problem(self, e: ev.PadronFailed) -> None:
        visit = self.padron
        visit.problem = PadronProblem(e.code, e.message, e.reason, e.attempts_left, e.retry_at)
        fix_on = _FIX_ON.get(e.code)
        if fix_on is not None and self.state is not S.PADRON_PRINTING:
            if fix_on is S.PADRON_CODE:
                visit.code = ""
            self._go(fix_on)
            return
        if e.code in _FINAL:
            visit.retry = None
        elif e.code in _IDENTIFY_AGAIN:
            visit.retry = S.PADRON_DOCUMENT
        elif self.state is S.PADRON_PRINTING:
            visit.retry = S.PADRON_PREVIEW
        elif self.state is S.PADRON_PREVIEW:
            visit.retry = S.PADRON_KIND
        else:
            # The hub or the padrón did not answer: the same request may work in a moment.
            visit.retry = self.state
        self._go(S.PADRON_PROBLEM)

    # --- the citizen ------------------------------------------------------------------------

    def _on_padron_key(self, e: ev.PadronKey) -> None:
        self._refuse_busy()
        visit = self.padron
        visit.problem = None
        if self.state is S.PADRON_DOCUMENT:
            visit.document = _typed(visit.document, e.key, DOCUMENT_KEYS, DOCUMENT_CHARS)
        elif self.state is S.PADRON_CODE:
            visit.code = _typed(visit.code, e.key, "0123456789", CODE_CHARS)
        else:
            self._date_key(e.key)

    def _date_key(self, key: str) -> None:
        visit = self.padron
        names = list(DATE_FIELDS)
        current = visit.date_field
        typed: str = getattr(visit, current)
        if key == ERASE and not typed and current != names[0]:
            # Erasing an empty field goes on erasing the one before it, as on a phone.
            current = visit.date_field = names[names.index(current) - 1]
            typed = getattr(visit, current)
        setattr(visit, current, _typed(typed, key, "0123456789", DATE_FIELDS[current]))
        full = len(getattr(visit, current)) == DATE_FIELDS[current]
        if key != ERASE and full and current != names[-1]:
            visit.date_field = names[names.index(current) + 1]

    def _on_choose_date_field(self, e: ev.ChooseDateField) -> None:
        if e.field not in DATE_FIELDS:
            raise InvalidChoice(f"Expected one of {tuple(DATE_FIELDS)}, but got {e.field!r}")
        self.padron.date_field = e.field

    def _on_submit_padron(self, _e: ev.SubmitPadron) -> None:
        self._refuse_busy()
        visit = self.padron
        language = self.session.language
        if self.state is S.PADRON_DOCUMENT:
            try:
                parse_document(visit.document)
            except InvalidDocument as exc:
                visit.problem = PadronProblem(exc.code, reason=exc.reason)
                return
            visit.problem = None
            self._go(S.PADRON_BIRTH_DATE)
        elif self.state is S.PADRON_BIRTH_DATE:
            try:
                born = self._birth_date()
            except InvalidBirthDate as exc:
                visit.problem = PadronProblem(exc.code, reason=exc.reason)
                return
            attention_id = self.session.attention_id
            assert attention_id is not None, "the padrón errand belongs to an attention"
            visit.problem = None
            document = parse_document(visit.document).number
            identify = cmd.IdentifyCitizen(self._request(), attention_id, document, born, language)
            self._out.append(identify)
        else:
            if not visit.code:
                visit.problem = PadronProblem("empty_code")
                return
            assert visit.identification_id is not None
            visit.problem = None
            confirm = cmd.ConfirmIdentity(
                self._request(), visit.identification_id, visit.code, language
            )
            self._out.append(confirm)

    def _birth_date(self) -> date:
        visit = self.padron
        if not (visit.day and visit.month and len(visit.year) == 4):
            raise InvalidBirthDate(
                "Expected a day, a month and a four-digit year, but one is missing",
                reason="bad_format",
            )
        return parse_birth_date(visit.birth_date_text(), today=self._now().date())

    def _on_choose_certificate(self, e: ev.ChooseCertificate) -> None:
        if e.kind not in ("individual", "collective"):
            raise InvalidChoice(f"Expected individual or collective, but got {e.kind!r}")
        visit = self.padron
        assert visit.identification_id is not None
        self._drop_certificate()
        visit.kind = e.kind
        visit.problem = None
        issue = cmd.IssueCertificate(
            self._request(), visit.identification_id, e.kind, self.session.language
        )
        self._out.append(issue)
        self._go(S.PADRON_PREVIEW)

    def _drop_certificate(self) -> None:
        visit = self.padron
        if visit.pdf is not None:
            # Another certificate replaces this one: its bytes go now, not at the reset.
            visit.pdf[:] = bytes(len(visit.pdf))
        visit.certificate = visit.pdf = visit.preview = None

    def _on_confirm_print(self, _e: ev.ConfirmPrint) -> None:
        self._refuse_busy()
        visit = self.padron
        if visit.certificate is None or visit.pdf is None:
            raise InvalidChoice("Expected a certificate to print, but there is none yet")
        visit.problem = None
        self._out.append(
            cmd.PrintCertificate(
                self._request(),
                visit.pdf,
                visit.certificate.csv,
                visit.certificate.verify_url,
                self.session.language,
                a4="a4_printer" not in self.device_faults,
            )
        )
        self._go(S.PADRON_PRINTING)

    def _on_padron_retry(self, _e: ev.PadronRetry) -> None:
        visit = self.padron
        target = visit.retry
        if target is None:
            raise InvalidChoice("Expected a problem that trying again can solve, but not this")
        visit.problem = None
        visit.retry = None
        if target is S.PADRON_DOCUMENT:
            self.padron = PadronVisit(document=visit.document)
        self._go(target)

    # --- the hub and the printers -----------------------------------------------------------

    def _on_padron_identified(self, e: ev.PadronIdentified) -> None:
        if not self._answers(e.request_id):
            return
        visit = self.padron
        visit.identification_id = e.identification_id
        visit.masked_destination = e.masked_destination
        visit.holder_initials = e.holder_initials
        visit.problem = None
        visit.code = ""
        self._go(S.PADRON_KIND if e.confirmed else S.PADRON_CODE)

    def _on_certificate_ready(self, e: ev.CertificateReady) -> None:
        # Whatever happens next, the reset must find these bytes and this picture.
        self.session.buffers.append(e.pdf)
        if e.preview is not None:
            self.session.keep_file(e.preview)
        if not self._answers(e.request_id) or self.state is not S.PADRON_PREVIEW:
            e.pdf[:] = bytes(len(e.pdf))
            return
        visit = self.padron
        kind = visit.kind or "individual"
        visit.certificate = Certificate(e.certificate_id, e.csv, e.verify_url, e.people, kind)
        visit.pdf = e.pdf
        visit.preview = e.preview

    def _on_certificate_printed(self, e: ev.CertificatePrinted) -> None:
        if not self._answers(e.request_id):
            return
        visit = self.padron
        assert visit.certificate is not None
        visit.printer = e.printer
        self._record(
            EventKind.DOCUMENT_PRINTED,
            document="padron_certificate",
            certificate_id=visit.certificate.certificate_id,
            printer=e.printer,
        )
        self._go(S.PADRON_DONE)

    def _on_padron_failed(self, e: ev.PadronFailed) -> None:
        if not self._answers(e.request_id):
            return
        logger.info("padrón errand: %s in %s", e.code, self.state.value)
        self._problem(e)


_Handler = Callable[[PadronHandlers, Any], None]
#: Each padrón event, with its handler (merged into :data:`kiosk.flow.machine.HANDLERS`).
PADRON_HANDLERS: Mapping[type[Any], _Handler] = {
    ev.PadronKey: PadronHandlers._on_padron_key,
    ev.ChooseDateField: PadronHandlers._on_choose_date_field,
    ev.SubmitPadron: PadronHandlers._on_submit_padron,
    ev.ChooseCertificate: PadronHandlers._on_choose_certificate,
    ev.ConfirmPrint: PadronHandlers._on_confirm_print,
    ev.PadronRetry: PadronHandlers._on_padron_retry,
    ev.PadronIdentified: PadronHandlers._on_padron_identified,
    ev.CertificateReady: PadronHandlers._on_certificate_ready,
    ev.CertificatePrinted: PadronHandlers._on_certificate_printed,
    ev.PadronFailed: PadronHandlers._on_padron_failed,
}


def _typed(text: str, key: str, allowed: str, limit: int) -> str:
    """``text`` after pressing ``key`` on a keypad of ``allowed`` keys holding ``limit``."""
    if key == ERASE:
        return text[:-1]
    if len(key) != 1 or key not in allowed:
        raise InvalidChoice(f"Expected a key among {allowed!r} or 'erase', but got another")
    return text if len(text) >= limit else text + key
