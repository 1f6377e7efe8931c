"""Issuing a certificate: from a confirmed identification to a sealed PDF and a log event.

The slow parts (reading the household, rendering the PDF) happen before the write
transaction; inside it the identification is used once more, the certificate row is stored
and ``certificate.issued`` is appended to the attention's log, all or nothing. The event names
the certificate, its kind and language, the channel (cabin or agent) and an opaque reference
of the registration (a keyed hash), never personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from contract.clock import Clock
from contract.events import EventKind, NewEvent
from hub.attention_log import AttentionLog
from hub.models import Attention, Site
from hub.padron import csv_code
from hub.padron.caller import Caller, NotYourAttention
from hub.padron.certificate import CertificateData, CertificateRenderer
from hub.padron.errors import CertificateUnavailable, NotRegistered
from hub.padron.identification import Identifier
from hub.padron.models import PadronCertificate
from hub.padron.settings import PadronSettings
from hub.padron.source import PadronSource, Resident

logger = logging.getLogger(__name__)

KINDS = ("individual", "collective")


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate just issued."""

    certificate_id: str
    csv: str
    verify_url: str
    kind: str
    language: str
    people: int
    issued_at: datetime


def verify_url(public_url: str, code: str) -> str:
    """The address a certificate's QR code opens."""
    return f"{public_url.rstrip('/')}/verify/{code}"


class Issuer:
    """Issues certificates and hands their PDF to whoever asked for them."""

    def __init__(
        self,
        settings: PadronSettings,
        log: AttentionLog,
        source: PadronSource,
        identifier: Identifier,
        renderer: CertificateRenderer,
        *,
        secret: str,
        timezone: str,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.log = log
        self.source = source
        self.identifier = identifier
        self.renderer = renderer
        self.zone = ZoneInfo(timezone)
        self.clock = clock
        self._csv_key = csv_code.signing_key(secret)
        self._ref_key = hmac.new(
            secret.encode(), b"cabina padron registration v1", "sha256"
        ).digest()

    def registration_ref(self, registration: str) -> str:
        """The opaque reference of a registration that the log records."""
        digest = hmac.new(self._ref_key, registration.encode(), hashlib.sha256).hexdigest()
        return f"r1-{digest[:40]}"

    def _site(self, attention_id: str) -> tuple[int | None, int | None, str]:
        with self.log.database.session() as session:
            attention = session.get(Attention, attention_id)
            if attention is None:
                raise NotYourAttention(
                    f"Expected attention {attention_id} to exist, but it does not"
                )
            site = session.get(Site, attention.site_id) if attention.site_id else None
            return attention.cabin_id, attention.site_id, site.name if site else ""

    def issue(
        self, caller: Caller, identification_id: str, kind: str, language: str, public_url: str
    ) -> Issued:
        """Issue a certificate of ``kind`` in ``language`` for a confirmed identification."""
        if kind not in KINDS:
            raise ValueError(f"Expected kind individual or collective, but got {kind!r}")
        found = self.identifier.peek(caller, identification_id)
        household = self.source.household(found.registration_ref)
        holder = household.member(found.resident_ref) if household else None
        if household is None or holder is None:
            raise NotRegistered("Expected the person still registered at the address, but no")
        people: tuple[Resident, ...] = household.residents if kind == "collective" else (holder,)
        cabin_id, site_id, site_name = self._site(found.attention_id)
        certificate_id = str(uuid.uuid4())
        code = csv_code.derive(self._csv_key, certificate_id)
        issued_at = self.clock()
        url = verify_url(public_url, code)
        pdf = self.renderer.render(
            CertificateData(
                council=self.settings.council_name,
                kind=kind,
                language=language,
                address=household.address,
                people=people,
                issued_at=issued_at.astimezone(self.zone),
                site=site_name or self.settings.council_name,
                csv=code,
                verify_url=url,
                verify_page=f"{public_url.rstrip('/')}/verify",
            )
        )
        registration_ref = self.registration_ref(found.registration_ref)
        with self.log.writing() as session:
            claimed = self.identifier.claim(session, caller, identification_id)
            if claimed.id != found.id:  # pragma: no cover - a token maps to one row
                raise CertificateUnavailable("Expected the same identification, but it changed")
            session.add(
                PadronCertificate(
                    id=certificate_id,
                    csv_hash=csv_code.lookup_hash(code),
                    kind=kind,
                    language=language,
                    attention_id=found.attention_id,
                    channel=caller.channel,
                    cabin_id=cabin_id,
                    agent_id=caller.agent_id,
                    site_id=site_id,
                    registration_ref=registration_ref,
                    holder_initials=holder.initials,
                    people=len(people),
                    issued_at=issued_at,
                    revoked_at=None,
                    revoked_by=None,
                    revoked_reason=None,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                    pdf_sealed=csv_code.seal(pdf, code, certificate_id),
                )
            )
            self.log.append_in(
                session,
                NewEvent(
                    event_id=str(uuid.uuid4()),
                    kind=EventKind.CERTIFICATE_ISSUED,
                    attention_id=found.attention_id,
                    actor=caller.actor,
                    occurred_at=issued_at,
                    data={
                        "certificate_id": certificate_id,
                        "kind": kind,
                        "language": language,
                        "channel": caller.channel,
                        "registration_ref": registration_ref,
                        "people": len(people),
                        "citizen_ref": found.citizen_ref,
                    },
                ),
            )
        logger.info("certificate %s issued (%s, %s)", certificate_id, kind, caller.channel)
        return Issued(certificate_id, code, url, kind, language, len(people), issued_at)

    def pdf_for(self, caller: Caller, certificate_id: str) -> bytes:
        """The PDF of a certificate, for the cabin of its attention or the agent who asked."""
        with self.log.database.session() as session:
            row = session.scalars(
                select(PadronCertificate).where(PadronCertificate.id == certificate_id)
            ).one_or_none()
        if row is None:
            raise LookupError(f"No certificate {certificate_id}")
        allowed = (caller.cabin_id is not None and row.cabin_id == caller.cabin_id) or (
            caller.agent_id is not None and row.agent_id == caller.agent_id
        )
        if not allowed:
            raise NotYourAttention(
                f"Expected the cabin or agent that asked for certificate {certificate_id}, "
                "but got another"
            )
        if self.clock() > row.issued_at + timedelta(seconds=self.settings.fetch_window_s):
            raise NotYourAttention(
                f"Expected to fetch certificate {certificate_id} within "
                f"{self.settings.fetch_window_s:.0f} s of its issue, but that time has passed"
            )
        code = csv_code.derive(self._csv_key, certificate_id)
        try:
            return csv_code.unseal(row.pdf_sealed, code, certificate_id)
        except csv_code.SealError as exc:
            # The hub's secret changed since the issue: the code printed still verifies it.
            raise CertificateUnavailable(str(exc)) from exc
