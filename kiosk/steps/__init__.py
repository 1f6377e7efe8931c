"""The agent's steps done with the cabin's devices, and the office's information ticket.

- :mod:`kiosk.steps.runner`: :class:`StepRunner`, the device work of each step;
- :mod:`kiosk.steps.documents`: :class:`DocumentClient`, the call's documents at the hub;
- :mod:`kiosk.steps.pdf`: a page drawn as a picture, a signature stamped on a page;
- :mod:`kiosk.steps.information`: the office's address and hours, and their ticket;
- :mod:`kiosk.steps.errors`: :class:`StepError`.
"""

from __future__ import annotations

from kiosk.steps.documents import DocumentClient
from kiosk.steps.errors import StepError
from kiosk.steps.information import (
    SiteInformation,
    fetch_site,
    information_ticket,
    receipt_line,
)
from kiosk.steps.pdf import render_page, stamp_signature
from kiosk.steps.runner import StepRunner

__all__ = [
    "DocumentClient",
    "SiteInformation",
    "StepError",
    "StepRunner",
    "fetch_site",
    "information_ticket",
    "receipt_line",
    "render_page",
    "stamp_signature",
]
