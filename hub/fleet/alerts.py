"""What needs a technician now: cabins gone silent, devices in fault or missing, paper or disk
space running out.

Alerts are computed, never stored: each request looks at every cabin's live facts (from the
switchboard) and its last report. A cabin in service is *silent* when the hub has not heard
from it for more than a few heartbeat intervals; its devices raise alerts from its latest
telemetry, which only a connected cabin has (an offline cabin's alert is its silence). An
alert clears as soon as the cabin's next telemetry no longer shows it: the kiosk sends a new
snapshot whenever a device's state changes, so a refilled printer clears its alert within one
check of the kiosk's.

An offline cabin whose last heartbeat the hub does not know (it went away before this hub
process started, say) is counted silent from the moment this hub first noticed it offline:
:class:`SilenceWatch` remembers that moment, so a hub that restarts does not flag every cabin
before they have had time to reconnect.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contract.signalling import DISK_DEVICE

logger = logging.getLogger(__name__)

#: A cabin is silent after this many heartbeat intervals without a word from it.
SILENT_AFTER_HEARTBEATS = 3


class AlertKind(enum.StrEnum):
    """What an alert is about."""

    SILENT = "silent"
    DEVICE_FAULT = "device_fault"
    DEVICE_MISSING = "device_missing"
    PAPER_LOW = "paper_low"
    DEVICE_WARNING = "device_warning"
    DISK_LOW = "disk_low"


class Severity(enum.StrEnum):
    """How urgent an alert is: a fault stops a service, a warning will soon."""

    FAULT = "fault"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to look at, on one cabin."""

    kind: AlertKind
    severity: Severity
    cabin_id: int
    #: The device (``receipt_printer`` …), for device alerts.
    device: str | None = None
    #: An error code from ``hardware.errors`` (``paper_out``, ``jammed`` …) or a paper level.
    code: str | None = None
    #: When the hub last heard from a silent cabin, if it knows.
    since: datetime | None = None


class SilenceWatch:
    """Remembers when this hub first noticed each cabin offline without knowing its last word."""

    def __init__(self) -> None:
        self._noticed: dict[int, datetime] = {}

    def reference(
        self, cabin_id: int, *, online: bool, last_heard: datetime | None, now: datetime
    ) -> datetime:
        """The moment the cabin's silence is counted from."""
        if online:
            self._noticed.pop(cabin_id, None)
            return last_heard or now
        noticed = self._noticed.setdefault(cabin_id, now)
        return max(noticed, last_heard) if last_heard is not None else noticed

    def forget(self, keep: set[int]) -> None:
        """Forget cabins other than ``keep`` (retired, deleted)."""
        for cabin_id in set(self._noticed) - keep:
            del self._noticed[cabin_id]


def device_alerts(cabin_id: int, devices: Sequence[Mapping[str, Any]]) -> list[Alert]:
    """The alerts of a connected cabin's telemetry, device by device."""
    alerts: list[Alert] = []
    for device in devices:
        name = str(device.get("device") or "unknown")
        state = device.get("state")
        paper = device.get("paper")
        error = device.get("last_error")
        if name == DISK_DEVICE and state in ("warning", "fault"):
            severity = Severity.FAULT if state == "fault" else Severity.WARNING
            code = error or ("disk_full" if state == "fault" else "disk_low")
            alerts.append(Alert(AlertKind.DISK_LOW, severity, cabin_id, name, code))
        elif state == "missing":
            alerts.append(
                Alert(AlertKind.DEVICE_MISSING, Severity.FAULT, cabin_id, name, error or "missing")
            )
        elif state == "fault":
            code = error or ("paper_out" if paper == "out" else "fault")
            alerts.append(Alert(AlertKind.DEVICE_FAULT, Severity.FAULT, cabin_id, name, code))
        elif paper == "near_end":
            alerts.append(Alert(AlertKind.PAPER_LOW, Severity.WARNING, cabin_id, name, "near_end"))
        elif state == "warning":
            code = error or "warning"
            alerts.append(Alert(AlertKind.DEVICE_WARNING, Severity.WARNING, cabin_id, name, code))
    return alerts


def silence_alert(
    cabin_id: int,
    *,
    in_service: bool,
    reference: datetime,
    last_heard: datetime | None,
    now: datetime,
    silent_after: timedelta,
) -> Alert | None:
    """A silent alert if a cabin in service has said nothing for longer than ``silent_after``."""
    if not in_service or now - reference <= silent_after:
        return None
    return Alert(AlertKind.SILENT, Severity.FAULT, cabin_id, since=last_heard)


def urgency(alert: Alert) -> int:
    """A sort key: faults (0) before warnings (1)."""
    return 0 if alert.severity is Severity.FAULT else 1
