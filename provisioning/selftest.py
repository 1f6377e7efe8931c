"""``cabina provision test``: check every device, print a test ticket, tell the hub.

The device checks are :func:`hardware.check.run_check`'s; the ticket names the cabin, its hub
and the time, so the technician leaves with paper proof of what was installed where. The
result goes to the hub's fleet page (``POST /api/cabin/selftest``), and the same rows can be
sent as telemetry (:func:`telemetry_of`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from hardware.check import CheckResult, Opener, exit_status, run_check
from hardware.config import HardwareConfig, open_device
from hardware.errors import HardwareError
from hardware.receipt_printer import Align, Ticket, TicketLine
from provisioning.pinning import HubEndpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SelfTest:
    """The checks of every configured device, and what the test ticket did."""

    results: list[CheckResult]
    ticket: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every required device works."""
        return exit_status(self.results) == 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, as sent to the hub."""
        return {"ok": self.ok, "results": [result.to_json() for result in self.results]}


def ticket_for(cabin: str, hub: str, at: datetime) -> Ticket:
    """The ticket a technician keeps: which cabin, which hub, when."""
    return Ticket(
        header=(TicketLine("CABINA", bold=True, align=Align.CENTER, width=2, height=2),),
        body=(
            TicketLine("Self-test", align=Align.CENTER, bold=True),
            TicketLine(at.strftime("%Y-%m-%d %H:%M"), align=Align.CENTER),
            TicketLine(f"Cabin: {cabin}"),
            TicketLine(f"Hub: {hub}"),
            TicketLine("áéíóú àèòç ñ ü l·l"),
        ),
    )


def print_ticket(cfg: HardwareConfig, ticket: Ticket, *, opener: Opener = open_device) -> str:
    """Print ``ticket`` on the receipt printer; what happened, in one line."""
    if cfg.receipt_printer is None:
        return "Test ticket: no receipt printer configured"
    try:
        printer: Any = opener("receipt_printer", cfg.receipt_printer)
        try:
            result = printer.print_ticket(ticket)
        finally:
            printer.close()
    except HardwareError as exc:
        return f"Test ticket: not printed ({exc.code}): {exc}"
    return f"Test ticket: printed {result.lines} lines (paper: {result.paper.value})"


def run_selftest(
    cfg: HardwareConfig,
    *,
    ticket: Ticket | None = None,
    opener: Opener = open_device,
    simulated_faults: dict[str, str] | None = None,
) -> SelfTest:
    """Check every device, then print ``ticket`` if the receipt printer works."""
    results = run_check(cfg, opener=opener, simulated_faults=simulated_faults)
    if ticket is None:
        return SelfTest(results)
    printer = next((r for r in results if r.device == "receipt_printer"), None)
    if printer is not None and printer.failed:
        return SelfTest(results, f"Test ticket: not printed, the printer is {printer.state.value}")
    return SelfTest(results, print_ticket(cfg, ticket, opener=opener))


def telemetry_of(results: Sequence[CheckResult]) -> list[dict[str, Any]]:
    """The rows as ``telemetry`` devices (``hardware.health.DeviceHealth.to_json``'s shape)."""
    return [
        {
            "device": result.device,
            "backend": result.backend,
            "state": result.state.value,
            "paper": result.paper.value if result.paper is not None else None,
            "last_error": result.error,
            "counters": {},
        }
        for result in results
    ]


def report(endpoint: HubEndpoint, token: str, selftest: SelfTest, *, timeout: float = 10.0) -> str:
    """Send the self-test to the hub; one line saying whether it arrived."""
    try:
        with endpoint.client(token=token, timeout=timeout) as client:
            response = client.post("/api/cabin/selftest", json=selftest.to_json())
    except httpx.HTTPError as exc:
        return f"Hub: not reported, cannot reach {endpoint.url} ({type(exc).__name__})"
    if response.status_code == 401:
        return "Hub: not reported, the hub refused this cabin's credential (revoked?)"
    if response.status_code != 204:
        return f"Hub: not reported, HTTP {response.status_code}"
    return f"Hub: reported to {endpoint.url}"
