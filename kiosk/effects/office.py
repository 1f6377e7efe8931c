"""The cabin's office for the citizen: its address and opening hours, from the hub.

:class:`OfficeInformation` is the ``information`` part of :class:`kiosk.effects.runner.Parts`:
the information screen and the information ticket ask it for their items in the citizen's
language. It asks the hub each time (``GET /api/cabin/config``, so hours changed at the hub
show at once) and falls back to the office as last known when the hub cannot be reached.
"""

from __future__ import annotations

import logging

import httpx

from kiosk import texts
from kiosk.screens.information import InformationItem
from kiosk.steps import SiteInformation, StepError, fetch_site

logger = logging.getLogger(__name__)


def information_items(site: SiteInformation, lang: str) -> list[InformationItem]:
    """The office's address and opening hours as the information screen shows them."""
    address = tuple(line for line in (site.name, site.address) if line)
    hours = tuple(texts.opening_hours_lines(site.opening_hours, lang))
    items = [InformationItem(texts.tr(texts.ADDRESS, lang), address)] if address else []
    items.append(InformationItem(texts.tr(texts.OPENING_HOURS, lang), hours))
    return items


class OfficeInformation:
    """The office's information in a language: fresh from the hub, else as last known."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        hub_url: str,
        token: str,
        known: SiteInformation | None = None,
    ) -> None:
        self._http = http
        self._hub_url = hub_url
        self._token = token
        self.known = known

    async def __call__(self, lang: str) -> list[InformationItem]:
        """The items for ``lang``; :class:`StepError` when the office was never known."""
        try:
            self.known = await fetch_site(self._http, hub_url=self._hub_url, token=self._token)
        except StepError as exc:
            if self.known is None:
                raise
            logger.info("showing the office as last known: %s", exc.code)
        return information_items(self.known, lang)
