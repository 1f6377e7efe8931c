"""The home screen: talk to a person, or the few things the cabin does by itself."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk import texts
from kiosk.flow import Back, ChooseEntry, Finish, Flow, HomeEntry
from kiosk.screens.base import KioskScreen


class HomeScreen(KioskScreen):
    """Shows the entries; an entry that is not available is shown dimmed and does nothing."""

    talk_enabled = BooleanProperty(True)
    information_enabled = BooleanProperty(True)
    complaint_enabled = BooleanProperty(True)
    certificate_enabled = BooleanProperty(False)
    appointment_enabled = BooleanProperty(False)
    check_in_enabled = BooleanProperty(False)
    notice = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Enable what the flow says is available now."""
        super().render(flow)
        entries = flow.entries()
        self.talk_enabled = entries[HomeEntry.TALK_TO_AGENT]
        self.information_enabled = entries[HomeEntry.INFORMATION]
        self.complaint_enabled = entries[HomeEntry.COMPLAINT]
        self.certificate_enabled = entries[HomeEntry.PADRON_CERTIFICATE]
        self.appointment_enabled = entries[HomeEntry.APPOINTMENT]
        self.check_in_enabled = entries[HomeEntry.CHECK_IN]
        self.notice = texts.notice_text(flow.notice, self.lang)

    def choose(self, entry: str) -> None:
        """The citizen picked ``entry`` (a :class:`HomeEntry` value)."""
        self.send(ChooseEntry(HomeEntry(entry)))

    def back(self) -> None:
        """Back to the languages."""
        self.send(Back())

    def finish(self) -> None:
        """The citizen is done."""
        self.send(Finish())
