"""From power-on to in service, and out again: the whole provisioning story on one machine.

A hub announces itself; a fresh cabin (``cabina provision enrol`` in a process of its own)
finds it over multicast DNS and shows a code; the technician approves it with ``cabina
provision approve``; the cabin keeps its credential and configuration, connects its
WebSocket (the kiosk's own hub client) and reports its devices; the fleet API shows it
healthy. Revoking it closes its connection with 4401 and the hub refuses it from then on.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import process_logs
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hardware.simulation import SimulatedHardware
from kiosk.effects.hub_client import Backoff, HubClient
from provisioning.cabin_config import CabinFiles, sync_config
from provisioning.errors import EnrolmentFailed
from provisioning.selftest import run_selftest, telemetry_of

CLI = Path(__file__).with_name("cabina_cli.py")
CODE = re.compile(r"Enrolment code:\s+([A-Z0-9]{3}-[A-Z0-9]{3})")


def start_cabin(data: Path, log: Path) -> subprocess.Popen[str]:
    """A fresh cabin running ``cabina provision enrol`` with no hub address: it must discover.
    Its screen (standard output) is the test's to read; what it logs goes to ``log``."""
    with log.open("ab") as errors:
        return subprocess.Popen(
            [
                sys.executable, str(CLI), "provision", "enrol",
                "--interface", "127.0.0.1", "--timeout", "3",
                "--data-dir", str(data), "--serial", "dmi:DONE-WHEN-0001",
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def read_code(cabin: subprocess.Popen[str]) -> str:
    """The code the cabin shows, read from its screen (standard output)."""
    assert cabin.stdout is not None
    seen = []
    for line in cabin.stdout:
        seen.append(line)
        found = CODE.search(line)
        if found:
            return found.group(1)
    raise AssertionError(f"the cabin showed no code: {''.join(seen)}")


@pytest.mark.slow
async def test_a_fresh_cabin_goes_in_service_and_out_again(
    start_hub: Callable[..., Any],
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = start_hub(announce_as="Test hub done-when")
    data = tmp_path / "cabin"

    # The cabin discovers the hub and shows a code.
    log = process_logs.log_file(tmp_path / "processes", "cabin")
    cabin = start_cabin(data, log)
    try:
        code = await asyncio.to_thread(read_code, cabin)

        # The technician approves it through the command line, with their own account.
        monkeypatch.setenv("CABINA_HUB_TOKEN", hub.token("technician"))
        approved = await asyncio.to_thread(
            cli, "provision", "approve", code, "--site", "OAC Sant Andreu",
            "--name", "Cabina Mercat", "--hub", hub.url,
        )  # fmt: skip
        assert approved.status == 0, approved.err
        out, _ = await asyncio.to_thread(cabin.communicate, timeout=60)
    finally:
        if cabin.poll() is None:
            cabin.kill()
    process_logs.keep(log, out)
    assert cabin.returncode == 0, log.read_text(encoding="utf-8")
    assert "Enrolled: cabin 1 'Cabina Mercat' at 'OAC Sant Andreu'" in out

    # It keeps its credential (owner only), its hub and its configuration.
    files = CabinFiles(data)
    assert stat.S_IMODE(files.credential.stat().st_mode) == 0o600
    endpoint, credential = files.load()
    assert endpoint.url == hub.url
    config, fresh = await asyncio.to_thread(sync_config, endpoint, credential.token, files.config)
    assert fresh and (config.cabin.name, config.site.name) == ("Cabina Mercat", "OAC Sant Andreu")

    # It goes in service: its WebSocket connects, and it reports its devices.
    links: asyncio.Queue[bool] = asyncio.Queue()
    client = HubClient(
        ws_url=endpoint.ws_url,
        token=credential.token,
        on_message=lambda _message: None,
        on_link=links.put_nowait,
        backoff=Backoff(minimum=0.1, maximum=0.5),
    )
    running = asyncio.create_task(client.run())
    try:
        assert await asyncio.wait_for(links.get(), 15) is True
        with SimulatedHardware(devices=("camera", "handset")) as simulated:
            selftest = await asyncio.to_thread(run_selftest, simulated.config)
        assert selftest.ok
        assert await client.send_telemetry(telemetry_of(selftest.results))

        def fleet_line() -> dict[str, Any]:
            with hub.client() as http:
                rows = http.get("/api/fleet/cabins", headers=hub.headers("technician")).json()
            row: dict[str, Any] = rows[0]
            return row

        for _ in range(50):
            row = await asyncio.to_thread(fleet_line)
            if row["devices"]:
                break
            await asyncio.sleep(0.1)
        assert (row["name"], row["online"], row["health"], row["status"]) == (
            "Cabina Mercat",
            True,
            "ok",
            "active",
        )
        assert row["version"] and row["uptime_s"] is not None

        # Revoked: out of service within seconds, and refused from then on.
        revoked = await asyncio.to_thread(
            cli, "provision", "revoke", "Cabina Mercat", "--hub", hub.url
        )
        assert revoked.status == 0, revoked.err
        assert "disconnected" in revoked.out
        assert await asyncio.wait_for(links.get(), 10) is False
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    again = await connect(
        endpoint.ws_url, additional_headers={"Authorization": f"Bearer {credential.token}"}
    )
    with pytest.raises(ConnectionClosed) as refused:
        await asyncio.wait_for(again.recv(), 10)
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401
    with pytest.raises(EnrolmentFailed, match="enrol the cabin again"):
        await asyncio.to_thread(sync_config, endpoint, credential.token, files.config)
