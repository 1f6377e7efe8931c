"""The call screen: the agent's face large, the citizen's own picture small, mute and hang up."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk import texts
from kiosk.flow import Flow, HangUp, State, ToggleMute
from kiosk.screens.base import KioskScreen
from kiosk.screens.video import VideoView  # noqa: F401 - used by call.kv


class CallScreen(KioskScreen):
    """A conversation with an agent."""

    peer = StringProperty("")
    muted = BooleanProperty(False)
    notice = StringProperty("")

    def render(self, flow: Flow) -> None:
        """Show who the citizen talks to, the microphone state and any notice."""
        super().render(flow)
        session = flow.session
        name = session.peer_name
        self.peer = (
            texts.tr(texts.AGENT_NAME, self.lang).format(name=name)
            if name
            else texts.title(State.CALL, self.lang)
        )
        self.muted = session.muted
        self.notice = texts.notice_text(flow.notice, self.lang)

    def toggle_mute(self) -> None:
        """Mute or unmute the microphone."""
        self.send(ToggleMute())

    def hang_up(self) -> None:
        """End the call."""
        self.send(HangUp())
