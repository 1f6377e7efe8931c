"""Enrolment from the cabin's side: its identity, showing the code, keeping what it is given."""

from __future__ import annotations

import dataclasses
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contract.discovery import fingerprint_pem
from hub.fleet.models import CabinProfile
from provisioning.cabin_config import CabinFiles, load_config, sync_config
from provisioning.credential import read_credential
from provisioning.enrolment import EnrolmentClient, PendingEnrolment, enrol, hardware_serial
from provisioning.errors import CabinConfigError, CodeExpired, EnrolmentFailed
from provisioning.hub_api import StaffClient
from provisioning.pinning import HubEndpoint, trust_hub


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="ascii")
    return path


def test_the_firmware_serial_is_the_cabin_identity(tmp_path: Path) -> None:
    dmi = write(tmp_path / "product_serial", "PF3X 9K2L/01\n")
    machine = write(tmp_path / "machine-id", "0123456789abcdef0123456789abcdef\n")
    assert hardware_serial(dmi=dmi, dmi_uuid=tmp_path / "none", machine_id=machine) == (
        "dmi:PF3X-9K2L-01"
    )


@pytest.mark.parametrize("placeholder", ["To be filled by O.E.M.", "Default string", "0", "  "])
def test_placeholder_serials_fall_back_to_the_board_uuid_then_the_machine_id(
    tmp_path: Path, placeholder: str
) -> None:
    dmi = write(tmp_path / "product_serial", placeholder)
    uuid = write(tmp_path / "product_uuid", "4C4C4544-0042-3510-8052-B3C04F4E4D32\n")
    machine = write(tmp_path / "machine-id", "0123456789abcdef\n")
    assert hardware_serial(dmi=dmi, dmi_uuid=uuid, machine_id=machine) == (
        "dmi-uuid:4C4C4544-0042-3510-8052-B3C04F4E4D32"
    )
    junk = write(tmp_path / "junk_uuid", "03000200-0400-0500-0006-000700080009")
    assert hardware_serial(dmi=dmi, dmi_uuid=junk, machine_id=machine) == (
        "machine-id:0123456789abcdef"
    )


def test_no_identity_at_all_is_a_clear_error(tmp_path: Path) -> None:
    none = tmp_path / "none"
    with pytest.raises(EnrolmentFailed, match=r"Expected a hardware serial in .* or a machine id"):
        hardware_serial(dmi=none, dmi_uuid=none, machine_id=tmp_path / "none-either")
    empty = write(tmp_path / "machine-id", "\n")
    with pytest.raises(EnrolmentFailed, match="is empty"):
        hardware_serial(dmi=none, dmi_uuid=none, machine_id=empty)


def approving(hub: Any, name: str = "Cabina 1") -> Callable[[PendingEnrolment], None]:
    """A technician who approves each code as soon as the cabin shows it."""
    staff = StaffClient(trust_hub(hub.url, _fp(hub)), hub.token("technician"))

    def show(pending: PendingEnrolment) -> None:
        staff.approve(pending.code, site="OAC Sant Andreu", name=name)

    return show


def _fp(hub: Any) -> str | None:
    return fingerprint_pem(hub.certificate.pem) if hub.certificate else None


def test_enrolment_keeps_credential_pinned_hub_and_configuration(
    start_hub: Callable[..., Any], tmp_path: Path
) -> None:
    hub = start_hub(tls=True)
    files = CabinFiles(tmp_path / "kiosk")
    endpoint = trust_hub(hub.url, _fp(hub))
    result = enrol(endpoint, files, serial="dmi:SN-1", show=approving(hub), sleep=lambda _: None)

    assert stat.S_IMODE(files.credential.stat().st_mode) == 0o600
    assert read_credential(files.credential) == result.credential
    kept = HubEndpoint.load(files.hub)
    assert kept.fingerprint == fingerprint_pem(hub.certificate.pem)
    assert load_config(files.config).cabin.name == "Cabina 1"
    assert files.enrolled()
    with hub.database.session() as session:
        profile = session.get(CabinProfile, result.credential.cabin_id)
        assert profile is not None and profile.software_version and profile.started_at


