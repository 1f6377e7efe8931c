"""Receipt printing over python-escpos connections: USB, serial or network (port 9100).

Each job runs: status before (DLE EOT 1–4) → ``ESC @`` → ``ESC t n`` → lines → QR → cut →
status after. Text goes out in one code page chosen from the printer profile (PC858 first:
it holds every Spanish, Catalan, Basque and Galician letter, the middle dot and the euro sign).
Network connections are opened per job, as a port-9100 printer serves one client at a time;
serial and USB ones stay open. Only this module imports ``escpos``.
"""

from __future__ import annotations

import logging
import socket
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hardware.errors import (
    BackendUnavailable,
    ConfigurationError,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
    missing_library,
)
from hardware.health import DeviceHealth, PaperLevel
from hardware.printer import escpos_status
from hardware.printer.config import ReceiptPrinterConfig
from hardware.printer.escpos_status import PrinterStatus
from hardware.printer.receipt import (
    DEVICE,
    PrintResult,
    health_from_error,
    health_from_status,
    refuse_unless_ready,
)
from hardware.printer.ticket import Ticket, TicketLine

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Code pages that print Iberian text, best first; the first the profile lists is used.
CODEPAGE_PREFERENCE: tuple[str, ...] = ("CP858", "CP1252", "ISO_8859-15", "CP850", "CP437")
_DEFAULT_COLUMNS = 42
_QR_ERROR_LEVEL_M = 1


@dataclass(frozen=True, slots=True)
class CodePage:
    """A code page by python-escpos name, and the number ``ESC t n`` selects it with."""

    name: str
    number: int


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


def _connection(escpos: Any, cfg: ReceiptPrinterConfig, profile: Any, page: CodePage) -> Any:
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
    device = _connection(escpos, cfg, profile, page)
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


