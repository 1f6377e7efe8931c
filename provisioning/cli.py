"""``cabina provision …``: what a technician runs to put a cabin in service and keep it there.

::

    cabina provision discover [--timeout S] [--interface IP]… [--json]
    cabina provision enrol    [--hub URL [--fingerprint FP]] [--data-dir D] [--serial S]
                              [--keep-trying] [--force]
    cabina provision approve  CODE --site SITE --name NAME [--hub URL [--fingerprint FP]]
                              [--username U [--password-stdin]]
    cabina provision detect   [--config F] [--use DEVICE=KEY]… [--dry-run]
    cabina provision test     [--config F] [--data-dir D] [--no-ticket] [--no-report]
                              [--simulate] [--json]
    cabina provision revoke   CABIN [--hub URL [--fingerprint FP]] [--username U …]

``approve`` and ``revoke`` use the hub's API with the technician's own account: an API token
in ``$CABINA_HUB_TOKEN``, or ``--username`` and a password (prompted, or ``--password-stdin``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cabina.cli import CommandError
from provisioning.errors import AmbiguousDevices, ProvisioningError

if TYPE_CHECKING:
    from provisioning.settings import CabinLocalSettings

#: The cabin's settings file in a Cabina image (on the writable data partition).
DEFAULT_CONFIG = Path("/var/lib/cabina/cabin.toml")


def _common_hub(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", metavar="URL", help="the hub's address (default: discover it)")
    parser.add_argument(
        "--fingerprint", metavar="FP", help="the hub's certificate fingerprint, sha256:…"
    )
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds to listen for hubs (default 3)"
    )
    parser.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="IP",
        help="listen for hubs on this address only (repeatable; default: every interface)",
    )


def _cabin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=os.environ.get("CABINA_CONFIG"),
        help="the cabin's TOML settings (default: $CABINA_CONFIG)",
    )
    parser.add_argument("--data-dir", type=Path, help="the kiosk's data directory")


def _staff_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--username", help="sign in as this technician (default: $CABINA_HUB_TOKEN)"
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def register(subparsers: Any) -> None:
    """Add ``cabina provision`` and its actions."""
    provision = subparsers.add_parser(
        "provision", help="enrol this cabin, detect and test its devices", description=__doc__
    )
    provision.formatter_class = argparse.RawDescriptionHelpFormatter
    actions = provision.add_subparsers(dest="provision_action", metavar="ACTION", required=True)

    discover = actions.add_parser("discover", help="list the hubs announced on this network")
    _common_hub(discover)
    discover.add_argument("--json", action="store_true", help="print JSON")
    discover.set_defaults(func=run_discover)

    enrol = actions.add_parser("enrol", help="enrol this cabin: show a code, wait for approval")
    _common_hub(enrol)
    _cabin_options(enrol)
    enrol.add_argument("--serial", help="the cabin's identity (default: its hardware serial)")
    enrol.add_argument(
        "--keep-trying", action="store_true", help="show a new code whenever one expires"
    )
    enrol.add_argument("--force", action="store_true", help="enrol again a cabin already enrolled")
    enrol.set_defaults(func=run_enrol)

    approve = actions.add_parser("approve", help="approve the code a cabin shows")
    approve.add_argument("code", help="the code on the cabin's screen, e.g. ABC-DEF")
    approve.add_argument("--site", required=True, help="the site's id or exact name")
    approve.add_argument("--name", required=True, help="the cabin's name, e.g. 'Cabina 1'")
    _common_hub(approve)
    _cabin_options(approve)
    _staff_options(approve)
    approve.set_defaults(func=run_approve)

    detect = actions.add_parser("detect", help="find devices and write [hardware]")
    _cabin_options(detect)
    detect.add_argument(
        "--use",
        action="append",
        default=[],
        metavar="DEVICE=KEY",
        help="choose among several found, e.g. receipt_printer=04b8:0202 (repeatable)",
    )
    detect.add_argument("--dry-run", action="store_true", help="show, write nothing")
    detect.set_defaults(func=run_detect)

    test = actions.add_parser("test", help="check devices, print a test ticket, tell the hub")
    _cabin_options(test)
    test.add_argument("--no-ticket", action="store_true", help="do not print a test ticket")
    test.add_argument("--no-report", action="store_true", help="do not report to the hub")
    test.add_argument("--simulate", action="store_true", help="test the simulators instead")
    test.add_argument("--json", action="store_true", help="print JSON")
    test.set_defaults(func=run_test)

    revoke = actions.add_parser("revoke", help="revoke a cabin's credential and disconnect it")
    revoke.add_argument("cabin", help="the cabin's id or exact name")
    _common_hub(revoke)
    _cabin_options(revoke)
    _staff_options(revoke)
    revoke.set_defaults(func=run_revoke)


def _cabin_settings(args: argparse.Namespace) -> CabinLocalSettings:
    from cabina.config import SettingsError, load_settings
    from provisioning.settings import CabinLocalSettings

    config = args.config if args.config is not None and Path(args.config).is_file() else None
    try:
        return load_settings(CabinLocalSettings, config, {"data_dir": args.data_dir})
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc


def _found_hub(args: argparse.Namespace) -> tuple[str, str | None]:
    from provisioning.discovery import choose_hub, discover

    if args.hub:
        return args.hub, args.fingerprint
    print(f"Listening for hubs for {args.timeout:g} s…", file=sys.stderr)
    hub = choose_hub(discover(args.timeout, interfaces=args.interface), timeout=args.timeout)
    # A fingerprint the technician brought wins over the announced one: it is the check.
    return hub.url, args.fingerprint or hub.fingerprint


def _endpoint(args: argparse.Namespace, *, prefer_kept: bool) -> Any:
    from provisioning.cabin_config import CabinFiles
    from provisioning.pinning import HubEndpoint, check_identity, trust_hub

    if prefer_kept and not args.hub:
        kept = CabinFiles(_cabin_settings(args).data_dir).hub
        if kept.is_file():
            endpoint = HubEndpoint.load(kept)
            check_identity(endpoint)
            return endpoint
    url, fingerprint = _found_hub(args)
    endpoint = trust_hub(url, fingerprint)
    identity = check_identity(endpoint)
    pinned = f", certificate {endpoint.fingerprint}" if endpoint.fingerprint else ""
    print(f"Hub: {endpoint.url} (Cabina {identity.version}{pinned})", file=sys.stderr)
    return endpoint


def _staff(args: argparse.Namespace) -> Any:
    from provisioning.hub_api import StaffClient

    endpoint = _endpoint(args, prefer_kept=True)
    if args.username:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(f"Password for {args.username}: ")
        return StaffClient.sign_in(endpoint, args.username, password)
    token = os.environ.get("CABINA_HUB_TOKEN")
    if not token:
        raise CommandError(
            "Expected a technician's account: set CABINA_HUB_TOKEN, or pass --username"
        )
    return StaffClient(endpoint, token)


def _guard(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            status: int = func(args)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        return status

    run.__doc__ = func.__doc__
    return run


@_guard
def run_discover(args: argparse.Namespace) -> int:
    """``cabina provision discover``."""
    from provisioning.discovery import discover

    hubs = discover(args.timeout, interfaces=args.interface)
    if args.json:
        print(json.dumps([hub.to_json() for hub in hubs], indent=2))
    elif not hubs:
        print(f"No Cabina hub answered within {args.timeout:g} s.")
    for hub in [] if args.json else hubs:
        print(f"{hub.name}\n  url          {hub.url}\n  fingerprint  {hub.fingerprint or '-'}")
        print(f"  version      {hub.version or '-'}")
    return 0 if hubs else 1


def _show_code(pending: Any) -> None:
    import qrcode

    print(f"\nEnrolment code:  {pending.code}\n", flush=True)
    qr = qrcode.QRCode(border=1)
    qr.add_data(pending.qr_payload)
    qr.print_ascii(out=sys.stdout, invert=True)
    until = pending.expires_at.astimezone().strftime("%H:%M")
    print(
        f"\nOn any computer: cabina provision approve {pending.code} --site SITE --name NAME"
        f"\nThe code is valid until {until}. Waiting for approval…",
        flush=True,
    )


@_guard
def run_enrol(args: argparse.Namespace) -> int:
    """``cabina provision enrol``."""
    from provisioning.cabin_config import CabinFiles
    from provisioning.enrolment import enrol, hardware_serial, hostname

    settings = _cabin_settings(args)
    files = CabinFiles(settings.data_dir)
    if files.enrolled() and not args.force:
        raise CommandError(
            f"Expected a cabin without credential, but {files.credential} exists: pass --force "
            "to enrol it again (its current credential is revoked when the new one is issued)"
        )
    endpoint = _endpoint(args, prefer_kept=False)
    result = enrol(
        endpoint,
        files,
        serial=args.serial or hardware_serial(),
        host=hostname(),
        show=_show_code,
        codes=None if args.keep_trying else 1,
    )
    config = result.config
    print(
        f"Enrolled: cabin {config.cabin.id} '{config.cabin.name}' at '{config.site.name}'. "
        f"Credential in {files.credential}"
    )
    return 0


@_guard
def run_approve(args: argparse.Namespace) -> int:
    """``cabina provision approve``."""
    site: int | str = int(args.site) if args.site.isdigit() else args.site
    answer = _staff(args).approve(args.code, site=site, name=args.name)
    what = "new cabin" if answer["created"] else "existing cabin (same serial), updated"
    print(f"Approved: cabin {answer['cabin_id']} '{answer['name']}', {what}")
    return 0


@_guard
def run_detect(args: argparse.Namespace) -> int:
    """``cabina provision detect``."""
    from provisioning.detect import (
        candidates,
        parse_choices,
        propose,
        take_inventory,
        write_hardware,
    )

    path = Path(args.config) if args.config else DEFAULT_CONFIG
    found, notes = candidates(take_inventory())
    for device, options in found.items():
        listed = ", ".join(
            f"{o.key} ({o.description})" if o.description else o.key for o in options
        )
        print(f"{device:<16} {listed or 'none found'}")
    try:
        proposal = propose(found, parse_choices(args.use), notes)
    except AmbiguousDevices as exc:
        raise CommandError(str(exc)) from exc
    for note in proposal.notes:
        print(f"note: {note}")
    if not proposal.tables:
        print(f"Nothing to write: no device found; {path} is unchanged")
        return 1
    if args.dry_run:
        print(f"Would write to {path}: {', '.join(proposal.tables)}")
        return 0
    write_hardware(path, proposal.tables)
    print(f"Wrote [hardware] {', '.join(proposal.tables)} to {path}")
    return 0


@_guard
def run_test(args: argparse.Namespace) -> int:
    """``cabina provision test``."""
    from hardware.check import format_table
    from provisioning.cabin_config import CabinFiles, load_config
    from provisioning.selftest import report, run_selftest, ticket_for

    settings = _cabin_settings(args)
    files = CabinFiles(settings.data_dir)
    cabin, hub = "not enrolled", "-"
    if files.config.is_file():
        cabin = load_config(files.config).cabin.name
    if files.hub.is_file():
        from provisioning.pinning import HubEndpoint

        hub = HubEndpoint.load(files.hub).url
    ticket = None if args.no_ticket else ticket_for(cabin, hub, datetime.now(UTC).astimezone())
    if args.simulate:
        from hardware.simulation import SimulatedHardware

        with SimulatedHardware() as simulated:
            selftest = run_selftest(simulated.config, ticket=ticket)
    else:
        if args.config is None or not Path(args.config).is_file():
            raise CommandError("Expected --config FILE (or CABINA_CONFIG) with a [hardware] table")
        selftest = run_selftest(settings.hardware, ticket=ticket)
    if args.json:
        print(json.dumps(selftest.to_json(), indent=2))
    else:
        print(format_table(selftest.results, colour=sys.stdout.isatty()))
    lines = [selftest.ticket] if selftest.ticket else []
    if args.no_report:
        pass
    elif files.enrolled():
        endpoint, credential = files.load()
        lines.append(report(endpoint, credential.token, selftest))
    else:
        lines.append("Hub: not reported, the cabin is not enrolled")
    for line in lines:
        print(line, file=sys.stderr if args.json else sys.stdout)
    return 0 if selftest.ok else 1


@_guard
def run_revoke(args: argparse.Namespace) -> int:
    """``cabina provision revoke``."""
    answer = _staff(args).revoke(args.cabin)
    state = "disconnected" if answer["disconnected"] else "was not connected"
    print(
        f"Revoked cabin {answer['cabin_id']}: {answer['revoked']} credentials, {state}, "
        f"{answer['cancelled_actions']} pending actions cancelled"
    )
    return 0
