"""Every text of an appointment's notices and refusals a citizen reads, in ``appointment_notices``.

Message ids are English; the catalogs are
``hub/appointments/locale/<lang>/LC_MESSAGES/appointment_notices.po``, read at run time as the
padrón's are (:mod:`cabina.i18n`; English needs none, Valencian falls back to Catalan). Mark a
message with ``_`` where it is defined and translate it with :func:`tr` where it is shown.

:func:`email_notice` writes a notice's subject, plain text and HTML; :func:`sms_notice` its
SMS; :func:`refusal_text` the citizen's words for a :data:`contract.appointments.RefusalCode`.
Dates and times are written in the site's time zone, as each language writes them (Babel).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import qrcode
from babel.dates import format_date, format_time
from jinja2 import Environment

from cabina.i18n import translations
from contract.appointments import MANAGE_PATH, VIDEO_PATH, Channel, RefusalCode
from contract.languages import CITIZEN_LANGUAGES

PACKAGE = "hub.appointments"
DOMAIN = "appointment_notices"

LANGUAGES: tuple[str, ...] = CITIZEN_LANGUAGES
#: The language of a notice whose appointment names one the hub does not ship.
DEFAULT_LANGUAGE = "es"
#: Babel's locale for each language (Valencian dates are written as in Catalan).
_BABEL_LOCALES = {"es": "es", "ca": "ca", "ca@valencia": "ca", "eu": "eu", "gl": "gl", "en": "en"}


def _(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated when shown."""
    return message


def language(lang: str | None) -> str:
    """``lang`` if the notices are written in it, else the default language."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def tr(message: str, lang: str) -> str:
    """``message`` in ``lang``."""
    return translations(PACKAGE, DOMAIN, language(lang)).gettext(message)


def local(moment: datetime, timezone: str) -> datetime:
    """``moment`` on the site's clock."""
    return moment.astimezone(ZoneInfo(timezone))


def day_text(moment: datetime, timezone: str, lang: str) -> str:
    """The day of ``moment`` at the site, in full: ``lunes, 2 de marzo de 2026``."""
    return format_date(local(moment, timezone).date(), format="full", locale=_locale(lang))


def short_day_text(moment: datetime, timezone: str, lang: str) -> str:
    """The day in the numeric form its readers use: ``02/03``, in Basque ``03/02``."""
    day = local(moment, timezone).date()
    return day.strftime("%m/%d" if language(lang) == "eu" else "%d/%m")


def time_text(moment: datetime, timezone: str, lang: str) -> str:
    """The hour and minute of ``moment`` at the site: ``09:30``."""
    return format_time(local(moment, timezone), format="HH:mm", locale=_locale(lang))


def _locale(lang: str) -> str:
    return _BABEL_LOCALES[language(lang)]


# Subjects.
RECEIPT_SUBJECT = _("Appointment {reference}: {errand}, {date} at {time}")
REMINDER_SUBJECT = _("Reminder: appointment {reference} on {date} at {time}")
MOVED_SUBJECT = _("Your appointment {reference} has been moved to {date} at {time}")
CANCELLED_SUBJECT = _("Your appointment {reference} has been cancelled")