class EscposReceiptPrinter:
    """A receipt printer driven through one python-escpos printer object."""

    def __init__(
        self,
        device: Any,
        *,
        backend: str,
        codepage: CodePage,
        columns: int,
        native_qr: bool,
        center_images: bool,
        reads_status: bool,
        keep_open: bool,
        errors: tuple[type[BaseException], ...],
        not_found: type[BaseException],
        unavailable: tuple[type[BaseException], ...] = (),
        connect: Callable[[], None] | None = None,
    ) -> None:
        self._dev = device
        self.backend = backend
        self.codepage = codepage
        self._columns = columns
        self._native_qr = native_qr
        self._center_images = center_images
        self._reads_status = reads_status
        self._keep_open = keep_open
        self._errors = errors
        self._not_found = not_found
        self._unavailable = unavailable
        self._connect = connect or device.open
        self._is_open = False
        self._lock = threading.Lock()
        self._counters = {"jobs": 0, "failed_jobs": 0}

    # -- public ----------------------------------------------------------------------------

    def print_ticket(self, ticket: Ticket) -> PrintResult:
        """Print ``ticket``, refusing when the printer is out of paper or open."""
        with self._lock:
            try:
                result = self._guarded(lambda: self._job(ticket))
            except HardwareError:
                self._counters["failed_jobs"] += 1
                raise
            self._counters["jobs"] += 1
            return result

    def status(self) -> PrinterStatus:
        """The printer's status (DLE EOT 1–4), or an unknown one if it cannot answer."""
        with self._lock:
            return self._guarded(self._status_session)

    def self_test(self) -> DeviceHealth:
        """Query the status and turn it into a health snapshot; never raises."""
        try:
            status = self.status()
        except HardwareError as exc:
            return health_from_error(self.backend, exc, self._counters)
        return health_from_status(self.backend, status, self._counters)

    def close(self) -> None:
        """Close the connection; the next job opens it again."""
        with self._lock:
            self._drop()

    # -- sessions --------------------------------------------------------------------------

    def _guarded(self, work: Callable[[], T]) -> T:
        try:
            self._open()
            value = work()
        except HardwareError:
            self._drop()
            raise
        except self._errors as exc:
            self._drop()
            raise DeviceIOError(
                f"Talking to the receipt printer failed: {type(exc).__name__}: {exc}",
                device=DEVICE,
            ) from exc
        if not self._keep_open:
            self._drop()
        return value

    def _open(self) -> None:
        if self._is_open:
            return
        try:
            self._connect()
        except self._unavailable as exc:
            raise BackendUnavailable(
                "The usb backend needs libusb-1.0 (Debian package libusb-1.0-0)", device=DEVICE
            ) from exc
        except self._not_found as exc:
            raise DeviceMissing(
                f"The receipt printer is not reachable: {exc}", device=DEVICE
            ) from exc
        self._is_open = True

    def _drop(self) -> None:
        if not self._is_open:
            return
        self._is_open = False
        try:
            self._dev.close()
        except self._errors as exc:
            logger.debug("Closing the receipt printer connection failed: %s", type(exc).__name__)

    def _status_session(self) -> PrinterStatus:
        return self._read_status() if self._reads_status else PrinterStatus.unknown()

    def _job(self, ticket: Ticket) -> PrintResult:
        before = self._read_status() if self._reads_status else None
        if before is not None:
            refuse_unless_ready(before)
        lines = self._send(ticket)
        if not self._reads_status:
            logger.info("Receipt sent: %d lines (no status read-back)", lines)
            return PrintResult(PaperLevel.UNKNOWN, lines)
        after = self._read_status()
        refuse_unless_ready(after)
        logger.info("Receipt printed: %d lines, paper %s", lines, after.paper.value)
        return PrintResult(after.paper, lines)

    # -- the byte stream -------------------------------------------------------------------

    def _ask(self, n: int) -> int:
        query = escpos_status.DLE_EOT + bytes((n,))
        if self.backend == "serial":
            # python-escpos reads 16 bytes and so waits out the whole timeout on a serial
            # line; a status answer is one byte.
            self._dev._raw(query)
            reply = bytes(self._dev.device.read(1))
        else:
            reply = bytes(self._dev.query_status(query))
        if not reply:
            raise DeviceIOError(
                f"Expected a status byte for DLE EOT {n}, but got no answer", device=DEVICE
            )
        value = reply[-1]
        if not escpos_status.is_status_byte(value):
            raise DeviceIOError(
                f"Expected a status byte 0b0xx1xx10 for DLE EOT {n}, but got 0x{value:02x}",
                device=DEVICE,
            )
        return value

    def _read_status(self) -> PrinterStatus:
        return escpos_status.decode(self._ask(1), self._ask(2), self._ask(3), self._ask(4))

    def _send(self, ticket: Ticket) -> int:
        dev = self._dev
        dev.hw("INIT")
        # ESC @ puts the printer back on its default code page, which python-escpos does not
        # track: forget the current one so that charcode() sends ESC t n again.
        dev.magic.encoding = None
        dev.charcode(self.codepage.name)
        lines = sum(self._line(line) for line in ticket.header + ticket.body)
        if ticket.qr is not None:
            dev.set(align="center")
            dev.qr(
                ticket.qr,
                ec=_QR_ERROR_LEVEL_M,
                size=ticket.qr_module_size,
                native=self._native_qr,
                center=self._center_images and not self._native_qr,
            )
        lines += sum(self._line(line) for line in ticket.footer)
        if ticket.cut:
            dev.cut()
        else:
            dev.print_and_feed(3)
        return lines

    def _line(self, line: TicketLine) -> int:
        self._dev.set(
            align=line.align.value,
            bold=line.bold,
            underline=1 if line.underline else 0,
            custom_size=True,
            width=line.width,
            height=line.height,
        )
        width = max(1, self._columns // line.width)
        pieces = textwrap.wrap(line.text, width) or [""]
        for piece in pieces:
            self._dev.text(piece + "\n")
        return len(pieces)
