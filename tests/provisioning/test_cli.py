"""``cabina provision discover|approve|revoke|enrol`` as a technician types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contract.discovery import fingerprint_pem


def ask(hub: Any, serial: str) -> dict[str, Any]:
    with hub.client() as client:
        ticket: dict[str, Any] = client.post(
            "/api/enrolment/requests", json={"serial": serial}
        ).json()
    return ticket


def test_discover_lists_the_announced_hub(
    start_hub: Callable[..., Any], cli: Callable[..., Any]
) -> None:
    hub = start_hub(tls=True, announce_as="Test hub CLI")
    result = cli("provision", "discover", "--interface", "127.0.0.1", "--timeout", "2", "--json")
    assert result.status == 0
    [found] = [h for h in json.loads(result.out) if h["name"].startswith("Test hub CLI")]
    assert found["url"] == hub.url
    assert found["fingerprint"] == fingerprint_pem(hub.certificate.pem)
    text = cli("provision", "discover", "--interface", "127.0.0.1", "--timeout", "2")
    assert f"url          {hub.url}" in text.out


def test_approve_with_an_api_token(
    hub: Any, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = ask(hub, "dmi:CLI-1")
    monkeypatch.setenv("CABINA_HUB_TOKEN", hub.token("technician"))
    result = cli(
        "provision", "approve", ticket["code"], "--site", "OAC Sant Andreu", "--name", "Cabina 4",
        "--hub", hub.url,
    )  # fmt: skip
    assert result.status == 0, result.err
    assert "Approved: cabin 1 'Cabina 4', new cabin" in result.out


def test_approve_with_a_username_and_password(hub: Any, cli: Callable[..., Any]) -> None:
    ticket = ask(hub, "dmi:CLI-2")
    result = cli(
        "provision", "approve", ticket["code"].lower(), "--site", str(hub.site_id),
        "--name", "Cabina 5", "--hub", hub.url, "--username", "technician", "--password-stdin",
        stdin="technician-password-1\n",
    )  # fmt: skip
    assert result.status == 0, result.err
    wrong = cli(
        "provision", "approve", "ABC-DEF", "--site", "1", "--name", "x", "--hub", hub.url,
        "--username", "technician", "--password-stdin", stdin="not-the-password\n",
    )  # fmt: skip
    assert wrong.status == 1 and "Expected to sign in as 'technician'" in wrong.err


def test_approve_says_why_a_code_is_refused(
    hub: Any, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CABINA_HUB_TOKEN", hub.token("technician"))
    unknown = cli("provision", "approve", "ZZZ-ZZZ", "--site", "1", "--name", "x", "--hub", hub.url)
    assert unknown.status == 1
    assert "no cabin shows ZZZ-ZZZ" in unknown.err
    monkeypatch.setenv("CABINA_HUB_TOKEN", hub.token("agent"))
    agent = cli("provision", "approve", "ZZZ-ZZZ", "--site", "1", "--name", "x", "--hub", hub.url)
    assert agent.status == 1 and "Expected a technician's or admin's session" in agent.err
    monkeypatch.delenv("CABINA_HUB_TOKEN")
    nobody = cli("provision", "approve", "ZZZ-ZZZ", "--site", "1", "--name", "x", "--hub", hub.url)
    assert nobody.status == 1 and "set CABINA_HUB_TOKEN, or pass --username" in nobody.err


def test_approve_refuses_a_hub_with_the_wrong_certificate(
    start_hub: Callable[..., Any],
    cli: Callable[..., Any],
    make_cert: Callable[[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = start_hub(tls=True)
    monkeypatch.setenv("CABINA_HUB_TOKEN", "whatever")
    wrong = fingerprint_pem(make_cert("other").pem)
    result = cli(
        "provision", "approve", "ABC-DEF", "--site", "1", "--name", "x",
        "--hub", hub.url, "--fingerprint", wrong,
    )  # fmt: skip
    assert result.status == 1 and "Someone may be impersonating the hub" in result.err


def test_revoke_by_name(hub: Any, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    cabin_id, token = hub.enrol("dmi:CLI-R", "Cabina Revocable")
    monkeypatch.setenv("CABINA_HUB_TOKEN", hub.token("admin"))
    result = cli("provision", "revoke", "Cabina Revocable", "--hub", hub.url)
    assert result.status == 0, result.err
    assert f"Revoked cabin {cabin_id}: 1 credentials, was not connected" in result.out
    with hub.client() as client:
        refused = client.get("/api/cabin/config", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    unknown = cli("provision", "revoke", "No Such Cabin", "--hub", hub.url)
    assert unknown.status == 1 and "Expected one cabin named 'No Such Cabin'" in unknown.err


def test_enrol_refuses_an_enrolled_cabin_and_a_wrong_fingerprint(
    start_hub: Callable[..., Any],
    cli: Callable[..., Any],
    make_cert: Callable[[str], Any],
    tmp_path: Path,
) -> None:
    hub = start_hub(tls=True)
    data = tmp_path / "kiosk"
    data.mkdir()
    (data / "cabin-credential.json").write_text("{}")
    (data / "hub.json").write_text(json.dumps({"url": hub.url}))
    again = cli("provision", "enrol", "--hub", hub.url, "--data-dir", str(data))
    assert again.status == 1 and "pass --force" in again.err

    fresh = tmp_path / "fresh"
    wrong = fingerprint_pem(make_cert("evil").pem)
    result = cli(
        "provision", "enrol", "--hub", hub.url, "--fingerprint", wrong, "--data-dir", str(fresh),
        "--serial", "dmi:X",
    )  # fmt: skip
    assert result.status == 1 and "enrol nothing" in result.err
    assert not fresh.exists()
    with hub.client() as client:
        waiting = client.get("/api/enrolment/requests", headers=hub.headers("admin"))
    assert waiting.json() == []


def test_enrol_against_something_that_is_not_a_hub(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli(
        "provision", "enrol", "--hub", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "k"),
    )  # fmt: skip
    assert result.status == 1 and "Cannot reach the hub at http://127.0.0.1:9" in result.err
