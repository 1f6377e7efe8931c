"""Finding the hub on the local network: the ``_cabina._tcp`` announcements, over multicast DNS.

:func:`discover` listens for a few seconds and returns what it heard; :func:`choose_hub`
turns that into the one hub to enrol with, or a message telling the technician what to type
instead (``--hub URL``) when the network has no multicast or several hubs answer.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from zeroconf import ServiceListener, Zeroconf

from contract.discovery import SERVICE_TYPE, normalise_fingerprint
from provisioning.errors import DiscoveryError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubAnnouncement:
    """A hub heard on the network."""

    name: str
    url: str
    fingerprint: str | None
    version: str | None
    addresses: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "url": self.url,
            "fingerprint": self.fingerprint,
            "version": self.version,
            "addresses": list(self.addresses),
        }


def _text(properties: Mapping[bytes, bytes | None], key: str) -> str | None:
    value = properties.get(key.encode())
    if not value:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_announcement(
    name: str, properties: Mapping[bytes, bytes | None], addresses: Sequence[str] = ()
) -> HubAnnouncement | None:
    """The hub a service record describes, or None when its TXT records make no sense."""
    url = _text(properties, "url")
    if url is None or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        logger.warning("ignoring %s: its TXT url is not an http(s) URL", name)
        return None
    fingerprint = _text(properties, "fp")
    if fingerprint is not None:
        try:
            fingerprint = normalise_fingerprint(fingerprint)
        except ValueError:
            logger.warning("ignoring %s: its TXT fp is not a SHA-256 fingerprint", name)
            return None
    label = name.removesuffix("." + SERVICE_TYPE)
    return HubAnnouncement(
        label, url.rstrip("/"), fingerprint, _text(properties, "v"), tuple(addresses)
    )


class _Names(ServiceListener):
    """The service names a browser has seen; zeroconf calls it from its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: list[str] = []

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        with self._lock:
            if name not in self._names:
                self._names.append(name)

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.add_service(zc, type_, name)

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        with self._lock:
            if name in self._names:
                self._names.remove(name)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self._names)


def discover(
    timeout: float = 3.0, *, interfaces: Sequence[str] | None = None
) -> list[HubAnnouncement]:
    """The Cabina hubs announced on the local network within ``timeout`` seconds."""
    from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser

    if timeout <= 0:
        raise ValueError(f"Expected a positive timeout, but got {timeout}")
    chosen: Any = list(interfaces) if interfaces else InterfaceChoice.All
    try:
        zeroconf = Zeroconf(interfaces=chosen, ip_version=IPVersion.V4Only)
    except OSError as exc:
        raise DiscoveryError(
            f"Cannot listen for hubs on the local network ({exc}): pass --hub URL instead"
        ) from exc
    names = _Names()
    found: dict[str, HubAnnouncement] = {}
    try:
        browser = ServiceBrowser(zeroconf, SERVICE_TYPE, names)
        try:
            time.sleep(timeout)
        finally:
            browser.cancel()
        for name in names.snapshot():
            info = zeroconf.get_service_info(SERVICE_TYPE, name, timeout=int(timeout * 1000))
            if info is None:
                logger.info("%s did not answer with its details", name)
                continue
            addresses = [socket.inet_ntoa(raw) for raw in info.addresses if len(raw) == 4]
            hub = parse_announcement(name, info.properties, addresses)
            if hub is not None and hub.url not in found:
                found[hub.url] = hub
    finally:
        zeroconf.close()
    return sorted(found.values(), key=lambda hub: (hub.name, hub.url))


def choose_hub(announcements: Sequence[HubAnnouncement], *, timeout: float) -> HubAnnouncement:
    """The one hub heard; otherwise a :class:`DiscoveryError` saying what to pass instead."""
    if len(announcements) == 1:
        return announcements[0]
    if not announcements:
        raise DiscoveryError(
            f"Expected a Cabina hub to answer on the local network, but none did within "
            f"{timeout:g} s: pass --hub URL (and --fingerprint) as the city's IT department "
            "gave them, or check that the cabin is on the hub's network"
        )
    listing = "; ".join(f"{hub.name} at {hub.url}" for hub in announcements)
    raise DiscoveryError(
        f"Expected one Cabina hub on the local network, but {len(announcements)} answered "
        f"({listing}): choose one with --hub URL"
    )
