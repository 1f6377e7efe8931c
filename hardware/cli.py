"""``cabina hardware …``: what a technician runs to see and test the cabin's devices.

::

    cabina hardware check [--config F] [--json] [--simulate [--simulate-fault DEV=FAULT]…]
                          [--test-ticket]
    cabina hardware list [--json]
    cabina hardware handset {lift,hang-up,press K,bounce,garbage,unplug,replug,status} --socket S
    cabina hardware handset-simulator --socket S
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from cabina.cli import CommandError
from hardware.check import CheckResult, exit_status, format_table, result_from_error, run_check
from hardware.config import DEVICE_NAMES, HardwareConfig, open_device
from hardware.detect import detect_all, format_sections
from hardware.errors import HardwareError
from hardware.handset.control import COMMANDS, send_command

_FAULT_HELP = (
    "with --simulate: make a simulator show a fault, e.g. receipt_printer=paper_out "
    "(faults: camera=missing; scanner=missing; receipt_printer=paper_out|paper_low|"
    "cover_open|cutter_jam|missing; a4_printer=paper_out|paper_low|missing; "
    "handset=unplugged|silent); repeatable"
)


def register(subparsers: Any) -> None:
    """Add ``cabina hardware`` and its actions."""
    hardware = subparsers.add_parser(
        "hardware", help="detect and test the cabin's devices", description=__doc__
    )
    actions = hardware.add_subparsers(dest="hardware_action", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="open and test each configured device")
    check.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("CABINA_CONFIG"),
        help="the cabin's TOML settings, with a [hardware] table (default: $CABINA_CONFIG)",
    )
    check.add_argument("--json", action="store_true", help="print a JSON list, one per device")
    check.add_argument(
        "--simulate", action="store_true", help="start every simulator and check those"
    )
    check.add_argument(
        "--simulate-fault", action="append", default=[], metavar="DEVICE=FAULT", help=_FAULT_HELP
    )
    check.add_argument(
        "--test-ticket", action="store_true", help="then print a test ticket on the receipt printer"
    )
    check.set_defaults(func=run_check_command)

    listing = actions.add_parser("list", help="what is attached: USB, SANE, cameras, ports")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list_command)

    handset = actions.add_parser("handset", help="drive a running simulated handset")
    handset.add_argument("command", choices=COMMANDS, help="what the handset does")
    handset.add_argument("key", nargs="?", help="for press: 0-9, * or #")
    handset.add_argument("--socket", type=Path, required=True, help="its control socket")
    handset.set_defaults(func=run_handset_command)

    simulator = actions.add_parser(
        "handset-simulator", help="run a simulated serial handset until interrupted"
    )
    simulator.add_argument("--socket", type=Path, required=True, help="control socket to create")
    simulator.set_defaults(func=run_handset_simulator)


def _load(args: argparse.Namespace) -> HardwareConfig:
    if args.config is None:
        raise CommandError(
            "Expected --config FILE (or CABINA_CONFIG) naming the cabin's settings, or --simulate"
        )
    try:
        return HardwareConfig.from_toml(Path(args.config))
    except HardwareError as exc:
        raise CommandError(str(exc)) from exc


def _report(results: list[CheckResult], cfg: HardwareConfig, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.to_json() for r in results], indent=2))
        return
    configured = {name for name, _ in cfg.sections()} | {r.device for r in results}
    absent = [name for name in DEVICE_NAMES if name not in configured]
    print(format_table(results, colour=sys.stdout.isatty(), not_configured=absent))


def _test_ticket(cfg: HardwareConfig) -> str:
    """Print a test ticket on the receipt printer; what happened, in one line."""
    from hardware.receipt_printer import Align, Ticket, TicketLine

    if cfg.receipt_printer is None:
        return "Test ticket: no receipt printer configured"
    ticket = Ticket(
        header=(TicketLine("CABINA", bold=True, align=Align.CENTER, width=2, height=2),),
        body=(
            TicketLine("Test ticket", align=Align.CENTER),
            TicketLine(datetime.now().strftime("%Y-%m-%d %H:%M:%S"), align=Align.CENTER),
            TicketLine(f"backend: {cfg.receipt_printer.backend}"),
            TicketLine("áéíóú àèòç ñ ü l·l"),
        ),
    )
    try:
        printer: Any = open_device("receipt_printer", cfg.receipt_printer)
        try:
            result = printer.print_ticket(ticket)
        finally:
            printer.close()
    except HardwareError as exc:
        return f"Test ticket: not printed ({exc.code}): {exc}"
    return f"Test ticket: printed {result.lines} lines (paper: {result.paper.value})"


def run_check_command(args: argparse.Namespace) -> int:
    """``cabina hardware check``."""
    from hardware.simulation import SimulatedHardware, parse_faults

    if args.simulate_fault and not args.simulate:
        raise CommandError("Expected --simulate with --simulate-fault")
    if not args.simulate:
        cfg = _load(args)
        results = run_check(cfg)
        _report(results, cfg, args.json)
        if args.test_ticket:
            print(_test_ticket(cfg), file=sys.stderr if args.json else sys.stdout)
        return exit_status(results)
    try:
        faults = parse_faults(args.simulate_fault)
    except HardwareError as exc:
        raise CommandError(str(exc)) from exc
    with SimulatedHardware(faults=faults) as simulated:
        results = run_check(simulated.config, simulated_faults=faults)
        for name, failure in simulated.failures.items():
            results.append(result_from_error(name, "simulator", failure, required=True))
        results.sort(key=lambda r: DEVICE_NAMES.index(r.device))
        _report(results, simulated.config, args.json)
        if args.test_ticket:
            print(_test_ticket(simulated.config), file=sys.stderr if args.json else sys.stdout)
    return exit_status(results)


def run_list_command(args: argparse.Namespace) -> int:
    """``cabina hardware list``."""
    sections = detect_all()
    if args.json:
        print(json.dumps([s.to_json() for s in sections], indent=2))
    else:
        print(format_sections(sections))
    return 0


def run_handset_command(args: argparse.Namespace) -> int:
    """``cabina hardware handset COMMAND``: one command to a simulated handset."""
    command = args.command if args.key is None else f"{args.command} {args.key}"
    try:
        answer = send_command(args.socket, command)
    except HardwareError as exc:
        raise CommandError(str(exc)) from exc
    print(answer)
    return 0 if answer.startswith("ok") else 1


def run_handset_simulator(args: argparse.Namespace) -> int:
    """``cabina hardware handset-simulator``: a simulated handset in the foreground."""
    from hardware.handset import ControlServer, start_background

    simulator = start_background()
    stop = threading.Event()
    try:
        server = ControlServer(simulator, args.socket)
    except OSError as exc:
        simulator.close()
        raise CommandError(f"Cannot create the control socket {args.socket}: {exc}") from exc
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"Simulated handset on {simulator.path}; control socket {args.socket}", flush=True)
        print('Configure [hardware.handset] backend = "serial" with that port.', flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        simulator.close()
    return 0
