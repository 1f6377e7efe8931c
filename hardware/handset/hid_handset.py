"""The ``hid`` backend: a USB HID telephony handset read through hidapi."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

from hardware.errors import ConfigurationError, DeviceMissing, missing_library
from hardware.handset.hid_report import (
    TELEPHONY_PAGE,
    HidReportError,
    TelephonyTracker,
    parse_descriptor,
)
from hardware.handset.readings import HookReading, Reading

logger = logging.getLogger(__name__)

#: How long one read waits for a report, in milliseconds.
POLL_MS = 20
#: The largest input report read (a full-speed interrupt endpoint's packet).
MAX_REPORT = 64


class HidDevice(Protocol):
    """The part of ``hid.device`` this backend uses."""

    def read(self, max_length: int, timeout_ms: int = 0) -> list[int]:
        """An input report, or an empty list when none came within the timeout."""
        ...

    def get_report_descriptor(self) -> list[int]:
        """The device's report descriptor."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


class HidLink:
    """An open HID handset: its descriptor parsed once, then reports turned into readings."""

    def __init__(self, device: HidDevice, *, name: str) -> None:
        self._device = device
        self._name = name
        self._ignored = 0
        self._status_wanted = False
        try:
            descriptor = bytes(device.get_report_descriptor())
        except (OSError, ValueError) as exc:
            raise DeviceMissing(
                f"The HID handset {name} did not give its report descriptor: {exc}",
                device="handset",
            ) from exc
        layout = parse_descriptor(descriptor)
        if not layout.has_telephony():
            raise ConfigurationError(
                f"Expected a telephony device (HID usage page 0x0B with a hook switch or "
                f"phone keys), but {name} has none",
                device="handset",
            )
        self._tracker = TelephonyTracker(layout)

    @property
    def ignored(self) -> int:
        """Reports ignored so far as unreadable."""
        return self._ignored

    def read(self) -> list[Reading]:
        """The readings of the report that arrives within one poll, if any."""
        try:
            report = bytes(self._device.read(MAX_REPORT, POLL_MS))
        except (OSError, ValueError) as exc:
            raise DeviceMissing(
                f"The HID handset {self._name} stopped answering: {exc}", device="handset"
            ) from exc
        readings: list[Reading] = []
        if report:
            try:
                readings = self._tracker.update(report)
            except HidReportError as exc:
                self._ignored += 1
                logger.warning("Ignored a report from the HID handset: %s", exc)
        if self._status_wanted:
            # HID handsets report on change only: the last report is the current position.
            self._status_wanted = False
            readings.append(HookReading(self._tracker.off_hook))
        return readings

    def request_status(self) -> None:
        """Have the next :meth:`read` include the hook position."""
        self._status_wanted = True

    def close(self) -> None:
        """Release the device."""
        self._device.close()


def hidapi() -> ModuleType:
    """The hidapi module, or the error naming the package to install."""
    try:
        import hid  # imported here: only this backend needs hidapi
    except ImportError as exc:
        raise missing_library("hidapi", "hid") from exc
    module: ModuleType = hid
    return module


def open_hid_device(vendor_id: int | None, product_id: int | None, path: str | None) -> HidDevice:
    """Open a HID device by hidraw path, or else by vendor and product id, with hidapi."""
    device = hidapi().device()
    try:
        if path is not None:
            device.open_path(path.encode())
        else:
            device.open(vendor_id or 0, product_id or 0)
    except (OSError, ValueError) as exc:
        wanted = path or f"{vendor_id or 0:04x}:{product_id or 0:04x}"
        raise DeviceMissing(
            f"Expected a USB HID handset {wanted}, but it cannot be opened: {exc}",
            device="handset",
        ) from exc
    opened: HidDevice = device
    return opened


@dataclass(frozen=True, slots=True)
class HidTelephonyInfo:
    """A HID device declaring the Telephony usage page: a handset or headset candidate."""

    path: str
    vendor_id: int
    product_id: int
    product: str


def list_hid_telephony() -> list[HidTelephonyInfo]:
    """The attached HID devices whose top-level usage page is Telephony (0x0B)."""
    found = []
    for info in hidapi().enumerate():
        if info.get("usage_page") != TELEPHONY_PAGE:
            continue
        path = info.get("path", b"")
        found.append(
            HidTelephonyInfo(
                path=path.decode(errors="replace") if isinstance(path, bytes) else str(path),
                vendor_id=int(info.get("vendor_id", 0)),
                product_id=int(info.get("product_id", 0)),
                product=str(info.get("product_string") or ""),
            )
        )
    return found
