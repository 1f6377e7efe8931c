"""Every text of the citizen's flow, in the ``kiosk`` gettext domain, and the formatting of
waits and times in the citizen's language.

Message ids are English; the catalogs are ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po``.
Mark a message with ``_`` (or ``N_`` for a plural) where it is defined, translate it with
:func:`gettext_for` / :func:`tr` where it is shown. Screens' own words (button captions that
exist only in one view) live in :mod:`kiosk.screens.texts_ui`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_day_names

from cabina.i18n import translations
from hardware import errors as hardware_errors
from kiosk.flow.states import HomeEntry, State

PACKAGE = "kiosk"
DOMAIN = "kiosk"


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated when shown."""
    return message


def N_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form; ``{n}`` in it is the count."""
    return (singular, plural)


def tr(message: str, lang: str) -> str:
    """``message`` in ``lang``."""
    return translations(PACKAGE, DOMAIN, lang).gettext(message)


def tr_plural(forms: tuple[str, str], count: int, lang: str) -> str:
    """The form of ``forms`` for ``count`` in ``lang``, with ``{n}`` filled in."""
    return translations(PACKAGE, DOMAIN, lang).ngettext(*forms, count).format(n=count)


#: Each language's own name, as its speakers write it.
LANGUAGE_NAMES: dict[str, str] = {
    "es": "Castellano",
    "ca": "Català",
    "ca@valencia": "Valencià",
    "eu": "Euskara",
    "gl": "Galego",
    "en": "English",
}

#: The big titles of each screen.
TITLES: dict[State, str] = {
    State.ATTRACT: _("Municipal attention"),
    State.LANGUAGE: _("Choose your language"),
    State.HOME: _("What would you like to do?"),
    State.TOPIC: _("What do you need help with?"),
    State.CONSENT: _("May we record this call?"),
    State.QUEUE: _("Waiting for an agent"),
    State.CLOSED: _("This service is closed now"),
    State.CALL: _("You are talking to the city council"),
    State.STEP_SCAN: _("Scan a document"),
    State.STEP_PRINT: _("Printing your document"),
    State.STEP_SIGN: _("Sign the document"),
    State.STEP_INFO: _("Information from the agent"),
    State.SURVEY: _("How was the service?"),
    State.GOODBYE: _("Thank you. Goodbye!"),
    State.INFORMATION: _("Opening hours and addresses"),
    State.COMPLAINT: _("Complaints and suggestions"),
    State.OUT_OF_SERVICE: _("Video attention is not available right now"),
    State.TECHNICIAN: _("Technician access"),
}

#: What the citizen is asked to do on each screen, under its title.
INSTRUCTIONS: dict[State, str] = {
    State.ATTRACT: _("Touch the screen or lift the handset to start."),
    State.CONSENT: _(
        "The recording is only used to check and improve the service. If you say no, you "
        "will be attended in exactly the same way."
    ),
    State.QUEUE: _("An agent will answer you as soon as possible. Please stay here."),
    State.CALL: _("Lift the handset to hear the agent better."),
    State.STEP_SCAN: _("Place your document face down on the scanner glass, then press Scan."),
    State.STEP_PRINT: _("Please wait. Take your document from the tray when it comes out."),
    State.STEP_SIGN: _("Read the document, then sign in the box with your finger."),
    State.STEP_INFO: _("Read the information, then press Done."),
    State.SURVEY: _("Touch a face. You can also leave a comment."),
    State.GOODBYE: _("Everything you showed or typed has been erased from this cabin."),
    State.COMPLAINT: _(
        "An agent will register your complaint or suggestion and give you its reference number."
    ),
    State.OUT_OF_SERVICE: _(
        "You can still read our opening hours and addresses, or print them on a ticket."
    ),
}

HOME_ENTRIES: dict[HomeEntry, str] = {
    HomeEntry.TALK_TO_AGENT: _("Talk to an agent"),
    HomeEntry.INFORMATION: _("Opening hours and addresses"),
    HomeEntry.COMPLAINT: _("Complaints and suggestions"),
    HomeEntry.PADRON_CERTIFICATE: _("Padrón certificate"),
    HomeEntry.APPOINTMENT: _("Book an appointment"),
    HomeEntry.CHECK_IN: _("I have an appointment"),
}
#: Shown on a home entry that is not available yet.
COMING_SOON = _("Coming soon")

#: The hub's service codes as the citizen reads them.
SERVICES: dict[str, str] = {
    "general": _("General information and procedures"),
    "padron": _("Residents' register (padrón)"),
    "tributs": _("Taxes and fees"),
    "complaints": _("Complaints and suggestions"),
}

BUTTONS: dict[str, str] = {
    "back": _("Back"),
    "finish": _("Finish"),
    "continue": _("Continue"),
    "yes_record": _("Yes, you may record it"),
    "no_record": _("No, do not record it"),
    "cancel_wait": _("Stop waiting"),
    "come_back_later": _("I will come back later"),
    "hang_up": _("Hang up"),
    "mute": _("Mute my microphone"),
    "unmute": _("Turn my microphone on"),
    "scan": _("Scan"),
    "decline": _("I prefer not to"),
    "clear": _("Clear"),
    "sign": _("Accept and sign"),
    "done": _("Done"),
    "send": _("Send"),
    "skip": _("Skip"),
    "print_ticket": _("Print a ticket"),
    "large_text": _("Larger text"),
    "high_contrast": _("High contrast"),
}

#: The five faces of the survey, worst first.
SURVEY_FACES: tuple[str, ...] = (
    _("Very bad"),
    _("Bad"),
    _("Fair"),
    _("Good"),
    _("Very good"),
)
COMMENT_HINT = _("Your comment (optional). Please do not write personal data.")

#: Short notice codes the flow leaves in ``Flow.notice``, beyond hardware error codes.
NOTICES: dict[str, str] = {
    "call_not_answered": _("No agent could answer your call. Please try again later."),
    "call_refused": _("Your call could not be placed. Please try again."),
    "busy": _("Please finish what is on the screen first."),
}
_GENERIC_NOTICE = _("That did not work. Please tell the agent.")

WARNING = _("Are you still there?")
WARNING_COUNTDOWN = N_(
    "Touch the screen to continue. This session ends in {n} second.",
    "Touch the screen to continue. This session ends in {n} seconds.",
)
QUEUE_POSITION = N_("There is {n} person ahead of you.", "There are {n} people ahead of you.")
QUEUE_NEXT = _("You are next.")
WAIT_MINUTES = N_("Estimated wait: about {n} minute.", "Estimated wait: about {n} minutes.")
WAIT_SHORT = _("Estimated wait: less than a minute.")
LONG_WAIT = _("The wait is long today. You can come back later if you prefer.")
RECONNECTING = _("Reconnecting with the city council. You keep your place.")
OPENS_AT = _("It opens on {when}.")
OPENS_UNKNOWN = _("It has no opening hours scheduled yet.")
AGENT_NAME = _("You are talking to {name}.")
TICKET_TITLE = _("Opening hours and addresses")
TICKET_THANKS = _("Thank you for visiting us.")
CLOSED_DAY = _("Closed")
HOLIDAYS_CLOSED = _("Closed on public holidays.")
OPEN_ALL_DAY = _("Open all day")
ADDRESS = _("Address")
OPENING_HOURS = _("Opening hours")
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def title(state: State, lang: str) -> str:
    """The title of ``state``'s screen in ``lang``."""
    return tr(TITLES[state], lang)


