"""iCalendar files: the one a citizen's e-mail carries, and an agent's private feed.

Both are ``METHOD:PUBLISH``: the file says "here is an event", which every calendar program adds
or updates without asking the citizen to accept an invitation and answer it to an organiser
(``METHOD:REQUEST`` would need an ``ORGANIZER`` whose mailbox reads the replies; the hub has
none). Each event keeps one ``UID`` per appointment and its ``SEQUENCE`` is the appointment's
version, so the file of a moved appointment replaces the earlier one, and a cancelled one comes
with ``STATUS:CANCELLED``.

Times are written in UTC (``…Z``): unambiguous across daylight-saving changes, understood by
every calendar program, which shows them on its own clock; no ``VTIMEZONE`` is needed.

The agent's feed names the citizen by initials only and never carries their document, contacts
or management link (the link is the citizen's key to the appointment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

from contract.appointments import Channel
from hub.appointments import texts
from hub.appointments.texts import NoticeFacts

PRODID = "-//Cabina//Appointments//EN"
MEDIA_TYPE = "text/calendar"


def citizen_uid(appointment_id: str) -> str:
    """The ``UID`` of an appointment in the citizen's calendar: the same for all its files."""
    return f"{appointment_id}@appointments.cabina"


def agent_uid(appointment_id: str) -> str:
    """The ``UID`` of an appointment in an agent's feed."""
    return f"{appointment_id}@agenda.cabina"


def _calendar(name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name is not None:
        calendar.add("x-wr-calname", name)
    return calendar


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def appointment_calendar(
    facts: NoticeFacts,
    *,
    appointment_id: str,
    sequence: int,
    stamp: datetime,
    cancelled: bool = False,
) -> bytes:
    """The ``.ics`` of one appointment as the citizen's notice carries it."""
    lang = facts.lang
    event = Event()
    event.add("uid", citizen_uid(appointment_id))
    event.add("sequence", sequence)
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(facts.starts_at))
    event.add("dtend", _utc(facts.ends_at))
    event.add("summary", texts.tr(texts.ICS_SUMMARY, lang).format(errand=facts.errand))
    if facts.channel is Channel.HOME_VIDEO:
        location = texts.tr(texts.ICS_VIDEO_LOCATION, lang).format(url=facts.video_url)
    else:
        location = facts.place
    event.add("location", location)
    event.add(
        "description",
        texts.tr(texts.ICS_DESCRIPTION, lang).format(
            reference=facts.reference, url=facts.manage_url
        ),
    )
    event.add("url", facts.manage_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar = _calendar()
    calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One appointment in an agent's feed: nothing that identifies the citizen but initials."""

    appointment_id: str
    version: int
    reference: str
    starts_at: datetime
    ends_at: datetime
    errand: str
    initials: str
    channel: Channel
    site_name: str
    site_address: str


def agent_feed(entries: Sequence[FeedEntry], *, name: str, lang: str, stamp: datetime) -> bytes:
    """An agent's calendar of appointments, in the language their calendar is written in."""
    calendar = _calendar(texts.tr(texts.FEED_NAME, lang).format(name=name))
    for entry in entries:
        event = Event()
        event.add("uid", agent_uid(entry.appointment_id))
        event.add("sequence", entry.version)
        event.add("dtstamp", _utc(stamp))
        event.add("dtstart", _utc(entry.starts_at))
        event.add("dtend", _utc(entry.ends_at))
        channel = texts.channel_name(entry.channel, lang)
        event.add(
            "summary",
            texts.tr(texts.FEED_SUMMARY, lang).format(
                errand=entry.errand, initials=entry.initials, channel=channel
            ),
        )
        if entry.channel is Channel.HOME_VIDEO:
            event.add("location", texts.tr(texts.VIDEO_PLACE, lang))
        else:
            place = entry.site_name
            if entry.site_address:
                place = f"{entry.site_name}, {entry.site_address}"
            event.add("location", place)
        event.add("description", f"{texts.tr(texts.REFERENCE, lang)}: {entry.reference}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
