"""What is attached to the cabin: USB devices, scanners, cameras, serial ports, handsets, sound.

Each listing is a :class:`Section`. A listing that cannot be made (no libusb, no SANE) says
so in one line in its section instead of failing the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.errors import HardwareError, missing_library

logger = logging.getLogger(__name__)

#: USB devices a cabin is known to use, by (vendor, product); product None: the whole vendor.
KNOWN_USB: Mapping[tuple[int, int | None], tuple[str, str]] = {
    (0x04B8, 0x0202): ("receipt printer", "Epson TM-T88 series"),
    (0x04B8, 0x0E15): ("receipt printer", "Epson TM-T20II"),
    (0x0416, 0x5011): ("receipt printer", "POS-58 thermal printer"),
    (0x0519, None): ("receipt printer", "Star Micronics"),
    (0x1504, None): ("receipt printer", "Bixolon"),
    (0x0DD4, None): ("receipt printer", "Custom kiosk printer"),
    (0x1D90, None): ("receipt printer", "Citizen"),
    (0x04C5, None): ("scanner", "Fujitsu fi / ScanSnap"),
    (0x07B3, None): ("scanner", "Plustek"),
    (0x0638, None): ("scanner", "Avision"),
    (0x03F0, None): ("A4 printer", "HP"),
    (0x04F9, None): ("A4 printer", "Brother"),
    (0x0B0E, None): ("handset", "Jabra"),
    (0x047F, None): ("handset", "Poly (Plantronics)"),
    (0x1395, None): ("handset", "EPOS / Sennheiser"),
    (0x6993, None): ("handset", "Yealink"),
    (0x0403, 0x6001): ("serial adapter", "FTDI FT232R (serial handset?)"),
    (0x067B, 0x2303): ("serial adapter", "Prolific PL2303 (serial handset?)"),
    (0x10C4, 0xEA60): ("serial adapter", "Silicon Labs CP210x (serial handset?)"),
    (0x1A86, 0x7523): ("serial adapter", "QinHeng CH340 (serial handset?)"),
}
#: USB interface classes that tell what an unknown device is.
USB_CLASSES: Mapping[int, str] = {0x07: "printer", 0x0E: "camera", 0x01: "audio", 0x03: "HID"}


@dataclass(frozen=True, slots=True)
class Found:
    """One thing found: what it is, the name to configure it by, and a description."""

    kind: str
    name: str
    description: str = ""

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"kind": self.kind, "name": self.name, "description": self.description}


@dataclass(frozen=True, slots=True)
class Section:
    """One listing."""

    title: str
    found: list[Found] = field(default_factory=list)
    empty: str = "none found"
    problem: str | None = None  # why the listing could not be made

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "title": self.title,
            "found": [f.to_json() for f in self.found],
            "problem": self.problem,
        }


def classify_usb(vendor: int, product: int, classes: set[int]) -> tuple[str, str] | None:
    """What a USB device is for a cabin, or None if nothing a cabin uses."""
    known = KNOWN_USB.get((vendor, product)) or KNOWN_USB.get((vendor, None))
    if known is not None:
        return known
    for usb_class, kind in USB_CLASSES.items():
        if usb_class in classes:
            return kind, "unknown model"
    return None


def _interface_classes(device: Any) -> set[int]:
    classes = {int(device.bDeviceClass)}
    try:
        for configuration in device:
            for interface in configuration:
                classes.add(int(interface.bInterfaceClass))
    except Exception as exc:  # pyusb raises its own and OS errors for descriptors it cannot read
        logger.debug("Cannot read the interfaces of a USB device: %s", exc)
    return classes


def list_usb(find: Callable[..., Any] | None = None) -> Section:
    """USB devices a cabin may use, by vendor:product id and interface class (pyusb).

    ``find`` stands in for ``usb.core.find`` (a pyusb backend of one's choice, say).
    """
    title = "USB devices"
    try:
        import usb.core  # imported here: only this listing needs pyusb
    except ImportError:
        return Section(title, problem=str(missing_library("pyusb", "usb")))
    try:
        devices = list((find or usb.core.find)(find_all=True))
    except usb.core.NoBackendError:
        return Section(title, problem="cannot list USB devices: libusb is not installed")
    except (usb.core.USBError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)  # without pyusb's "[Errno None]"
        return Section(title, problem=f"cannot list USB devices: {reason}")
    found = []
    others = 0
    for device in devices:
        vendor, product = int(device.idVendor), int(device.idProduct)
        what = classify_usb(vendor, product, _interface_classes(device))
        if what is None:
            others += 1
            continue
        found.append(Found(what[0], f"{vendor:04x}:{product:04x}", what[1]))
    if not devices:
        return Section(title, empty="no USB devices found")
    empty = "nothing a cabin uses"
    if others:
        found.append(Found("other", f"{others} more", "not printers, scanners or handsets"))
    return Section(title, found, empty=empty)


def list_sane() -> Section:
    """The scanners SANE sees."""
    from hardware.scanner.sane_library import list_devices

    title = "SANE scanners"
    try:
        devices = list_devices()
    except HardwareError as exc:
        return Section(title, problem=f"cannot list scanners: {exc}")
    return Section(
        title, [Found("scanner", d.name, f"{d.vendor} {d.model} ({d.kind})") for d in devices]
    )


def list_cameras(dev: Path = Path("/dev")) -> Section:
    """The V4L2 video devices (``/dev/video*``)."""
    nodes = sorted(dev.glob("video*"), key=lambda p: (len(p.name), p.name))
    return Section(
        "Cameras (/dev/video*)",
        [Found("camera", str(node)) for node in nodes],
        empty="no /dev/video* devices",
    )


def list_serial() -> Section:
    """The serial ports, where a serial handset shows up."""
    from hardware.handset.serial_handset import list_serial_ports

    title = "Serial ports"
    try:
        ports = list_serial_ports()
    except (HardwareError, OSError) as exc:
        return Section(title, problem=f"cannot list serial ports: {exc}")
    return Section(
        title,
        [
            Found("serial", p.device, " ".join(filter(None, [p.description, p.usb_id])))
            for p in ports
        ],
    )


def list_handsets() -> Section:
    """HID devices declaring the Telephony usage page."""
    from hardware.handset.hid_handset import list_hid_telephony

    title = "HID telephony devices"
    try:
        handsets = list_hid_telephony()
    except (HardwareError, OSError) as exc:
        return Section(title, problem=f"cannot list HID devices: {exc}")
    return Section(
        title,
        [
            Found("handset", h.path, f"{h.vendor_id:04x}:{h.product_id:04x} {h.product}".strip())
            for h in handsets
        ],
    )


def list_sound_cards() -> Section:
    """The ALSA sound cards, where a handset's earpiece and microphone show up."""
    from hardware.handset.audio import CARDS_FILE, list_alsa_cards

    cards = list_alsa_cards()
    empty = "no sound cards" if CARDS_FILE.exists() else f"no sound system ({CARDS_FILE} absent)"
    return Section(
        "Sound cards (ALSA)",
        [Found("sound", c.device, f"{c.driver}: {c.name}") for c in cards],
        empty=empty,
    )


LISTINGS: tuple[Callable[[], Section], ...] = (
    list_usb,
    list_sane,
    list_cameras,
    list_serial,
    list_handsets,
    list_sound_cards,
)


def detect_all(listings: tuple[Callable[[], Section], ...] = LISTINGS) -> list[Section]:
    """Every listing, each on its own: one failing does not hide the others."""
    return [listing() for listing in listings]


def format_sections(sections: list[Section]) -> str:
    """The listings as text for a technician."""
    lines = []
    for section in sections:
        lines.append(section.title)
        if section.problem is not None:
            lines.append(f"  {section.problem}")
        elif not section.found:
            lines.append(f"  {section.empty}")
        width = max((len(f.name) for f in section.found), default=0)
        for found in section.found:
            lines.append(f"  {found.name.ljust(width)}  {found.kind}  {found.description}".rstrip())
    return "\n".join(lines)