def test_an_expired_code_is_replaced_when_asked_to(hub: Any, tmp_path: Path) -> None:
    shown: list[str] = []
    technician = approving(hub)

    def late_then_on_time(pending: PendingEnrolment) -> None:
        shown.append(pending.code)
        if len(shown) == 1:
            hub.clock.advance(minutes=20)  # nobody came in time
        else:
            technician(pending)

    files = CabinFiles(tmp_path / "kiosk")
    endpoint = trust_hub(hub.url, None)
    with pytest.raises(CodeExpired, match="expired"):
        enrol(endpoint, files, serial="dmi:LATE", show=late_then_on_time, sleep=lambda _: None)
    assert not files.credential.exists()
    result = enrol(
        endpoint, files, serial="dmi:LATE", show=late_then_on_time, codes=None, sleep=lambda _: None
    )
    assert len(shown) == 2 and shown[0] != shown[1]
    assert result.config.cabin.name == "Cabina 1"


def test_a_request_turned_down_ends_enrolment(hub: Any, tmp_path: Path) -> None:
    def turn_down(pending: PendingEnrolment) -> None:
        with hub.client() as client:
            client.delete(
                f"/api/enrolment/requests/{pending.request_id}", headers=hub.headers("technician")
            )

    with pytest.raises(EnrolmentFailed, match="turned this cabin's request down"):
        enrol(
            trust_hub(hub.url, None),
            CabinFiles(tmp_path),
            serial="dmi:NO",
            show=turn_down,
            sleep=lambda _: None,
        )
    assert not (tmp_path / "cabin-credential.json").exists()


def test_the_cabin_starts_from_its_kept_configuration_when_the_hub_is_away(
    start_hub: Callable[..., Any], tmp_path: Path
) -> None:
    hub = start_hub()
    files = CabinFiles(tmp_path / "kiosk")
    result = enrol(
        trust_hub(hub.url, None), files, serial="dmi:OFF", show=approving(hub), sleep=lambda _: None
    )
    token = result.credential.token
    fresh, is_fresh = sync_config(result.endpoint, token, files.config)
    assert is_fresh and fresh.cabin.name == "Cabina 1"

    hub.served.stop()
    kept, is_fresh = sync_config(result.endpoint, token, files.config, timeout=2)
    assert (kept, is_fresh) == (fresh, False)

    files.config.write_text("{not json", encoding="utf-8")
    with pytest.raises(CabinConfigError, match="it is damaged"):
        sync_config(result.endpoint, token, files.config, timeout=2)
    files.config.unlink()
    with pytest.raises(CabinConfigError, match="there is none and the hub cannot be reached"):
        sync_config(result.endpoint, token, files.config, timeout=2)


def test_a_revoked_cabin_is_told_to_enrol_again(hub: Any, tmp_path: Path) -> None:
    files = CabinFiles(tmp_path / "kiosk")
    result = enrol(
        trust_hub(hub.url, None), files, serial="dmi:REV", show=approving(hub), sleep=lambda _: None
    )
    with hub.client() as client:
        revoked = client.post(
            f"/api/fleet/cabins/{result.credential.cabin_id}/revoke",
            headers=hub.headers("technician"),
        )
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(EnrolmentFailed, match="refused it \\(revoked\\?\\): enrol the cabin again"):
        sync_config(result.endpoint, result.credential.token, files.config)


def test_polling_an_unknown_request_fails_clearly(hub: Any) -> None:
    client = EnrolmentClient(trust_hub(hub.url, None))
    pending = client.request("dmi:X")
    forged = dataclasses.replace(pending, poll_token="forged")
    with pytest.raises(EnrolmentFailed, match="HTTP 404"):
        client.poll(forged)
    assert "forged" not in repr(forged) and "***" in repr(forged)


def test_files_of_a_cabin_that_is_not_enrolled(tmp_path: Path) -> None:
    files = CabinFiles(tmp_path)
    assert not files.enrolled()
    (tmp_path / "hub.json").write_text(json.dumps({"url": "http://hub:8000"}), encoding="utf-8")
    with pytest.raises(EnrolmentFailed, match="enrol the cabin"):
        files.load()