# Bodies.
GREETING = _("Hello {name},")
RECEIPT_INTRO = _("Your appointment is booked. Keep this message: it has everything you need.")
REMINDER_INTRO = _("We remind you of your appointment.")
MOVED_INTRO = _(
    "Your appointment has been moved. It was on {date} at {time}; this is the new time."
)
CANCELLED_INTRO = _("Your appointment of {date} at {time} has been cancelled.")
REBOOK = _("If you still need it, you can book another appointment here: {url}")
REFERENCE = _("Reference")
ERRAND = _("Errand")
WHEN = _("Date and time")
DATE_AT_TIME = _("{date} at {time}")
WHERE = _("Place")
HOW = _("How")
WHAT_TO_BRING = _("What to bring")
CHANNEL_NAMES = {
    Channel.IN_PERSON: _("In person, at the office"),
    Channel.CABIN_VIDEO: _("By video call, from a cabin at the office"),
    Channel.HOME_VIDEO: _("By video call, from your phone or computer"),
}
VIDEO_PLACE = _("Video call from home")
IN_PERSON_ADVICE = _("Please arrive a few minutes before the time, with what you need to bring.")
CABIN_ADVICE = _(
    "At the cabin, touch “I have an appointment” and show the QR code of this e-mail to the "
    "camera, or type the reference."
)
QR_CAPTION = _("At a cabin, show this code to the camera to join your appointment.")
VIDEO_LINK = _(
    "At the time of the appointment, open this link on your phone or computer; the page shows "
    "your appointment and says when the video call starts: {url}"
)
VIDEO_BUTTON = _("Open my appointment")
MANAGE = _("To change the time or cancel the appointment, open this link: {url}")
MANAGE_BUTTON = _("Change or cancel")
CALENDAR_NOTE = _("The attached file adds the appointment to your calendar.")
AUTOMATIC = _("This message was sent automatically; replies to it are not read.")

# SMS: short, one message where the link allows it.
SMS_RECEIPT = _("Appointment {reference}: {date} {time}, {place}. Change or cancel: {url}")
SMS_REMINDER = _("Reminder: appointment {reference} {date} {time}, {place}. {url}")
SMS_VIDEO_REMINDER = _("Video appointment {reference} {date} {time}. At that time open {url}")
SMS_MOVED = _("Appointment {reference} moved to {date} {time}, {place}. {url}")
SMS_CANCELLED = _("Appointment {reference} of {date} {time} cancelled.")
SMS_VIDEO_PLACE = _("video call")

# The calendar file.
ICS_SUMMARY = _("Appointment: {errand}")
ICS_DESCRIPTION = _("Reference {reference}. To change or cancel it: {url}")
ICS_VIDEO_LOCATION = _("Video call: {url}")
#: An agent's feed: the errand, the citizen's initials and how they meet.
FEED_SUMMARY = _("{errand} · {initials} · {channel}")
FEED_NAME = _("Appointments of {name}")

#: The citizen's words for each refusal of the booking service.
REFUSALS: dict[RefusalCode, str] = {
    "slot_taken": _("Someone has just booked the last place at that time. Please choose another."),
    "slot_unavailable": _("That time cannot be booked. Please choose another one from the list."),
    "invalid_document": _("The DNI or NIE is not valid. Please check it."),
    "invalid_email": _("The e-mail address is not valid. Please check it."),
    "invalid_phone": _("The mobile number is not valid. Please check it."),
    "no_contact": _("Please give an e-mail address or a mobile number to send you the receipt."),
    "no_consent": _("To book, please accept the use of your data for this appointment."),
    "not_found": _("We cannot find an appointment with that reference or link."),
    "link_expired": _("This link has expired: the appointment is over."),
    "already_cancelled": _("This appointment was already cancelled, so it cannot be changed."),
    "not_changeable": _("This appointment can no longer be changed: it has started or ended."),
    "too_many_attempts": _("Too many attempts from your connection. Please wait and try again."),
    "external_unavailable": _(
        "The appointment system is not answering right now, so nothing was booked. Please try "
        "again later."
    ),
}


def refusal_text(code: RefusalCode, lang: str) -> str:
    """The citizen's words for a refusal, in ``lang``."""
    return tr(REFUSALS[code], lang)


