"""What the appointment screens type and keep: the keyboard, the fields, one citizen's errand.

:class:`AppointmentVisit` holds what the citizen chose and typed and what the hub answered,
until the privacy reset replaces it; :mod:`kiosk.flow.appointments` is what changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from contract.appointments import REFERENCE_ALPHABET, Appointment, DayAvailability, Slot
from kiosk.flow.padron import DOCUMENT_KEYS, ERASE
from kiosk.flow.states import State

# fmt: off
__all__ = [
    "ACCENTS", "DETAILS_FIELDS", "DIGITS", "ERASE", "FIELD_CHARS", "FIELD_KEYS", "KEYBOARD",
    "LETTERS", "MAX_LINK_CHARS", "REFERENCE_FIELDS", "SPACE", "AppointmentProblem",
    "AppointmentVisit", "qr_link",
]
# fmt: on

#: The longest QR code text taken for a link.
MAX_LINK_CHARS = 512


def qr_link(text: str) -> str:
    """The link a QR code's text stands for, as the check-in sends it and remembers it."""
    return text.strip()[:MAX_LINK_CHARS]


SPACE = "space"
LETTERS = "ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
ACCENTS = "ÀÁÇÈÉÍÏÒÓÚÜ"
DIGITS = "0123456789"
#: The keys each field takes, and how many characters it holds.
FIELD_KEYS: dict[str, str] = {
    "name": LETTERS + ACCENTS + "'-." + " ",
    "document": DOCUMENT_KEYS,
    "email": LETTERS + DIGITS + "@._-+",
    "phone": DIGITS + "+",
    "reference": "".join(sorted(set(REFERENCE_ALPHABET) | set("-"))),
}
FIELD_CHARS: dict[str, int] = {
    "name": 80,
    "document": 9,
    "email": 80,
    "phone": 16,
    "reference": 12,
}
#: Every key of the on-screen keyboard, in the order it shows them.
KEYBOARD = (
    *DIGITS,
    *LETTERS,
    *ACCENTS,
    "@",
    ".",
    "-",
    "_",
    "+",
    "'",
    SPACE,
    ERASE,
)
#: The fields of each typing screen, in order.
DETAILS_FIELDS = ("name", "document", "email", "phone")
REFERENCE_FIELDS = ("reference", "document")


@dataclass(frozen=True, slots=True)
class AppointmentProblem:
    """What went wrong, for the screen to say: a code, and a reason or the hub's words."""

    code: str
    reason: str | None = None
    message: str | None = None


@dataclass(eq=False)
class AppointmentVisit:
    """One citizen's appointment errand: what they chose and typed, what the hub answered."""

    offer_id: int | None = None
    days: tuple[DayAvailability, ...] = ()
    #: Whether the days of :attr:`offer_id` have been loaded.
    days_loaded: bool = False
    day: date | None = None
    starts_at: datetime | None = None
    name: str = field(default="", repr=False)
    document: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    reference: str = field(default="", repr=False)
    #: The field the keyboard types into.
    active: str = "name"
    #: What is wrong with each field, by field name.
    field_problems: dict[str, AppointmentProblem] = field(default_factory=dict)
    #: What the current screen should explain (a time just taken, a hub that did not answer).
    problem: AppointmentProblem | None = None
    #: Where "try again" leads from the problem screen.
    retry: State | None = None
    #: The id of the request the flow waits for; None when nothing is pending.
    request_id: str | None = None
    #: The booked appointment (with its management link), once the hub answered.
    booked: Appointment | None = field(default=None, repr=False)
    #: The booking started from a long queue: back from the details goes home.
    from_queue: bool = False
    #: The camera watch of the check-in screen that the flow listens to.
    watch_id: str | None = None
    #: The link read from a QR code that the hub is being asked about.
    trying_link: str | None = field(default=None, repr=False)
    #: Links the hub refused in this visit: the same code held up again is not sent again.
    refused_links: frozenset[str] = field(default=frozenset(), repr=False)
    #: The reference of the appointment the citizen checked in, for the call request.
    checked_in: str | None = None
    #: The earliest free time offered on the queue screen, with its offer.
    next_slot: Slot | None = None
    next_offer_id: int | None = None
    next_request_id: str | None = None

    @property
    def busy(self) -> bool:
        """Whether the hub is working on this errand."""
        return self.request_id is not None

    def text(self, name: str) -> str:
        """What the citizen typed in field ``name``."""
        value: str = getattr(self, name)
        return value
