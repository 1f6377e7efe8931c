"""What the public verification page may say about a certificate, and revoking one.

A verifier holds the CSV printed on a certificate. By it the hub finds the certificate (by the
code's hash), says whether it is genuine or revoked, when and where it was issued, and hands
back the original PDF (unsealed with the same code). It shows nothing more than the
certificate itself does: on the page only the holder's initials.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from contract.clock import Clock
from contract.events import EventKind, actor_for_user
from hub.attention_log import AttentionLog
from hub.audit import audit_in
from hub.models import Site
from hub.padron import csv_code
from hub.padron.models import PadronCertificate

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the page says about a code: ``genuine``, ``revoked``, ``unknown`` or ``mistyped``."""

    status: str
    code: str | None = None
    issued_at: datetime | None = None
    site: str | None = None
    kind: str | None = None
    language: str | None = None
    holder_initials: str | None = None
    people: int | None = None
    revoked_at: datetime | None = None


class Verifier:
    """Looks certificates up by their CSV."""

    def __init__(self, log: AttentionLog, *, clock: Clock) -> None:
        self.log = log
        self.database = log.database
        self.clock = clock

    def _row(self, code: str) -> tuple[PadronCertificate, str | None] | None:
        with self.database.session() as session:
            row = session.execute(
                select(PadronCertificate, Site.name)
                .outerjoin(Site, Site.id == PadronCertificate.site_id)
                .where(PadronCertificate.csv_hash == csv_code.lookup_hash(code))
            ).one_or_none()
            return None if row is None else (row[0], row[1])

    def verdict(self, text: str) -> Verdict:
        """The verdict on what someone typed or scanned."""
        try:
            code = csv_code.parse(text)
        except csv_code.MalformedCode:
            return Verdict("mistyped")
        found = self._row(code)
        if found is None:
            return Verdict("unknown", code=code)
        row, site = found
        return Verdict(
            "revoked" if row.revoked_at is not None else "genuine",
            code=code,
            issued_at=row.issued_at,
            site=site,
            kind=row.kind,
            language=row.language,
            holder_initials=row.holder_initials,
            people=row.people,
            revoked_at=row.revoked_at,
        )

    def original_pdf(self, text: str) -> bytes | None:
        """The PDF of a genuine certificate, or ``None`` (unknown, revoked or mistyped code)."""
        try:
            code = csv_code.parse(text)
        except csv_code.MalformedCode:
            return None
        found = self._row(code)
        if found is None or found[0].revoked_at is not None:
            return None
        row = found[0]
        return csv_code.unseal(row.pdf_sealed, code, row.id)

    def revoke(self, certificate_id: str, *, by_user: int, reason: str) -> PadronCertificate:
        """Mark a certificate revoked; revoking twice keeps the first date and reason.

        The revocation is an ``audit.certificate_revoked`` event, written with it; the reason
        stays with the certificate only (it may name the citizen).
        """
        with self.log.writing() as session:
            row = session.get(PadronCertificate, certificate_id, with_for_update=True)
            if row is None:
                raise LookupError(f"No certificate {certificate_id}")
            if row.revoked_at is None:
                now = self.clock()
                row.revoked_at = now
                row.revoked_by = by_user
                row.revoked_reason = reason
                audit_in(
                    self.log,
                    session,
                    EventKind.AUDIT_CERTIFICATE_REVOKED,
                    actor=actor_for_user(by_user),
                    now=now,
                    data={"certificate_id": certificate_id},
                )
                logger.info("certificate %s revoked by user %d", certificate_id, by_user)
            return row