def channel_name(channel: Channel, lang: str) -> str:
    """How the citizen meets the agent, in words."""
    return tr(CHANNEL_NAMES[channel], lang)


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice says: the appointment as it is now, and how to reach its pages."""

    #: ``receipt``, ``reminder``, ``moved`` or ``cancelled``.
    kind: str
    lang: str
    reference: str
    citizen_name: str
    errand: str
    channel: Channel
    site_name: str
    site_address: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    what_to_bring: str | None
    #: The management link (a home video appointment's call is at :attr:`video_url`).
    manage_url: str
    #: Where to book again (a cancellation's notice).
    book_url: str
    #: The time it had before it was moved.
    old_starts_at: datetime | None = None

    @property
    def video_url(self) -> str:
        """The page of a home video appointment's call: the management link's token under
        :data:`VIDEO_PATH`."""
        base, _sep, token = self.manage_url.rpartition(MANAGE_PATH)
        return f"{base}{VIDEO_PATH}{token}" if _sep else self.manage_url

    @property
    def place(self) -> str:
        """Where the citizen goes: the site, or the video call from home."""
        if self.channel is Channel.HOME_VIDEO:
            return tr(VIDEO_PLACE, self.lang)
        return f"{self.site_name}, {self.site_address}" if self.site_address else self.site_name


@dataclass(frozen=True, slots=True)
class EmailText:
    """An e-mail's subject, its two bodies, and the QR code image its HTML shows (if any)."""

    subject: str
    text: str
    html: str
    #: A PNG of the management link's QR code, for ``<img src="cid:{QR_CID}">``.
    qr_png: bytes | None = None


#: The ``Content-ID`` of the QR code image in the HTML.
QR_CID = "appointment-qr@cabina"


def qr_png(text: str, *, scale: int = 6) -> bytes:
    """A black-on-white PNG of the QR code of ``text``, with its quiet zone."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=scale
    )
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)  # Pillow's PNG (Pillow comes with reportlab)
    return out.getvalue()


_HTML = Environment(autoescape=True, keep_trailing_newline=True).from_string(
    """<!DOCTYPE html>
<html lang="{{ html_lang }}">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a;">
<p>{{ greeting }}</p>
<p>{{ intro }}</p>
{% if rows %}<table style="border-collapse: collapse; margin: 1em 0;">
{% for label, value in rows %}<tr><th style="text-align: left; padding: 4px 12px 4px 0;
 vertical-align: top;">{{ label }}</th><td style="padding: 4px 0;">{{ value }}</td></tr>
{% endfor %}</table>{% endif %}
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}{% if qr_cid %}<p><img src="cid:{{ qr_cid }}" width="198" height="198"
 alt="{{ reference }}"><br>{{ qr_caption }}</p>
{% endif %}{% if button_url %}<p><a href="{{ button_url }}" style="display: inline-block;
 padding: 10px 18px; background: #0b5394; color: #ffffff; text-decoration: none;
 border-radius: 4px;">{{ button }}</a></p>
