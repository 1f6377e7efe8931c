"""What the appointment screens and the appointment ticket say, in the citizen's language.

Each refusal code of :mod:`contract.appointments` (and the kiosk's own: a hub that cannot be
reached, a reference that cannot be one) has plain words here; a wrong DNI/NIE is said with the
words the hub uses too (:mod:`cabina.identity_texts`). Days and times are written in the
office's time zone, as the citizen will read them on the clock there.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from cabina.identity_texts import refusal_text
from contract.appointments import Appointment, Channel, Offer
from contract.identity import InvalidDocument
from kiosk import texts
from kiosk.flow.appointments import AppointmentProblem
from kiosk.screens.texts_ui import translate, ui_text

CHANNELS: dict[Channel, str] = {
    Channel.CABIN_VIDEO: ui_text("By video, at a cabin"),
    Channel.HOME_VIDEO: ui_text("By video, from home"),
    Channel.IN_PERSON: ui_text("In person, at the office"),
}
LOADING = ui_text("Looking for free places…")
NO_DAYS = ui_text("There are no free places in the next days. Please try another errand.")
BOOKING = ui_text("Booking your appointment…")
CHECKING = ui_text("Looking for your appointment…")
#: The data-use notice the citizen accepts by booking, true to what the hub keeps and for how long.
CONSENT = (
    ui_text(
        "The city council keeps your name, DNI or NIE and contacts to manage this appointment."
    ),
    ui_text("We use them to send you the receipt and the reminders."),
    ui_text("They are erased {days} days after the appointment."),
    ui_text("By booking, you accept this use of your data."),
)
NEXT_SLOT = ui_text("Book an appointment for {when}")
TICKET_TITLE = ui_text("Your appointment")
TICKET_REFERENCE = ui_text("Reference")
TICKET_HOW = ui_text("Scan the QR code to see, change or cancel your appointment:")
TICKET_KEEP = ui_text("Show this QR code at a cabin to join your appointment at its time.")
PRINTER_FAILED = ui_text("The ticket could not be printed. Please write down the reference.")
TAKE_TICKET = ui_text("Take your ticket from the tray.")

#: The citizen's words for each problem code.
PROBLEMS: dict[str, str] = {
    "slot_taken": ui_text("Someone has just booked that time. Please choose another one."),
    "slot_unavailable": ui_text("That time can no longer be booked. Please choose another one."),
    "invalid_email": ui_text("This e-mail address is not valid. Please check it."),
    "invalid_phone": ui_text("Type a mobile number: 9 digits starting with 6 or 7."),
    "no_contact": ui_text("Give an e-mail address or a mobile number, so we can send the receipt."),
    "no_name": ui_text("Please type your name."),
    "no_consent": ui_text("To book, you must accept how your data is used."),
    "not_found": ui_text("We cannot find that appointment. Please check the reference."),
    "link_expired": ui_text("That appointment is over. Please book a new one."),
    "already_cancelled": ui_text("That appointment was cancelled."),
    "not_changeable": ui_text("That appointment has already been joined."),
    "too_many_attempts": ui_text("Too many attempts. Please wait a few minutes and try again."),
    "external_unavailable": ui_text(
        "The appointment system is not answering. Nothing was booked. Try again in a moment."
    ),
    "hub_unreachable": ui_text(
        "We cannot reach the city council's system right now. Please try again in a moment."
    ),
    "bad_reference": ui_text("A reference looks like CP-7K3M-Q9XA. Please check it."),
}
#: Finer words for a refusal with a reason.
REASONS: dict[tuple[str, str], str] = {
    ("not_changeable", "too_early"): ui_text(
        "It is too early to join this appointment. Please come back closer to its time."
    ),
    ("not_changeable", "too_late"): ui_text(
        "The time to join this appointment is over. Please book a new one."
    ),
}
SOMETHING_FAILED = ui_text("That did not work. Please try again, or talk to an agent.")

_DAY_PATTERNS: dict[str, str] = {
    "es": "EEEE d 'de' MMMM",
    "ca": "EEEE d MMMM",
    "ca@valencia": "EEEE d MMMM",
    "eu": "y/MM/dd (EEEE)",
    "gl": "EEEE d 'de' MMMM",
    "en": "EEEE d MMMM",
}


def problem_text(problem: AppointmentProblem | None, lang: str) -> str:
    """The plain sentence for ``problem`` in ``lang``; empty for none."""
    if problem is None:
        return ""
    if problem.code == InvalidDocument.code:
        return refusal_text(problem.code, problem.reason or "", lang)
    message = REASONS.get((problem.code, problem.reason or "")) or PROBLEMS.get(problem.code)
    return translate(message or SOMETHING_FAILED, lang)


def offer_name(offer: Offer, lang: str) -> str:
    """The errand's name in ``lang`` (or Catalan for Valencian, or Spanish, or its code)."""
    names = offer.names
    for code in (lang, lang.split("@")[0], "es"):
        if names.get(code):
            return names[code]
    return texts.service_name(offer.service, lang)


def channel_text(channel: Channel, lang: str) -> str:
    """How the citizen meets the agent, in ``lang``."""
    return translate(CHANNELS[channel], lang)


def day_text(day: date, lang: str) -> str:
    """A day as a button says it: "martes 9 de diciembre"."""
    said = format_date(day, _DAY_PATTERNS[lang], locale=texts.babel_locale(lang))
    return said[:1].upper() + said[1:]


def time_text(moment: datetime, timezone: str) -> str:
    """A time at the office: "9:30"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.hour}:{local.minute:02d}"


def when_text(moment: datetime, lang: str, timezone: str) -> str:
    """A day and a time at the office, as a sentence says it."""
    return texts.when_text(moment, lang, timezone)


def consent_text(days: int, lang: str) -> str:
    """The data-use notice the citizen accepts by confirming."""
    return " ".join(translate(sentence, lang) for sentence in CONSENT).format(days=days)


def summary_lines(offer: Offer, starts_at: datetime, lang: str) -> list[str]:
    """What is booked: the errand, when, how, and where."""
    lines = [
        offer_name(offer, lang),
        when_text(starts_at, lang, offer.timezone),
        channel_text(offer.channel, lang),
    ]
    lines.extend(line for line in (offer.site_name, offer.site_address) if line)
    return lines


def appointment_lines(appointment: Appointment, lang: str) -> list[str]:
    """:func:`summary_lines` of a booked appointment."""
    return summary_lines(appointment.offer, appointment.starts_at, lang)
