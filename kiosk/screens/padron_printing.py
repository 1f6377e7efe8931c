"""The padrón's printing: nothing to decide, only to wait for the paper."""

from __future__ import annotations

from kiosk.screens.base import KioskScreen


class PadronPrintingScreen(KioskScreen):
    """A spinner and where the certificate comes out."""
