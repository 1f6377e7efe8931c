"""The goodbye screen: thanks, a reminder to take one's papers, and that nothing was kept."""

from __future__ import annotations

from kiosk.screens.base import KioskScreen


class GoodbyeScreen(KioskScreen):
    """The end of a visit; any touch (or a few seconds) brings back the attract screen."""
