"""Remote actions reaching an enrolled cabin over pinned TLS, and their outcome in the fleet API.

The first tests run the cabin's hub client and :class:`kiosk.remote_actions.FleetActions` in
this process against the real hub; the last runs the whole kiosk (``run_kiosk``) in a Kivy
process of its own, with systemd's notification socket played by a real datagram socket.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from support.enrolled_cabin import (
    SITE_ADDRESS,
    Certificate,
    TlsHub,
    enrol_cabin,
    make_certificate,
)

from contract import signalling as p
from hardware.config import Devices, open_devices
from hardware.simulation import SimulatedHardware
from kiosk.devtools.testing import run_in_kivy_async
from kiosk.effects.hub_client import HubClient
from kiosk.enrolled import CabinStart, prepare_start
from kiosk.remote_actions import CabinBusy, FleetActions, kiosk_selftest
from kiosk.settings import KioskSettings
from provisioning.selftest import SelfTest

pytestmark = pytest.mark.slow

_HUB, _CA, _DATA = "CABINA_TEST_HUB_URL", "CABINA_TEST_HUB_CA", "CABINA_TEST_DATA_DIR"


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    """The hub's self-signed certificate."""
    return make_certificate(tmp_path / "tls", "hub")


@pytest.fixture
def hub(tmp_path: Path, certificate: Certificate) -> Iterator[TlsHub]:
    """The hub over TLS, with the demo data."""
    served = TlsHub(tmp_path / "hub", certificate).start()
    yield served
    served.stop()


@pytest.fixture
async def start(tmp_path: Path, hub: TlsHub) -> CabinStart:
    """An enrolled cabin's start."""
    folder = tmp_path / "kiosk"
    await asyncio.to_thread(enrol_cabin, hub, folder, "dmi:FLEET-1", "Cabina Flota")
    return await prepare_start(KioskSettings(data_dir=folder))


@asynccontextmanager
async def connected(start: CabinStart, fleet: FleetActions) -> AsyncIterator[HubClient]:
    """The cabin's hub client, online, handing ``fleet.action`` to ``fleet``."""

    def on_message(message: p.Message) -> None:
        if isinstance(message, p.FleetAction):
            fleet(message)

    client = HubClient(
        ws_url=start.settings.ws_url,
        token=start.credential.token,
        on_message=on_message,
        hub_timeout_s=5,
        ssl=start.ssl,
    )
    task = asyncio.ensure_future(client.run())
    try:
        for _ in range(400):
            if client.online:
                break
            await asyncio.sleep(0.05)
        assert client.online, "Expected the cabin to be connected to its hub"
        yield client
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await fleet.close()


def no_screenshot() -> bytes:
    raise AssertionError("Expected no screenshot to be taken")


def fleet_for(
    start: CabinStart,
    *,
    selftest: Callable[[], SelfTest] = lambda: SelfTest([]),
    screenshot: Callable[[], bytes] = no_screenshot,
    idle: Callable[[], bool] = lambda: True,
    stop: Callable[[], None] = lambda: None,
) -> FleetActions:
    assert start.endpoint is not None
    return FleetActions(
        start.endpoint,
        start.credential.token,
        selftest=selftest,
        screenshot=screenshot,
        idle=idle,
        stop=stop,
    )


async def queue(hub: TlsHub, start: CabinStart, kind: str) -> dict[str, Any]:
    """Ask for ``kind`` on the fleet page and wait for the outcome the fleet API shows."""

    def ask() -> dict[str, Any]:
        token = hub.technician_token()
        with hub.client(token) as client:
            answer = client.post(
                f"/api/fleet/cabins/{start.credential.cabin_id}/actions", json={"kind": kind}
            )
        assert answer.status_code == 202, answer.text
        return hub.wait_for_action(token, str(answer.json()["id"]))

    return await asyncio.to_thread(ask)


