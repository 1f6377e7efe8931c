"""sd_notify over a real datagram socket, as systemd listens for it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cabina.sdnotify import Notifier, feed_watchdog, watchdog_interval


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket where systemd would listen, and its address."""
    path = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(5)
    yield str(path), listener
    listener.close()


def test_ready_status_and_watchdog_reach_systemd(systemd: tuple[str, socket.socket]) -> None:
    address, listener = systemd
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": address})
    assert notifier.enabled
    assert notifier.ready("serving 3 cabins")
    assert listener.recv(4096) == b"READY=1\nSTATUS=serving 3 cabins"
    assert notifier.watchdog() and listener.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping() and listener.recv(4096) == b"STOPPING=1"
    assert notifier.status("enrolling") and listener.recv(4096) == b"STATUS=enrolling"


def test_an_abstract_socket_is_named_with_an_at_sign() -> None:
    name = f"cabina-notify-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        listener.settimeout(5)
        assert Notifier(f"@{name}").ready()
        assert listener.recv(4096) == b"READY=1"


def test_outside_systemd_nothing_is_sent(tmp_path: Path) -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled and not notifier.ready() and not notifier.watchdog()
    gone = Notifier(str(tmp_path / "nobody-listens"))
    assert not gone.ready()


def test_malformed_notifications_are_refused(systemd: tuple[str, socket.socket]) -> None:
    notifier = Notifier(systemd[0])
    with pytest.raises(ValueError, match="one-line value"):
        notifier.notify(STATUS="two\nlines")
    with pytest.raises(ValueError, match="upper-case key"):
        notifier.notify(ready=1)


@pytest.mark.parametrize(
    ("environ", "pid", "expected"),
    [
        ({}, None, None),
        ({"WATCHDOG_USEC": "30000000"}, None, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 42, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 43, None),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, None, 30.0),
        ({"WATCHDOG_USEC": "zero"}, None, None),
        ({"WATCHDOG_USEC": "0"}, None, None),
    ],
)
def test_the_watchdog_interval_comes_from_the_environment(
    environ: dict[str, str], pid: int | None, expected: float | None
) -> None:
    assert watchdog_interval(environ, pid=pid) == expected


async def test_the_watchdog_is_fed_while_healthy_and_starved_when_not(
    systemd: tuple[str, socket.socket],
) -> None:
    address, listener = systemd
    notifier = Notifier(address)
    fed = asyncio.create_task(feed_watchdog(notifier, 0.1))
    try:
        first = await asyncio.to_thread(listener.recv, 4096)
        second = await asyncio.to_thread(listener.recv, 4096)
    finally:
        fed.cancel()
    assert first == second == b"WATCHDOG=1"

    asked = asyncio.Event()
    calls = 0

    def unhealthy() -> bool:
        nonlocal calls
        calls += 1
        if calls >= 3:
            asked.set()
        return False

    listener.setblocking(False)
    while True:  # drain what the healthy feeder sent before it was cancelled
        try:
            listener.recv(4096)
        except BlockingIOError:
            break
    starved = asyncio.create_task(feed_watchdog(notifier, 0.1, healthy=unhealthy))
    try:
        await asyncio.wait_for(asked.wait(), 10)
    finally:
        starved.cancel()
    with pytest.raises(BlockingIOError):
        listener.recv(4096)


async def feed_for_a_while(environ: dict[str, str]) -> bool:
    """Feed as a service started with ``environ`` would, for half a second: whether it stopped."""
    notifier = Notifier.from_environ(environ)
    task = asyncio.create_task(feed_watchdog(notifier, watchdog_interval(environ)))
    await asyncio.sleep(0.5)
    stopped = task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return stopped


async def test_no_watchdog_means_no_feeding(systemd: tuple[str, socket.socket]) -> None:
    address, listener = systemd
    listener.setblocking(False)
    assert await feed_for_a_while({"NOTIFY_SOCKET": address})
    with pytest.raises(BlockingIOError):
        listener.recv(4096)

    # The same service under a watchdog feeds it, at half of 0.2 s.
    assert not await feed_for_a_while({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
    assert listener.recv(4096) == b"WATCHDOG=1"
    assert listener.recv(4096) == b"WATCHDOG=1"

    # A watchdog but no socket: nothing to feed, and nothing keeps running.
    assert await feed_for_a_while({"WATCHDOG_USEC": "200000"})
