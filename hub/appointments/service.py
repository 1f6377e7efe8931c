"""The one booking service: the cabin, the console and the web page all book through it.

:class:`Appointments` reads offers and availability, books, moves, cancels, checks in (at a
cabin, or arrived at the desk) and marks no-shows and appointments done. Each change is one
transaction that also appends its event to the attention log (the appointment has its own
attention id from the moment it is booked) and queues its notices in
:class:`hub.appointments.models.Notice`, so a booking, its log entry and its receipt are never
separated. Refusals are :class:`AppointmentRefused` with a
:data:`contract.appointments.RefusalCode`.

Choices:

- A place is taken with one conditional ``UPDATE`` of :class:`SlotCount`
  (``taken < places``), after inserting the row if it is absent (insert-or-ignore), so two
  citizens racing for the last place cannot both win. An agent meets one citizen at a time: the
  agent chosen is one on shift with the errand's skill and no live appointment overlapping the
  slot (the one with the fewest appointments that day), and a unique index on the agent and
  start time backs it.
- The council's system (:mod:`.external`) is asked for its places taken when availability is
  read and a booking is checked, and is written to inside the booking's transaction: if it
  refuses (``slot_taken``) or does not answer (``external_unavailable``), the transaction rolls
  back and nothing is booked. A booking is never queued for a later sync: a citizen must not
  leave with a receipt for a place the council may give to someone else. The cost is that a
  slow council system holds the booking (for at most its timeout).
- Check-in is accepted from :data:`CHECK_IN_EARLY` before the start until the offer's grace
  time after it; earlier or later is ``not_changeable`` with ``reason`` ``too_early`` or
  ``too_late``. A check-in repeated by the same cabin attention answers the same.
- A management link expires a day after the appointment ends (``link_expired``).
"""

from __future__ import annotations

from hub.appointments.base import (
    CHECK_IN_EARLY,
    LINK_LIFETIME,
    LIVE,
    MAX_DAYS,
    AppointmentRefused,
    Booked,
    CheckedIn,
    new_reference,
)
from hub.appointments.booking import Booking
from hub.appointments.retention import Retention
from hub.appointments.visits import NotYours, Visits

__all__ = [
    "CHECK_IN_EARLY",
    "LINK_LIFETIME",
    "LIVE",
    "MAX_DAYS",
    "AppointmentRefused",
    "Appointments",
    "Booked",
    "CheckedIn",
    "NotYours",
    "new_reference",
]


class Appointments(Booking, Visits, Retention):
    """Booking, changing and joining appointments. See the module's docstring.

    The parts live in :mod:`.places` and :mod:`.booking` (offers, slots, book, move, cancel),
    :mod:`.visits` (agenda, check-in, arrival, no-shows, done) and :mod:`.retention`; this class
    is what the rest of the hub uses.
    """
