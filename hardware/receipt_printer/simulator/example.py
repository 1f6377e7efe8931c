"""The example municipal ticket, printed end to end through the driver into the simulator."""

from __future__ import annotations

from pathlib import Path

from hardware.receipt_printer.simulator.render import save_png
from hardware.receipt_printer.simulator.server import start_background
from hardware.receipt_printer.ticket import Align, Ticket, TicketLine

VERIFY_URL = "https://seu.valencia.es/verifica?csv=VLC-2F7K-9QX3-M4TB"


def example_ticket() -> Ticket:
    """A padrón certificate receipt from a València district office."""
    return Ticket(
        header=(
            TicketLine("Ajuntament de València", bold=True, align=Align.CENTER, height=2),
            TicketLine("Oficina d'Atenció Ciutadana · Russafa", align=Align.CENTER),
            TicketLine(""),
        ),
        body=(
            TicketLine("Sol·licitud de certificat d'empadronament", bold=True),
            TicketLine("Tràmit registrat correctament."),
            TicketLine("Número: 2025/004213"),
            TicketLine("Data: 14/03/2025 10:42"),
            TicketLine("Taxa: 0,00 €"),
            TicketLine(""),
            TicketLine("Verifiqueu el document amb el codi QR:", align=Align.CENTER),
        ),
        qr=VERIFY_URL,
        footer=(
            TicketLine("CSV: VLC-2F7K-9QX3-M4TB", align=Align.CENTER, underline=True),
            TicketLine("¿Cita? 96 352 54 78 · valencia.es", align=Align.CENTER),
        ),
    )


def write_example(path: Path, profile: str = "TM-T88V") -> Path:
    """Print :func:`example_ticket` to a fresh simulator and save the receipt as a PNG."""
    from hardware.receipt_printer import ReceiptPrinterConfig, open_receipt_printer

    with start_background() as sim:
        printer = open_receipt_printer(
            ReceiptPrinterConfig(backend="simulator", host=sim.host, port=sim.port, profile=profile)
        )
        try:
            printer.print_ticket(example_ticket())
        finally:
            printer.close()
        (receipt,) = sim.wait_for_receipts(1)
    return save_png(receipt, path)
