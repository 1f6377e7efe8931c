"""``cabina demo``: hub and simulated cabin, a call from its handset to an agent, a clean stop.

The demo runs as a newcomer runs it, as a process without a display; the test drives the
cabin only through ``cabina hardware handset`` and answers as a demo agent over the agent
WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from support.peers import Peer, open_peer

from demo.cli import DemoCabin, has_display

REPO = Path(__file__).resolve().parents[1]
#: Generous: the kiosk imports Kivy, aiortc and OpenCV on a machine others share.
START_S = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _headless_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


class Demo:
    """``python -m cabina demo`` as a child process: what it logs (its standard error) in
    ``log``, what it prints for the person who ran it (the banner, with the demo citizen's
    document to type) in ``log`` with the suffix ``.out``."""

    def __init__(self, data_dir: Path, port: int, log: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.printed = log.with_suffix(".out")
        command = [sys.executable, "-m", "cabina", "demo", "--data-dir", str(data_dir)]
        with log.open("wb") as errors, self.printed.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(port), *extra],
                cwd=REPO,
                env=_headless_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=errors,
            )

    @property
    def output(self) -> str:
        """Everything the demo printed and logged so far."""
        return "".join(
            path.read_text(encoding="utf-8", errors="replace") for path in (self.printed, self.log)
        )

    async def wait_for(self, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        """Poll ``check`` until it holds; fail with the demo's output if the demo ends first."""

        async def poll() -> None:
            while not await check():
                if self.process.poll() is not None:
                    raise AssertionError(f"the demo ended before {what}:\n{self.output}")
                await asyncio.sleep(0.5)

        try:
            await asyncio.wait_for(poll(), START_S)
        except TimeoutError:
            raise AssertionError(f"no {what} within {START_S} s:\n{self.output}") from None

    def stop(self) -> int:
        """SIGTERM, as systemd or ``kill`` would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the demo did not stop on SIGTERM:\n{self.output}") from None


async def _handset(data_dir: Path, command: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cabina",
        "hardware",
        "handset",
        command,
        "--socket",
        str(data_dir / "cabin" / "handset.sock"),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    return out.decode()


async def _login(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


@contextlib.asynccontextmanager
async def _agent(ws_url: str, token: str) -> AsyncIterator[Peer]:
    """A demo agent, available, sending the heartbeat the hub expects."""
    peer = await open_peer(ws_url, "/ws/agent", token)

    async def heartbeat() -> None:
        while True:
            await peer.send(type="ping")
            await asyncio.sleep(2)

    beating = asyncio.ensure_future(heartbeat())
    try:
        await peer.send(type="presence.set", state="available")
        await peer.expect("presence", 10, state="available")
        yield peer
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        await peer.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def _one_run(data_dir: Path, log: Path) -> str:
    """One demo from start to stop; everything it printed and logged."""
    demo = Demo(data_dir, _free_port(), log)
    try:
        async with httpx.AsyncClient(base_url=demo.base, timeout=30) as http:

            async def hub_answers() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get("/api/hub")).status_code == 200
                return False

            await demo.wait_for("the hub", hub_answers)
            supervisor = await _login(http, "supervisor", "supervisor-demo")
            found = re.search(r"demo cabin (\d+): token", demo.output)
            assert found, demo.output
            cabin_id = int(found.group(1))

            async def cabin_online() -> bool:
                response = await http.get("/api/supervisor/overview", headers=supervisor)
                assert response.status_code == 200, response.text
                cabins = {c["id"]: c for c in response.json()["cabins"]}
                return bool(cabins[cabin_id]["online"])

            await demo.wait_for("the demo cabin online", cabin_online)

            # What the person who ran the demo reads once the cabin is connected.
            async def said_connected() -> bool:
                return "demo cabin: connected to the hub, ready for a call" in demo.output

            await demo.wait_for("the demo to say the cabin is connected", said_connected)
            agent_headers = await _login(http, "agent1", "agent1-demo")
            token = agent_headers["Authorization"].removeprefix("Bearer ")
            ws_url = demo.base.replace("http://", "ws://")
            async with _agent(ws_url, token) as agent:
                assert "ok off-hook" in await _handset(data_dir, "lift")
                # The demo office is open at any hour: the call rings, it is never "closed".
                ring = await agent.expect("call.ring", 60)
                assert (ring["service"], ring["language"]) == ("general", "es")
                assert "ok on-hook" in await _handset(data_dir, "hang-up")
                cancelled = await agent.expect("call.ring_cancelled", 30, call_id=ring["call_id"])
                assert cancelled["reason"] == "cancelled"

            admin = await _login(http, "admin", "admin-demo-1")
            sites = (await http.get("/api/sites", headers=admin)).json()
            assert [site["opening_hours"] for site in sites] == [{"always": True}]
        kiosk = re.search(r"demo cabin: starting \(process (\d+)\)", demo.output)
        assert kiosk, demo.output
    finally:
        status = demo.stop()
    output = demo.output
    assert status == 0, output
    assert _gone(int(kiosk.group(1))), output
    assert "demo cabin: stopped\n" in output and "stopped on its own" not in output, output
    assert "Traceback" not in output, output
    return output


@pytest.mark.slow
async def test_the_demo_cabin_calls_an_agent_from_its_handset_and_stops_with_the_demo(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "demo-data"
    first = await _one_run(data_dir, tmp_path / "first.log")
    assert "headless (no display)" in first and "open at all hours" in first
    assert f"--socket {data_dir / 'cabin' / 'handset.sock'}" in first
    # The same data directory a second time: the demo, its cabin and the call work again.
    await _one_run(data_dir, tmp_path / "second.log")


@pytest.mark.slow
def test_a_demo_whose_port_is_taken_fails_and_starts_no_cabin(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        demo = Demo(tmp_path / "demo-data", taken.getsockname()[1], tmp_path / "demo.log")
        status = demo.process.wait(START_S)
    assert status != 0, demo.output
    assert "demo cabin: starting" not in demo.output, demo.output
    assert not (tmp_path / "demo-data" / "cabin" / "cabin-credential.json").exists()


@pytest.mark.parametrize(
    ("environ", "flag"),
    [
        ({}, "--headless"),
        ({"DISPLAY": ":0"}, "--windowed"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "--windowed"),
    ],
)
def test_the_cabin_opens_a_window_only_where_there_is_a_display(
    tmp_path: Path, environ: dict[str, str], flag: str
) -> None:
    cabin = DemoCabin(
        tmp_path,
        hub_url="http://127.0.0.1:1",
        cabin_id=1,
        token="t",
        environ=environ,
        is_online=lambda: False,
    )
    command = cabin.command()
    assert has_display(environ) is (flag == "--windowed")
    assert flag in command and ({"--headless", "--windowed"} - {flag}).isdisjoint(command)
    assert command[command.index("--handset-socket") + 1] == str(tmp_path / "handset.sock")


def test_stopping_a_cabin_that_never_started_is_harmless(tmp_path: Path) -> None:
    cabin = DemoCabin(
        tmp_path,
        hub_url="http://127.0.0.1:1",
        cabin_id=1,
        token="t",
        environ={},
        is_online=lambda: False,
    )
    asked: list[bool] = []

    def hub_ready() -> bool:
        asked.append(False)
        return False

    cabin.start_when(hub_ready)
    cabin.stop(timeout=5)
    assert asked  # it was waiting for the hub, and gave up when told to stop
    assert not (tmp_path / "cabin-credential.json").exists()
