"""The hub announces itself on the local network so that a new cabin finds it without typing.

It registers ``<name>._cabina._tcp.local.`` over multicast DNS (python-zeroconf), with TXT
records a cabin reads before it trusts anything::

    url=https://hub.ajuntament.example:8443   where cabins reach the hub
    fp=sha256:3f1c…                           SHA-256 of the hub's TLS certificate (DER)
    v=0.1.0                                   the hub's version
    api=/api/hub                              where the hub says who it is

A cabin compares ``fp`` with the certificate the hub actually presents and pins it; without
TLS (a demo) ``fp`` is empty. A hub listening on every interface (``host = "0.0.0.0"``) with no
``public_url`` announces the machine's own IPv4 addresses, and a URL on the first of them: a
cabin elsewhere cannot reach ``0.0.0.0``. A :class:`HubAnnouncer` announces for as long as the
hub runs (it is one of the hub's services, :mod:`hub.services`); a network without multicast
only costs a warning.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cabina import __version__
from contract.discovery import (
    IDENTITY_PATH,
    SERVICE_TYPE,
    TXT_API,
    TXT_FINGERPRINT,
    TXT_URL,
    TXT_VERSION,
    fingerprint_pem,
)
from hub.settings import HubSettings

logger = logging.getLogger(__name__)


class AnnounceError(Exception):
    """The hub cannot be announced: a bad URL or certificate; the message says which."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """What the hub says about itself on the network."""

    name: str
    url: str
    fingerprint: str | None = None
    version: str = __version__
    addresses: tuple[str, ...] = field(default_factory=tuple)

    def properties(self) -> dict[str, str]:
        """The TXT records."""
        return {
            TXT_URL: self.url,
            TXT_FINGERPRINT: self.fingerprint or "",
            TXT_VERSION: self.version,
            TXT_API: IDENTITY_PATH,
        }


#: Hosts that mean "every interface": an address to listen on, never one to reach.
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - naming the wildcard, not binding


def machine_addresses() -> tuple[str, ...]:
    """Every IPv4 address of this machine's network interfaces, loopback included."""
    import ifaddr  # installed with zeroconf, which reads the interfaces with it too

    return tuple(
        ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)
    )


def reachable_addresses(candidates: Iterable[str]) -> tuple[str, ...]:
    """The IPv4 addresses among ``candidates`` that another machine can reach, best first.

    Loopback and unspecified addresses are left out, and link-local ones come last. A machine
    with nothing else gets its loopback address, with a warning: only a cabin on the same
    machine can then reach the hub.
    """
    reachable: list[ipaddress.IPv4Address] = []
    for candidate in candidates:
        try:
            address = ipaddress.IPv4Address(candidate)
        except ValueError:
            continue
        if not (address.is_loopback or address.is_unspecified) and address not in reachable:
            reachable.append(address)
    if not reachable:
        logger.warning(
            "announcing the hub on 127.0.0.1: this machine has no other IPv4 address, so only "
            "a cabin on this machine can reach it"
        )
        return ("127.0.0.1",)
    reachable.sort(key=lambda address: address.is_link_local)
    return tuple(str(address) for address in reachable)


def hub_url(settings: HubSettings, *, addresses: Sequence[str] | None = None) -> str:
    """Where cabins reach the hub: ``public_url``, or the address it listens on.

    A hub listening on every interface is reached on the first of ``addresses`` (by default
    this machine's :func:`reachable_addresses`).
    """
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    if host in WILDCARDS:
        chosen = addresses or reachable_addresses(machine_addresses())
        host = chosen[0]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _addresses(url: str) -> tuple[str, ...]:
    """The IPv4 addresses the host of ``url`` names or resolves to."""
    host = urlsplit(url).hostname or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (str(literal),) if literal.version == 4 else ()
    try:
        found = socket.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    return tuple(sorted({str(entry[4][0]) for entry in found}))


def _ipv4(candidates: Sequence[str]) -> tuple[str, ...]:
    found = []
    for candidate in candidates:
        try:
            found.append(str(ipaddress.IPv4Address(candidate)))
        except ValueError:
            continue
    return tuple(found)


def announcement_for(
    settings: HubSettings,
    *,
    certificate: Path | None = None,
    name: str | None = None,
    local_addresses: Sequence[str] | None = None,
) -> Announcement:
    """The announcement of a hub with these settings and TLS certificate (PEM file).

    With a ``public_url``, it announces that URL and the addresses its host resolves to; a hub
    listening on every interface without one announces the :func:`reachable_addresses` among
    ``local_addresses`` (by default this machine's) and a URL on the first of them.
    """
    if settings.public_url or settings.host not in WILDCARDS:
        url = hub_url(settings)
        addresses = _addresses(url)
    else:
        if local_addresses is None:
            local_addresses = machine_addresses()
        addresses = reachable_addresses(local_addresses)
        url = hub_url(settings, addresses=addresses)
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise AnnounceError(f"Expected an http:// or https:// hub URL, but got {url!r}")
    fingerprint = None
    if certificate is not None:
        try:
            fingerprint = fingerprint_pem(certificate.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as exc:
            raise AnnounceError(f"Cannot read the hub's certificate {certificate}: {exc}") from exc
        except ValueError as exc:
            raise AnnounceError(f"{certificate}: {exc}") from exc
    elif scheme == "https":
        logger.warning("announcing %s without a certificate fingerprint: cabins cannot pin it", url)
    instance = name or f"Cabina hub {socket.gethostname()}"
    return Announcement(instance, url, fingerprint, addresses=addresses)


class HubAnnouncer:
    """Keeps one announcement registered over multicast DNS."""

    def __init__(self, announcement: Announcement, *, interfaces: Sequence[str] | None = None):
        self.announcement = announcement
        self._interfaces = list(interfaces) if interfaces is not None else None
        self._zeroconf: Any = None
        self._info: Any = None

    async def start(self) -> None:
        """Register the service; a name already taken on the network gets a suffix."""
        from zeroconf import InterfaceChoice, IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        item = self.announcement
        # Cabins read the URL from TXT, but a resolver completes a record only with addresses:
        # a public URL that does not resolve here gets this machine's own (not its host name's,
        # which may be loopback only).
        addresses = (
            item.addresses
            or _ipv4(self._interfaces or ())
            or reachable_addresses(machine_addresses())
        )
        port = urlsplit(item.url).port or (443 if item.url.startswith("https") else 80)
        label = item.name.replace(".", " ")[:63]
        self._info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{label}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(address) for address in addresses],
            port=port,
            properties=item.properties(),
            server=f"{socket.gethostname()}.local.",
        )
        interfaces: Any = self._interfaces or InterfaceChoice.All
        self._zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        try:
            registered = await self._zeroconf.async_register_service(
                self._info, allow_name_change=True
            )
            await registered
        except BaseException:
            await self._zeroconf.async_close()
            self._zeroconf = None
            raise
        logger.info("announced %s as %s", item.url, self._info.name)

    async def stop(self) -> None:
        """Withdraw the announcement."""
        if self._zeroconf is None:
            return
        try:
            await self._zeroconf.async_unregister_all_services()
        finally:
            await self._zeroconf.async_close()
            self._zeroconf = None
