"""Run the receipt printer simulator, or render the example receipt."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hardware.health import PaperLevel
from hardware.receipt_printer.simulator.device import SimulatedPrinter
from hardware.receipt_printer.simulator.example import write_example
from hardware.receipt_printer.simulator.server import PrinterServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hardware.receipt_printer.simulator",
        description="A network ESC/POS receipt printer that saves what it prints as PNG files.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9100, help="TCP port (0: any free one)")
    parser.add_argument("--out", type=Path, help="save each receipt as DIR/receipt-NNNN.png")
    parser.add_argument(
        "--paper",
        choices=[level.value for level in (PaperLevel.OK, PaperLevel.NEAR_END, PaperLevel.OUT)],
        default=PaperLevel.OK.value,
        help="paper the printer reports at start",
    )
    parser.add_argument("--cover-open", action="store_true", help="start with the cover open")
    parser.add_argument("--example", type=Path, metavar="PNG", help="render the example and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every receipt")
    return parser


async def _serve(printer: SimulatedPrinter, host: str, port: int) -> None:
    server = PrinterServer(printer)
    bound_host, bound_port = await server.start(host, port)
    print(f"Receipt printer simulator on {bound_host}:{bound_port}", flush=True)
    try:
        await server.serve_forever()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.example is not None:
        path = write_example(args.example)
        print(f"Wrote {path}")
        return 0
    printer = SimulatedPrinter(out_dir=args.out)
    printer.set_paper(PaperLevel(args.paper))
    printer.set_cover_open(args.cover_open)
    try:
        asyncio.run(_serve(printer, args.host, args.port))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