<p style="font-size: 14px;">{{ button_url }}</p>{% endif %}
<p style="font-size: 13px; color: #555555;">{{ footer }}</p>
</body>
</html>
"""
)


def _when(moment: datetime, facts: NoticeFacts) -> str:
    return tr(DATE_AT_TIME, facts.lang).format(
        date=day_text(moment, facts.timezone, facts.lang),
        time=time_text(moment, facts.timezone, facts.lang),
    )


def email_notice(facts: NoticeFacts) -> EmailText:
    """The e-mail of a notice, in the citizen's language."""
    lang = facts.lang
    date = day_text(facts.starts_at, facts.timezone, lang)
    time = time_text(facts.starts_at, facts.timezone, lang)
    names = {"reference": facts.reference, "errand": facts.errand, "date": date, "time": time}
    rows: list[tuple[str, str]] = [
        (tr(REFERENCE, lang), facts.reference),
        (tr(ERRAND, lang), facts.errand),
        (tr(WHEN, lang), _when(facts.starts_at, facts)),
        (tr(HOW, lang), channel_name(facts.channel, lang)),
    ]
    if facts.channel is not Channel.HOME_VIDEO:
        rows.append((tr(WHERE, lang), facts.place))
    if facts.what_to_bring:
        rows.append((tr(WHAT_TO_BRING, lang), facts.what_to_bring))
    paragraphs: list[str] = []
    button, button_url = tr(MANAGE_BUTTON, lang), facts.manage_url
    if facts.kind == "cancelled":
        subject = tr(CANCELLED_SUBJECT, lang).format(**names)
        intro = tr(CANCELLED_INTRO, lang).format(date=date, time=time)
        rows = rows[:2]
        paragraphs.append(tr(REBOOK, lang).format(url=facts.book_url))
        button_url = ""
    else:
        if facts.kind == "reminder":
            subject = tr(REMINDER_SUBJECT, lang).format(**names)
            intro = tr(REMINDER_INTRO, lang)
        elif facts.kind == "moved":
            subject = tr(MOVED_SUBJECT, lang).format(**names)
            old = facts.old_starts_at or facts.starts_at
            intro = tr(MOVED_INTRO, lang).format(
                date=day_text(old, facts.timezone, lang), time=time_text(old, facts.timezone, lang)
            )
        else:
            subject = tr(RECEIPT_SUBJECT, lang).format(**names)
            intro = tr(RECEIPT_INTRO, lang)
        if facts.channel is Channel.HOME_VIDEO:
            paragraphs.append(tr(VIDEO_LINK, lang).format(url=facts.video_url))
            if facts.kind == "reminder":
                button, button_url = tr(VIDEO_BUTTON, lang), facts.video_url
        elif facts.channel is Channel.CABIN_VIDEO:
            paragraphs.append(tr(CABIN_ADVICE, lang))
        else:
            paragraphs.append(tr(IN_PERSON_ADVICE, lang))
        if not (facts.kind == "reminder" and facts.channel is Channel.HOME_VIDEO):
            paragraphs.append(tr(MANAGE, lang).format(url=facts.manage_url))
        if facts.kind != "reminder":
            paragraphs.append(tr(CALENDAR_NOTE, lang))
    greeting = tr(GREETING, lang).format(name=facts.citizen_name)
    footer = tr(AUTOMATIC, lang)
    text_lines = [greeting, "", intro, ""]
    text_lines += [f"{label}: {value}" for label, value in rows]
    text_lines += [""]
    for paragraph in paragraphs:
        text_lines += [paragraph, ""]
    text_lines += ["--", footer, ""]
    show_qr = facts.kind != "cancelled" and facts.channel is not Channel.HOME_VIDEO
    html = _HTML.render(
        qr_cid=QR_CID if show_qr else "",
        qr_caption=tr(QR_CAPTION, lang),
        reference=facts.reference,
        html_lang=lang.split("@")[0],
        subject=subject,
        greeting=greeting,
        intro=intro,
        rows=rows,
        paragraphs=paragraphs,
        button=button,
        button_url=button_url,
        footer=footer,
    )
    return EmailText(
        subject=subject,
        text="\n".join(text_lines),
        html=html,
        qr_png=qr_png(facts.manage_url) if show_qr else None,
    )


#: The characters of one SMS.
SMS_LENGTH = 160
_SHORTEST_PLACE = 12


def sms_notice(facts: NoticeFacts) -> str:
    """The SMS of a notice: short, with the link (160 characters where the link allows)."""
    lang = facts.lang
    date = short_day_text(facts.starts_at, facts.timezone, lang)
    time = time_text(facts.starts_at, facts.timezone, lang)
    place = tr(SMS_VIDEO_PLACE, lang) if facts.channel is Channel.HOME_VIDEO else facts.site_name
    names = {"reference": facts.reference, "date": date, "time": time, "place": place}
    if facts.kind == "cancelled":
        return tr(SMS_CANCELLED, lang).format(**names)
    if facts.kind == "reminder" and facts.channel is Channel.HOME_VIDEO:
        return tr(SMS_VIDEO_REMINDER, lang).format(**names, url=facts.video_url)
    message = {"reminder": SMS_REMINDER, "moved": SMS_MOVED}.get(facts.kind, SMS_RECEIPT)
    text = tr(message, lang).format(**names, url=facts.manage_url)
    excess = len(text) - SMS_LENGTH
    if excess > 0 and len(place) - excess - 1 >= _SHORTEST_PLACE:
        # One message rather than two: the place's name is shortened, never the link.
        names["place"] = place[: len(place) - excess - 1].rstrip(" ,—-") + "…"
        text = tr(message, lang).format(**names, url=facts.manage_url)
    return text


def initials(name: str) -> str:
    """``María García`` → ``M. G.``: all the management page and an agent's calendar feed
    show of a citizen's name."""
    return " ".join(f"{part[0].upper()}." for part in name.split() if part[:1].isalpha())
