"""``provision test``: device checks on the simulators, a real test ticket, the hub told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hardware.simulation import SimulatedHardware
from provisioning.cabin_config import CabinFiles
from provisioning.enrolment import enrol
from provisioning.pinning import trust_hub
from provisioning.selftest import SelfTest, report, run_selftest, telemetry_of, ticket_for

DEVICES = ("camera", "receipt_printer", "handset")
WHEN = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def test_every_device_is_checked_and_the_ticket_printed() -> None:
    with SimulatedHardware(devices=DEVICES) as simulated:
        selftest = run_selftest(
            simulated.config, ticket=ticket_for("Cabina 1", "https://hub:8443", WHEN)
        )
        assert simulated.receipt_printer is not None
        [receipt] = simulated.receipt_printer.wait_for_receipts(1)
    assert selftest.ok
    assert [r.device for r in selftest.results] == list(DEVICES)
    assert selftest.ticket is not None and selftest.ticket.startswith("Test ticket: printed")
    texts = receipt.texts
    assert "Cabin: Cabina 1" in texts and "Hub: https://hub:8443" in texts
    assert "2026-03-02 10:30" in texts


def test_a_printer_without_paper_fails_the_test_and_prints_nothing() -> None:
    with SimulatedHardware(devices=DEVICES, faults={"receipt_printer": "paper_out"}) as simulated:
        selftest = run_selftest(simulated.config, ticket=ticket_for("Cabina 1", "-", WHEN))
        assert simulated.receipt_printer is not None
        printed = simulated.receipt_printer.receipts
    assert not selftest.ok and printed == []
    assert selftest.ticket == "Test ticket: not printed, the printer is fault"
    [printer] = [
        row for row in telemetry_of(selftest.results) if row["device"] == "receipt_printer"
    ]
    assert (printer["state"], printer["last_error"], printer["paper"]) == (
        "fault",
        "paper_out",
        "out",
    )


def test_without_a_receipt_printer_the_ticket_says_so() -> None:
    with SimulatedHardware(devices=("camera",)) as simulated:
        selftest = run_selftest(simulated.config, ticket=ticket_for("Cabina 1", "-", WHEN))
    assert selftest.ticket == "Test ticket: no receipt printer configured"


def test_the_result_reaches_the_fleet_page(hub: Any, tmp_path: Path) -> None:
    cabin_id, token = hub.enrol("dmi:SELFTEST")
    endpoint = trust_hub(hub.url, None)
    with SimulatedHardware(devices=("camera", "handset"), faults={"handset": "unplugged"}) as sim:
        selftest = run_selftest(sim.config)
    assert report(endpoint, token, selftest) == f"Hub: reported to {hub.url}"
    with hub.client() as client:
        detail = client.get(f"/api/fleet/cabins/{cabin_id}", headers=hub.headers("admin")).json()
    assert detail["selftest_ok"] is False
    assert [row["device"] for row in detail["selftest"]] == ["camera", "handset"]
    assert report(endpoint, "not-a-token", selftest).endswith(
        "refused this cabin's credential (revoked?)"
    )
    hub.served.stop()
    assert report(endpoint, token, SelfTest([])).startswith("Hub: not reported, cannot reach")


def test_the_command_tests_the_simulators_and_reports(
    start_hub: Callable[..., Any], tmp_path: Path, cli: Callable[..., Any]
) -> None:
    hub = start_hub()
    data = tmp_path / "kiosk"
    result = cli("provision", "test", "--simulate", "--data-dir", str(data), "--no-ticket")
    assert "Hub: not reported, the cabin is not enrolled" in result.out
    assert "DEVICE" in result.out and "camera" in result.out

    def approve(pending: Any) -> None:
        with hub.client() as client:
            client.post(
                "/api/enrolment/approvals",
                headers=hub.headers("technician"),
                json={"code": pending.code, "site": hub.site_id, "name": "Cabina 9"},
            )

    enrol(
        trust_hub(hub.url, None),
        CabinFiles(data),
        serial="dmi:CLI",
        show=approve,
        sleep=lambda _: None,
    )
    result = cli("provision", "test", "--simulate", "--data-dir", str(data), "--json")
    assert f"Hub: reported to {hub.url}" in result.err
    assert result.status == 0, result.out
    assert "Test ticket: printed" in result.err
    missing = cli("provision", "test", "--data-dir", str(data))
    assert missing.status == 1 and "Expected --config FILE" in missing.err
