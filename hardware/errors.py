"""Errors of the hardware layer, each with a code for telemetry and a message for the citizen.

::

    HardwareError                    code
    ├── ConfigurationError           config        (unknown backend name, bad option)
    ├── BackendUnavailable           backend       (vendor library not installed)
    ├── DeviceMissing                missing       (unplugged, not found, vanished)
    ├── DeviceBusy                   busy
    ├── DeviceIOError                io            (connection dropped, garbage, timeout)
    ├── CoverOpen                    cover_open
    ├── OutOfPaper                   paper_out
    ├── PaperJam                     jammed
    └── NoDocument                   no_document

Drivers raise these (translating vendor errors with ``raise … from exc``); they never show
anything. The kiosk shows :meth:`HardwareError.citizen_message` in the citizen's language and
sends :attr:`HardwareError.code` to the hub as telemetry.
"""

from __future__ import annotations

from cabina.i18n import translations

_DOMAIN = "hardware"


def _(message: str) -> str:
    """Mark a message for extraction; it is translated when shown."""
    return message


class HardwareError(Exception):
    """A device could not do what was asked."""

    code = "error"
    citizen_text = _("This device is not working right now. Please ask the staff for help.")

    def __init__(self, detail: str, *, device: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.device = device

    def citizen_message(self, lang: str) -> str:
        """The short message a citizen reads, in ``lang``."""
        return translations("hardware", _DOMAIN, lang).gettext(self.citizen_text)


class ConfigurationError(HardwareError):
    """The cabin's hardware configuration names something that does not exist."""

    code = "config"


class BackendUnavailable(HardwareError):
    """The library a backend needs is not installed."""

    code = "backend"


class DeviceMissing(HardwareError):
    """The device is not connected, or vanished."""

    code = "missing"
    citizen_text = _("This device is not available right now. Please ask the staff for help.")


class DeviceBusy(HardwareError):
    """The device is in use by another job."""

    code = "busy"
    citizen_text = _("The device is busy. Please wait a moment and try again.")


class DeviceIOError(HardwareError):
    """Talking to the device failed (connection lost, timeout, unreadable answer)."""

    code = "io"


class CoverOpen(HardwareError):
    """A cover of the device is open."""

    code = "cover_open"
    citizen_text = _("The device cover is open. Please close it and try again.")


class OutOfPaper(HardwareError):
    """The printer has no paper."""

    code = "paper_out"
    citizen_text = _("The printer has run out of paper. Please ask the staff for help.")


class PaperJam(HardwareError):
    """Paper is stuck in the scanner or printer."""

    code = "jammed"
    citizen_text = _("The paper is stuck. Please ask the staff for help.")


class NoDocument(HardwareError):
    """The scanner found no document to scan."""

    code = "no_document"
    citizen_text = _("There is no document in the scanner. Please place it and try again.")


def missing_library(package: str, backend: str) -> BackendUnavailable:
    """The error for a backend whose vendor library is not installed."""
    return BackendUnavailable(
        f"The {backend} backend needs the Python package {package!r}: pip install {package}"
    )
