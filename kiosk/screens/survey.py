"""The survey: five faces, from very bad to very good; one touch answers."""

from __future__ import annotations

from kiosk.flow import AnswerSurvey, SkipSurvey
from kiosk.screens.base import KioskScreen


class SurveyScreen(KioskScreen):
    """How did it go?"""

    def rate(self, satisfaction: int) -> None:
        """The citizen touched a face (1 worst … 5 best)."""
        self.send(AnswerSurvey(satisfaction=satisfaction))

    def skip(self) -> None:
        """The citizen does not answer."""
        self.send(SkipSurvey())
