"""The cabin's office as the hub describes it, and the information ticket a citizen takes away.

:func:`fetch_site` asks the hub (``GET /api/cabin/config``) for the site's name, address and
opening hours; :func:`information_ticket` lays them out for the receipt printer in the
citizen's language. :func:`receipt_line` is what every receipt line of the kiosk goes through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from contract.cabin import CabinConfig
from hardware.receipt_printer import Align, Ticket, TicketLine
from kiosk import texts
from kiosk.steps.errors import StepError

__all__ = ["SiteInformation", "fetch_site", "information_ticket", "receipt_line"]


@dataclass(frozen=True, slots=True)
class SiteInformation:
    """The cabin's office as the hub describes it: what the information screen and ticket say."""

    name: str
    address: str
    timezone: str = "Europe/Madrid"
    #: As the hub stores them: ``{"mon": ["09:00-14:00"], …}`` or ``{"always": true}``.
    opening_hours: Mapping[str, Any] = field(default_factory=dict)


async def fetch_site(http: httpx.AsyncClient, *, hub_url: str, token: str) -> SiteInformation:
    """The cabin's site, from ``GET /api/cabin/config``; :class:`StepError` if unavailable."""
    try:
        response = await http.get(
            hub_url.rstrip("/") + "/api/cabin/config",
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as exc:
        raise StepError("information_failed", f"{type(exc).__name__} asking the hub") from exc
    if response.status_code != 200:
        raise StepError(
            "information_failed",
            f"Expected HTTP 200 with the cabin's site, but got {response.status_code}",
        )
    try:
        site = CabinConfig.model_validate_json(response.content).site
    except ValidationError as exc:
        raise StepError(
            "information_failed",
            f"Expected the cabin's configuration, but it does not fit ({exc.error_count()} errors)",
        ) from exc
    return SiteInformation(
        name=site.name,
        address=site.address,
        timezone=site.timezone,
        opening_hours=dict(site.opening_hours),
    )


#: Typography that receipt printers' code pages lack, and what to print instead.
_PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def receipt_line(text: str, **style: Any) -> TicketLine:
    """A line of a receipt, its typography replaced by what receipt printers can print."""
    return TicketLine(text.translate(_PLAIN), **style)


def information_ticket(
    site: SiteInformation, lang: str, opens_at: datetime | None = None
) -> Ticket:
    """The ticket a citizen takes away: the office, its address and hours, in ``lang``."""
    body = []
    if site.address:
        body += [receipt_line(texts.tr(texts.ADDRESS, lang), bold=True), receipt_line(site.address)]
    body.append(receipt_line(texts.tr(texts.OPENING_HOURS, lang), bold=True))
    body += [receipt_line(line) for line in texts.opening_hours_lines(site.opening_hours, lang)]
    if opens_at is not None:
        body.append(receipt_line(texts.opens_text(opens_at, lang, site.timezone), bold=True))
    return Ticket(
        header=(
            receipt_line(texts.tr(texts.TICKET_TITLE, lang), bold=True, align=Align.CENTER),
            receipt_line(site.name, align=Align.CENTER),
        ),
        body=tuple(body),
        footer=(receipt_line(texts.tr(texts.TICKET_THANKS, lang), align=Align.CENTER),),
    )
