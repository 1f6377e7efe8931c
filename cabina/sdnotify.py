"""Telling systemd how a service is doing: ``sd_notify`` over ``$NOTIFY_SOCKET``, no dependency.

A ``Type=notify`` unit waits for ``READY=1`` before it counts the service as started, and a
unit with ``WatchdogSec=`` restarts the service when ``WATCHDOG=1`` stops arriving. The hub
and the kiosk feed the watchdog from their event loop (:func:`feed_watchdog`), so a loop that
hangs stops feeding and the service is restarted::

    notifier = Notifier.from_environ()
    notifier.ready("serving")
    task = asyncio.create_task(feed_watchdog(notifier, watchdog_interval()))

Outside systemd (no ``$NOTIFY_SOCKET``) every call does nothing and returns False.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)


class Notifier:
    """Sends notifications to one systemd socket (a path, or ``@name`` in the abstract space)."""

    def __init__(self, address: str | None) -> None:
        self.address = address or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier ``$NOTIFY_SOCKET`` names; a disabled one outside systemd."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        """Whether there is a socket to notify."""
        return self.address is not None

    def _target(self) -> str | bytes:
        assert self.address is not None
        if self.address.startswith("@"):
            return b"\0" + self.address[1:].encode()
        return self.address

    def notify(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines (``notify(READY=1, STATUS="…")``); whether it was sent."""
        if self.address is None:
            return False
        for key, value in fields.items():
            if "\n" in str(value) or not key.isupper():
                raise ValueError(
                    f"Expected an upper-case key and a one-line value, but got {key}={value!r}"
                )
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            # Never block the service's event loop: a full socket drops this notification
            # (systemd reads continuously; only a stuck reader fills it).
            flags = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
            with socket.socket(socket.AF_UNIX, flags) as sock:
                sock.connect(self._target())
                sock.sendall(message)
        except OSError as exc:
            logger.warning("cannot notify systemd at %s: %s", self.address, exc.strerror)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """The service has started."""
        return self.notify(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        """A one-line status that ``systemctl status`` shows."""
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        """Still alive."""
        return self.notify(WATCHDOG=1)

    def stopping(self) -> bool:
        """The service is shutting down."""
        return self.notify(STOPPING=1)


def watchdog_interval(
    environ: Mapping[str, str] | None = None, *, pid: int | None = None
) -> float | None:
    """Seconds between the keep-alives systemd expects, or None without a watchdog.

    systemd names the process it watches in ``$WATCHDOG_PID``; pass ``pid`` to honour it. A
    kiosk started by a compositor (``cage -- cabina kiosk``) is not that process and passes
    None, its unit saying ``NotifyAccess=all``.
    """
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    try:
        micros = int(usec)
    except ValueError:
        logger.warning("ignoring WATCHDOG_USEC=%r: not a number", usec)
        return None
    if micros <= 0:
        return None
    watched = env.get("WATCHDOG_PID")
    if pid is not None and watched and watched != str(pid):
        return None
    return micros / 1_000_000


async def feed_watchdog(
    notifier: Notifier,
    interval_s: float | None,
    *,
    healthy: Callable[[], bool] = lambda: True,
) -> None:
    """Send ``WATCHDOG=1`` at half the interval for as long as ``healthy()`` (until cancelled).

    When ``healthy()`` turns false the feeding stops and systemd restarts the service once the
    interval runs out, which is the point: a service that knows it is stuck says so by silence.
    """
    if interval_s is None or not notifier.enabled:
        return
    while True:
        if healthy():
            notifier.watchdog()
        else:
            logger.error("not feeding the watchdog: the service reports itself unhealthy")
        await asyncio.sleep(interval_s / 2)