def instruction(state: State, lang: str) -> str:
    """What the citizen does on ``state``'s screen, or an empty string."""
    message = INSTRUCTIONS.get(state)
    return tr(message, lang) if message else ""


def service_name(code: str, lang: str) -> str:
    """A service code as the citizen reads it; an unknown code is shown as it is."""
    message = SERVICES.get(code)
    return tr(message, lang) if message else code


def notice_text(code: str | None, lang: str) -> str:
    """Plain words for a notice code (flow or hardware error) in ``lang``; empty for none."""
    if not code:
        return ""
    if code in NOTICES:
        return tr(NOTICES[code], lang)
    error = _hardware_error(code)
    if error is not None:
        return error.citizen_message(lang)
    return tr(_GENERIC_NOTICE, lang)


def _hardware_error(code: str) -> hardware_errors.HardwareError | None:
    pending: list[type[hardware_errors.HardwareError]] = [hardware_errors.HardwareError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls(code)
        pending.extend(cls.__subclasses__())
    return None


def wait_text(position: int | None, estimated_wait_s: float | None, lang: str) -> list[str]:
    """The lines of the queue screen: people ahead, then the estimated wait."""
    lines = []
    if position is not None:
        ahead = max(0, position - 1)
        lines.append(tr(QUEUE_NEXT, lang) if ahead == 0 else tr_plural(QUEUE_POSITION, ahead, lang))
    if estimated_wait_s is not None:
        minutes = round(estimated_wait_s / 60)
        lines.append(
            tr(WAIT_SHORT, lang) if minutes < 1 else tr_plural(WAIT_MINUTES, minutes, lang)
        )
    return lines


def countdown_text(seconds: float, lang: str) -> str:
    """The inactivity warning's countdown line."""
    return tr_plural(WARNING_COUNTDOWN, max(0, int(seconds + 0.999)), lang)


def babel_locale(lang: str) -> str:
    """The Babel (CLDR) locale for a Cabina language code."""
    return {"ca@valencia": "ca_ES_VALENCIA", "eu": "eu_ES", "gl": "gl_ES", "en": "en_GB"}.get(
        lang, f"{lang}_ES"
    )


#: How each language writes a day and a time; Basque avoids inflecting the date (16an, 1ean).
_WHEN_PATTERNS: dict[str, str] = {
    "es": "EEEE d 'de' MMMM, H:mm",
    "ca": "EEEE d MMMM, H:mm",
    "ca@valencia": "EEEE d MMMM, H:mm",
    "eu": "y/MM/dd (EEEE), HH:mm",
    "gl": "EEEE d 'de' MMMM, H:mm",
    "en": "EEEE d MMMM, HH:mm",
}


def when_text(moment: datetime, lang: str, timezone: str = "Europe/Madrid") -> str:
    """A day and time as the citizen says it, e.g. "dilluns 16 de març, 8:30"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_datetime(local, _WHEN_PATTERNS[lang], locale=babel_locale(lang))


def opens_text(opens_at: datetime | None, lang: str, timezone: str = "Europe/Madrid") -> str:
    """When a closed service opens again, as a sentence."""
    if opens_at is None:
        return tr(OPENS_UNKNOWN, lang)
    return tr(OPENS_AT, lang).format(when=when_text(opens_at, lang, timezone))


def opening_hours_lines(hours: Mapping[str, Any], lang: str) -> list[str]:
    """One line per weekday ("dilluns: 08:30–14:30"), as the hub's opening hours give them."""
    names = get_day_names("wide", locale=babel_locale(lang))
    lines = []
    for index, key in enumerate(_DAY_KEYS):
        if hours.get("always"):
            said = tr(OPEN_ALL_DAY, lang)
        else:
            spans = [span.replace("-", "–") for span in hours.get(key, [])]
            said = ", ".join(spans) or tr(CLOSED_DAY, lang)
        day = names[index]
        lines.append(f"{day[:1].upper()}{day[1:]}: {said}")
    if hours.get("holidays"):
        lines.append(tr(HOLIDAYS_CLOSED, lang))
    return lines
