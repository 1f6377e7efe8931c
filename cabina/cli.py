"""The ``cabina`` command. Each package adds its subcommands through a ``register`` function.

A package's ``cli`` module exposes ``register(subparsers)``, which adds its parsers and sets
``func`` on each to a callable taking the parsed arguments and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from cabina import __version__

#: The modules that contribute subcommands, in the order ``cabina --help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "demo.cli",
    "hub.cli",
    "hub.padron.cli",
    "hardware.cli",
    "kiosk.cli",
    "provisioning.cli",
)


class CommandError(Exception):
    """A command could not do its job; the message is printed for the person who ran it."""


def build_parser() -> argparse.ArgumentParser:
    """The parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cabina", description="Municipal citizen-attention cabins: hub, kiosk and tools."
    )
    parser.add_argument("--version", action="version", version=f"cabina {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    parser.set_defaults(log_level=logging.WARNING)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Services (hub, kiosk, demo) ask for INFO through ``set_defaults(log_level=...)``; a
    # technician's one-shot command shows only what went wrong above its own output.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request's URL at INFO, query included, and the padrón's REST service is
    # asked by document and birth date in the query: never into the journal, verbose or not.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not args.verbose:
        # Migrations announce every step at INFO; a service's own start-up says enough.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except CommandError as exc:
        print(f"cabina: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
