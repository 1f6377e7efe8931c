"""python-escpos connections for a receipt printer configuration: USB, serial or network.

Text goes out in one code page chosen from the printer profile (PC858 first: it holds every
Spanish, Catalan, Basque and Galician letter, the middle dot and the euro sign). Network
connections are opened per job, as a port-9100 printer serves one client at a time; serial and
USB ones stay open. Only this module imports ``escpos`` (and, through it, pyserial and pyusb).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from hardware.errors import ConfigurationError, DeviceMissing, missing_library
from hardware.receipt_printer.base import DEVICE
from hardware.receipt_printer.config import ReceiptPrinterConfig
from hardware.receipt_printer.escpos_backend import CodePage, EscposReceiptPrinter

logger = logging.getLogger(__name__)

#: Code pages that print Iberian text, best first; the first the profile lists is used.
CODEPAGE_PREFERENCE: tuple[str, ...] = ("CP858", "CP1252", "ISO_8859-15", "CP850", "CP437")
_DEFAULT_COLUMNS = 42


def _escpos(backend: str) -> Any:
    try:
        import escpos.capabilities
        import escpos.exceptions
        import escpos.printer
    except ImportError as exc:
        raise missing_library("python-escpos", backend) from exc
    return escpos


def choose_codepage(code_pages: dict[str, Any], wanted: str | None) -> CodePage:
    """The code page to print with, from a profile's ``{name: number}`` table."""
    if wanted is not None:
        name = wanted.upper()
        if name not in code_pages:
            raise ConfigurationError(
                f"Expected a code page the printer profile lists "
                f"({', '.join(sorted(code_pages))}), but got {wanted!r}"
            )
        return CodePage(name, int(code_pages[name]))
    for name in CODEPAGE_PREFERENCE:
        if name in code_pages:
            if name not in ("CP858", "CP1252", "ISO_8859-15"):
                logger.warning(
                    "Printer profile has no code page with the euro sign; using %s", name
                )
            return CodePage(name, int(code_pages[name]))
    raise ConfigurationError(
        f"Expected a printer profile listing one of {', '.join(CODEPAGE_PREFERENCE)}, "
        f"but it lists {', '.join(sorted(code_pages)) or 'none'}"
    )


def _load_profile(escpos: Any, name: str) -> Any:
    try:
        return escpos.capabilities.get_profile(name)
    except KeyError:
        raise ConfigurationError(
            f"Expected a python-escpos printer profile such as 'default' or 'TM-T88V', "
            f"but got {name!r}"
        ) from None


def _columns(profile: Any) -> int:
    try:
        return int(profile.get_columns("a"))
    except (KeyError, ValueError, TypeError, AssertionError):
        return _DEFAULT_COLUMNS


def _known_width(profile: Any) -> bool:
    width = profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    return isinstance(width, int)


def _connection(escpos: Any, cfg: ReceiptPrinterConfig, page: CodePage) -> Any:
    """The python-escpos printer object for ``cfg``; it connects on first use."""
    # The code page is fixed: the driver selects it after every ESC @ (see _send).
    common: dict[str, Any] = {
        "profile": cfg.profile,
        "magic_encode_args": {"encoding": page.name, "disabled": True},
    }
    if cfg.backend in ("network", "simulator"):
        host = cfg.host or ("127.0.0.1" if cfg.backend == "simulator" else None)
        if not host:
            raise ConfigurationError("Expected 'host' for a network receipt printer, but got none")
        return escpos.printer.Network(host, cfg.port, cfg.timeout, **common)
    if cfg.backend == "serial":
        if not cfg.serial_port:
            raise ConfigurationError(
                "Expected 'serial_port' for a serial receipt printer, but got none"
            )
        try:
            import serial  # noqa: F401  (python-escpos needs it for Serial)
        except ImportError as exc:
            raise missing_library("pyserial", "serial") from exc
        return escpos.printer.Serial(
            cfg.serial_port, cfg.baudrate, timeout=cfg.timeout, dsrdtr=cfg.dsrdtr, **common
        )
    if cfg.backend == "usb":
        if cfg.vendor_id is None or cfg.product_id is None:
            raise ConfigurationError(
                "Expected 'vendor_id' and 'product_id' for a USB receipt printer, but got "
                f"{cfg.vendor_id!r} and {cfg.product_id!r}"
            )
        try:
            import usb.core  # noqa: F401  (python-escpos needs it for Usb)
        except ImportError as exc:
            raise missing_library("pyusb", "usb") from exc
        return escpos.printer.Usb(
            cfg.vendor_id,
            cfg.product_id,
            timeout=int(cfg.timeout * 1000),  # pyusb counts milliseconds
            in_ep=cfg.in_ep if cfg.in_ep is not None else 0x82,
            out_ep=cfg.out_ep,
            **common,
        )
    raise ConfigurationError(
        f"Expected a receipt printer backend ({', '.join(('network', 'serial', 'usb'))}), "
        f"but got {cfg.backend!r}"
    )


def _tcp_connector(device: Any) -> Callable[[], None]:
    """Connect a python-escpos Network printer without its ``open()``.

    ``Network.open()`` drops the socket of a failed connection without closing it (a
    ResourceWarning on every retry while the printer is off), so the driver connects and hands
    the socket over; writing, reading and closing stay python-escpos's.
    """

    def connect() -> None:
        try:
            device.device = socket.create_connection((device.host, device.port), device.timeout)
        except OSError as exc:
            raise DeviceMissing(
                f"The receipt printer at {device.host}:{device.port} is not reachable: {exc}",
                device=DEVICE,
            ) from exc

    return connect


def _usb_unavailable_errors() -> tuple[type[BaseException], ...]:
    import usb.core

    return (usb.core.NoBackendError,)


def open_escpos_printer(cfg: ReceiptPrinterConfig) -> EscposReceiptPrinter:
    """A receipt printer for a usb, serial, network or simulator configuration."""
    escpos = _escpos(cfg.backend)
    profile = _load_profile(escpos, cfg.profile)
    page = choose_codepage(profile.get_code_pages(), cfg.codepage)
    device = _connection(escpos, cfg, page)
    reads = cfg.backend != "usb" or cfg.in_ep is not None
    return EscposReceiptPrinter(
        device,
        backend=cfg.backend,
        codepage=page,
        columns=_columns(profile),
        native_qr=bool(profile.supports("qrCode")),
        center_images=_known_width(profile),
        reads_status=reads,
        keep_open=cfg.backend in ("serial", "usb"),
        errors=(OSError, escpos.exceptions.Error),
        not_found=escpos.exceptions.DeviceNotFoundError,
        unavailable=_usb_unavailable_errors() if cfg.backend == "usb" else (),
        connect=_tcp_connector(device) if cfg.backend in ("network", "simulator") else None,
    )
