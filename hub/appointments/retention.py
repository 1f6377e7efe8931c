"""Erasing the citizen's data of appointments over for the retention time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from hub.appointments.base import (
    AppointmentsBase,
)
from hub.appointments.documents import erase_documents
from hub.appointments.models import Appointment as AppointmentRow

logger = logging.getLogger(__name__)


class Retention(AppointmentsBase):
    """Erasing personal data once the retention time has passed."""

    def forget_expired(self, now: datetime) -> int:
        """Erase the citizen's data of appointments over for the retention time; how many."""
        cutoff = now - timedelta(days=self.settings.retention_days)
        # Whatever became of it: a checked-in appointment is over when its time is, as the
        # consent the citizen read says.
        expired = (AppointmentRow.forgotten_at.is_(None), AppointmentRow.ends_at < cutoff)
        with self.database.session() as session:
            # Most rounds find nothing: the write lock is taken only when some are due.
            if session.scalar(select(AppointmentRow.id).where(*expired).limit(1)) is None:
                return 0
        with self.database.write_transaction() as session:
            rows = session.scalars(select(AppointmentRow).where(*expired).limit(1000)).all()
            erase_documents(session, [row.id for row in rows])
            for row in rows:
                row.citizen_name = ""
                row.citizen_document = ""
                row.email = None
                row.phone = None
                row.forgotten_at = now
        if rows:
            logger.info("personal data of %d appointments erased", len(rows))
        return len(rows)