async def test_a_self_test_asked_on_the_fleet_page_runs_at_the_cabin(
    hub: TlsHub, start: CabinStart
) -> None:
    with SimulatedHardware(devices=("receipt_printer",)) as simulated:
        devices = open_devices(simulated.config)
        try:
            fleet = fleet_for(start, selftest=kiosk_selftest(simulated.config, devices))
            async with connected(start, fleet):
                action = await queue(hub, start, "self_test")
            # The kiosk's own printer was lent to the test, not closed by it.
            assert devices.receipt_printer is not None
            assert devices.receipt_printer.self_test().state.value == "ok"
        finally:
            devices.close()
    assert (action["status"], action["detail"]) == ("done", "all devices ok")
    with hub.client(hub.technician_token()) as client:
        cabin = client.get(f"/api/fleet/cabins/{start.credential.cabin_id}").json()
    assert cabin["selftest_ok"] is True
    assert [row["device"] for row in cabin["selftest"]] == ["receipt_printer"]


async def test_a_failing_device_fails_the_remote_self_test_and_names_the_device(
    hub: TlsHub, start: CabinStart
) -> None:
    faults = {"receipt_printer": "paper_out"}
    with SimulatedHardware(devices=("receipt_printer",), faults=faults) as simulated:
        # Nothing is open at the kiosk: the self-test opens each device itself.
        fleet = fleet_for(start, selftest=kiosk_selftest(simulated.config, Devices()))
        async with connected(start, fleet):
            action = await queue(hub, start, "self_test")
    assert action["status"] == "failed"
    assert action["detail"].startswith("receipt_printer: paper_out")


async def test_no_screenshot_is_taken_while_a_citizen_uses_the_cabin(
    hub: TlsHub, start: CabinStart
) -> None:
    def busy() -> bytes:
        raise CabinBusy("a citizen is there")

    async with connected(start, fleet_for(start, screenshot=busy)):
        action = await queue(hub, start, "screenshot")
    assert action["status"] == "failed" and "CabinBusy" in action["detail"]
    assert not action["has_screenshot"]


async def test_a_restart_waits_for_the_citizen_to_leave(hub: TlsHub, start: CabinStart) -> None:
    citizen_present = [True]
    stops: list[str] = []
    fleet = fleet_for(start, idle=lambda: not citizen_present[0], stop=lambda: stops.append("x"))
    async with connected(start, fleet):
        action = await queue(hub, start, "restart_app")
        assert (action["status"], action["detail"]) == ("done", "restarting")
        await asyncio.sleep(1.5)
        assert fleet.restart_requested and stops == []
        citizen_present[0] = False
        for _ in range(100):
            if stops:
                break
            await asyncio.sleep(0.05)
    assert stops == ["x"]


async def test_an_action_sent_twice_is_done_once(hub: TlsHub, start: CabinStart) -> None:
    ran: list[int] = []

    def selftest() -> SelfTest:
        ran.append(1)
        return SelfTest([])

    fleet = fleet_for(start, selftest=selftest)
    async with connected(start, fleet):
        action = await queue(hub, start, "self_test")
        again = p.FleetAction(action_id=action["id"], kind="self_test")
        fleet(again)
        await asyncio.sleep(0.2)
    assert ran == [1] and [heard for _id, heard in fleet.reported] == [True]


# --- the whole kiosk, in a Kivy process ---------------------------------------------------------


