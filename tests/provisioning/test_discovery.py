"""The hub announced over multicast DNS on loopback, found by a cabin; bad announcements ignored;
a hub listening on every interface announced on the machine's real addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import ifaddr
import pytest

from contract.discovery import fingerprint_pem, normalise_fingerprint
from hub.announce import Announcement, HubAnnouncer, announcement_for, reachable_addresses
from hub.settings import HubSettings
from provisioning.discovery import HubAnnouncement, choose_hub, discover, parse_announcement
from provisioning.errors import DiscoveryError

LOOPBACK = ["127.0.0.1"]
SECRET = "discovery-test-secret-key-0123456789-abcdef"


def ours(found: list[HubAnnouncement], name: str) -> list[HubAnnouncement]:
    # Other hubs may be announced on this host while the test runs: look at ours only.
    return [hub for hub in found if hub.name.startswith(name)]


def test_a_cabin_finds_the_announced_hub_with_its_fingerprint(
    start_hub: Callable[..., Any],
) -> None:
    hub = start_hub(tls=True, announce_as="Test hub discovery")
    [found] = ours(discover(2.0, interfaces=LOOPBACK), "Test hub discovery")
    assert found.url == hub.url
    assert found.fingerprint == fingerprint_pem(hub.certificate.pem)
    assert found.version
    assert "127.0.0.1" in found.addresses


def test_a_plain_http_hub_announces_no_fingerprint(start_hub: Callable[..., Any]) -> None:
    hub = start_hub(announce_as="Test hub plain")
    [found] = ours(discover(2.0, interfaces=LOOPBACK), "Test hub plain")
    assert (found.url, found.fingerprint) == (hub.url, None)


def test_a_stopped_hub_is_no_longer_found(start_hub: Callable[..., Any]) -> None:
    hub = start_hub(announce_as="Test hub leaving")
    assert ours(discover(2.0, interfaces=LOOPBACK), "Test hub leaving")
    hub.served.stop()
    assert ours(discover(2.0, interfaces=LOOPBACK), "Test hub leaving") == []


async def test_announcements_with_bad_txt_records_are_ignored() -> None:
    good = Announcement("Test hub good TXT", "https://127.0.0.1:9443", "sha256:" + "ab" * 32)
    no_url = Announcement("Test hub no url", "", None)
    bad_fp = Announcement("Test hub bad fp", "https://127.0.0.1:9444", "sha256:short")
    announcers = [HubAnnouncer(a, interfaces=LOOPBACK) for a in (good, no_url, bad_fp)]
    for announcer in announcers:
        await announcer.start()
    try:
        found = await asyncio.to_thread(discover, 2.0, interfaces=LOOPBACK)
    finally:
        for announcer in announcers:
            await announcer.stop()
    assert [hub.url for hub in ours(found, "Test hub")] == ["https://127.0.0.1:9443"]


def settings(**values: Any) -> HubSettings:
    return HubSettings(secret_key=SECRET, **values)


def test_a_hub_on_every_interface_is_found_on_an_address_a_cabin_can_reach() -> None:
    # What this machine's interfaces say, read here without the hub's help: every IPv4 address
    # but loopback, or loopback alone on a machine with no network.
    own = [
        ip.ip
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str) and not ipaddress.IPv4Address(ip.ip).is_loopback
    ] or ["127.0.0.1"]
    announcement = announcement_for(
        settings(host="0.0.0.0", port=8123), name="Test hub every interface"
    )

    async def announce_and_discover() -> list[HubAnnouncement]:
        announcer = HubAnnouncer(announcement, interfaces=LOOPBACK)
        await announcer.start()
        try:
            return await asyncio.to_thread(discover, 2.0, interfaces=LOOPBACK)
        finally:
            await announcer.stop()

    [found] = ours(asyncio.run(announce_and_discover()), "Test hub every interface")
    assert "0.0.0.0" not in found.addresses
    assert sorted(found.addresses) == sorted(own)
    assert urlsplit(found.url).hostname in own
    assert urlsplit(found.url).port == 8123


def test_the_announced_addresses_are_the_reachable_ones_link_local_last() -> None:
    interfaces = ["127.0.0.1", "169.254.7.1", "192.0.2.2", "fd00::2", "10.1.2.3", "192.0.2.2"]
    assert reachable_addresses(interfaces) == ("192.0.2.2", "10.1.2.3", "169.254.7.1")
    assert reachable_addresses(["0.0.0.0", "not an address", "192.0.2.9"]) == ("192.0.2.9",)


def test_a_machine_with_only_loopback_announces_loopback_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for interfaces in (["127.0.0.1", "::1"], []):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hub.announce"):
            assert reachable_addresses(interfaces) == ("127.0.0.1",)
        assert "has no other IPv4 address" in caplog.text


def test_a_wildcard_hub_announces_the_machine_addresses_and_a_url_on_the_first() -> None:
    machine = ["127.0.0.1", "192.0.2.2", "10.1.2.3"]
    for wildcard in ("0.0.0.0", "::"):
        announced = announcement_for(
            settings(host=wildcard, port=8000), name="Hub", local_addresses=machine
        )
        assert (announced.url, announced.addresses) == (
            "http://192.0.2.2:8000",
            ("192.0.2.2", "10.1.2.3"),
        )


def test_a_public_url_is_announced_with_the_addresses_it_resolves_to() -> None:
    machine = ["192.0.2.2"]
    public = settings(host="0.0.0.0", public_url="https://127.0.0.1:8443/")
    announced = announcement_for(public, name="Hub", local_addresses=machine)
    assert (announced.url, announced.addresses) == ("https://127.0.0.1:8443", ("127.0.0.1",))
    by_name = settings(host="0.0.0.0", public_url="http://localhost:8000")
    assert "127.0.0.1" in announcement_for(by_name, name="Hub", local_addresses=machine).addresses
    one_interface = settings(host="127.0.0.1", port=8000)
    announced = announcement_for(one_interface, name="Hub", local_addresses=machine)
    assert (announced.url, announced.addresses) == ("http://127.0.0.1:8000", ("127.0.0.1",))


def test_parse_announcement_reads_txt_records() -> None:
    fp = "AB:" * 31 + "AB"
    hub = parse_announcement(
        "Hub A._cabina._tcp.local.",
        {b"url": b"https://hub.example:8443/", b"fp": f"SHA256:{fp}".encode(), b"v": b"1.2"},
        ["10.0.0.5"],
    )
    assert hub == HubAnnouncement(
        "Hub A", "https://hub.example:8443", "sha256:" + "ab" * 32, "1.2", ("10.0.0.5",)
    )
    assert parse_announcement("x", {b"url": b"ftp://hub"}) is None
    assert parse_announcement("x", {b"url": b"\xff\xfe"}) is None
    assert parse_announcement("x", {}) is None


def test_fingerprints_are_normalised_or_refused() -> None:
    canonical = "sha256:" + "0f" * 32
    assert normalise_fingerprint("0F" * 32) == canonical
    assert normalise_fingerprint(":".join(["0F"] * 32)) == canonical
    assert normalise_fingerprint("sha256=" + "0f" * 32) == canonical
    assert normalise_fingerprint("sha256 Fingerprint=" + ":".join(["0F"] * 32)) == canonical
    for bad in ("", "sha256:", "sha256:" + "0g" * 32, "md5:" + "00" * 16):
        with pytest.raises(ValueError, match="Expected a SHA-256 fingerprint"):
            normalise_fingerprint(bad)
    with pytest.raises(ValueError, match="Expected a PEM certificate"):
        fingerprint_pem("not a certificate")


def test_choosing_a_hub_says_what_to_do_when_there_is_not_exactly_one() -> None:
    one = HubAnnouncement("A", "https://a:1", None, None)
    two = HubAnnouncement("B", "https://b:1", None, None)
    assert choose_hub([one], timeout=3) is one
    with pytest.raises(DiscoveryError, match=r"none did within 3 s: pass --hub URL"):
        choose_hub([], timeout=3)
    with pytest.raises(DiscoveryError, match=r"but 2 answered .*choose one with --hub URL"):
        choose_hub([one, two], timeout=3)


def test_discover_needs_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match="Expected a positive timeout"):
        discover(0)