async def _an_enrolled_kiosk_at_work() -> None:
    from kivy.app import App
    from kivy.core.window import Window
    from PIL import Image

    from kiosk.devtools.driver import UiDriver
    from kiosk.remote_actions import RESTART_EXIT_STATUS
    from kiosk.runtime import run_kiosk

    data_dir = Path(os.environ[_DATA])
    context = ssl.create_default_context(cafile=os.environ[_CA])
    settings = KioskSettings(hub_url="http://192.0.2.1:8000", data_dir=data_dir)
    with SimulatedHardware(devices=("receipt_printer",)) as simulated:
        kiosk = asyncio.ensure_future(run_kiosk(settings, simulated.config))
        app: Any = None
        for _ in range(600):
            app = App.get_running_app()
            if (app is not None and app.root is not None) or kiosk.done():
                break
            await asyncio.sleep(0.05)
        assert not kiosk.done(), kiosk.result()
        ui = UiDriver(app.root_widget, app.current_screen)
        await ui.wait_until(lambda: app.flow.hub_online, "the hub's welcome", within_s=30)
        await ui.wait_for_screen("attract")
        assert app.cabin_name == "Cabina Kivy"

        async with httpx.AsyncClient(base_url=os.environ[_HUB], verify=context) as http:
            login = await http.post(
                "/api/auth/login", json={"username": "technician", "password": "technician-demo"}
            )
            http.headers["Authorization"] = f"Bearer {login.json()['token']}"
            cabin_id = [c for c in (await http.get("/api/fleet/cabins")).json() if c["online"]]
            assert len(cabin_id) == 1, cabin_id

            async def act(kind: str) -> dict[str, Any]:
                path = f"/api/fleet/cabins/{cabin_id[0]['id']}/actions"
                action = (await http.post(path, json={"kind": kind})).json()
                for _ in range(600):
                    got = (await http.get(f"/api/fleet/actions/{action['id']}")).json()
                    if got["status"] not in ("queued", "sent"):
                        return dict(got)
                    await asyncio.sleep(0.1)
                raise AssertionError(f"Expected {kind} to end, but it is {got}")

            tested = await act("self_test")
            assert (tested["status"], tested["detail"]) == ("done", "all devices ok"), tested

            shot = await act("screenshot")
            assert shot["status"] == "done" and shot["has_screenshot"], shot
            png = (await http.get(f"/api/fleet/actions/{shot['id']}/screenshot")).content
            picture = Image.open(io.BytesIO(png))
            assert picture.format == "PNG" and picture.size == tuple(Window.size)
            low, high = cast(tuple[int, int], picture.convert("L").getextrema())
            assert high - low > 50, "Expected the attract screen, but the picture is blank"
            assert not any(settings.tmp_dir.rglob("*.png")), "the screenshot was left on disk"

            # A citizen arrives and reads the office's address and hours.
            await ui.tap_at(960, 540)
            await ui.wait_for_screen("language")
            await ui.tap("lang_ca")
            await ui.wait_for_screen("home")
            await ui.tap("information")
            await ui.wait_for_screen("information")
            screen = app.current_screen()
            await ui.wait_until(lambda: screen.loaded, "the office's information")
            shown = "\n".join(f"{heading}\n{text}" for heading, text in screen.items)
            assert SITE_ADDRESS in shown and "Horari" in shown, shown

            refused = await act("screenshot")
            assert refused["status"] == "failed" and "CabinBusy" in refused["detail"], refused
            restart = await act("restart_app")
            assert restart["status"] == "done", restart
            await asyncio.sleep(1.5)
            assert not kiosk.done(), "Expected the kiosk to wait for the citizen to leave"

        await ui.tap("finish")
        await ui.wait_for_screen("goodbye")
        await ui.tap_at(960, 540)
        status = await asyncio.wait_for(kiosk, 60)
    assert status == RESTART_EXIT_STATUS, status
    assert app.refused == [], app.refused


async def test_the_enrolled_kiosk_serves_the_fleet_and_tells_systemd(
    hub: TlsHub, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    await asyncio.to_thread(enrol_cabin, hub, data_dir, "dmi:KIVY-1", "Cabina Kivy")
    notify_path = tmp_path / "notify"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(notify_path))
    systemd.setblocking(False)
    said: list[bytes] = []

    async def listen() -> None:
        # Read as systemd does, at once: a full queue (net.unix.max_dgram_qlen, often 10)
        # would block the sender.
        while True:
            said.append(await asyncio.get_running_loop().sock_recv(systemd, 4096))

    listening = asyncio.ensure_future(listen())
    try:
        await run_in_kivy_async(
            __file__,
            "_an_enrolled_kiosk_at_work",
            env={
                _HUB: hub.url,
                _CA: str(hub.certificate.cert),
                _DATA: str(data_dir),
                "NOTIFY_SOCKET": str(notify_path),
                "WATCHDOG_USEC": "1000000",
            },
        )
        await asyncio.sleep(0.2)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        systemd.close()
    assert said[0] == b"READY=1\nSTATUS=showing the attract screen", said[:3]
    assert b"WATCHDOG=1" in said
    assert said[-1] == b"STOPPING=1"
    pictures = list(hub.screenshots.glob("*.png"))
    assert len(pictures) == 1 and pictures[0].read_bytes().startswith(b"\x89PNG")
