"""Trusting a hub: its certificate checked against the announced fingerprint, then pinned.

A cabin meets its hub once, at enrolment. It fetches the certificate the hub presents,
compares its SHA-256 with the fingerprint from the announcement (or the one the technician
typed), and keeps the certificate in ``hub.json``. From then on it talks to the hub only
through :meth:`HubEndpoint.ssl_context`, which accepts that certificate and no other, whoever
signed it. A plain ``http://`` hub (a demo) has nothing to pin.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from contract.discovery import (
    IDENTITY_PATH,
    SERVICE_NAME,
    fingerprint_der,
    fingerprint_pem,
    normalise_fingerprint,
)
from provisioning.errors import (
    CertificateMismatch,
    HubUnreachable,
    NotCabinaHub,
    ProvisioningError,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubIdentity:
    """What the hub said about itself."""

    version: str
    public_url: str | None


@dataclass(frozen=True, slots=True)
class HubEndpoint:
    """A hub the cabin trusts: its URL and, over TLS, the certificate it pinned."""

    url: str
    certificate_pem: str | None = None

    @property
    def fingerprint(self) -> str | None:
        """The pinned certificate's fingerprint."""
        return fingerprint_pem(self.certificate_pem) if self.certificate_pem else None

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint for cabins."""
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/cabin", "", ""))

    def ssl_context(self) -> ssl.SSLContext | None:
        """A context that accepts the pinned certificate only; None for plain HTTP."""
        if urlsplit(self.url).scheme != "https":
            return None
        if self.certificate_pem is None:
            return ssl.create_default_context()
        return pinned_context(self.certificate_pem)

    def client(self, *, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        """An HTTP client of this hub, with the cabin's bearer token if given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        context = self.ssl_context()
        return httpx.Client(
            base_url=self.url,
            verify=context if context is not None else True,
            headers=headers,
            timeout=timeout,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, as kept in ``hub.json``."""
        return {"url": self.url, "certificate": self.certificate_pem}

    @classmethod
    def from_json(cls, data: Any) -> HubEndpoint:
        """The endpoint kept in ``hub.json``; ValueError if it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise ValueError("Expected an object with a url, but got something else")
        certificate = data.get("certificate")
        if certificate is not None and not isinstance(certificate, str):
            raise ValueError("Expected the certificate as PEM text, but got something else")
        return cls(data["url"], certificate)

    def save(self, path: Path) -> None:
        """Keep the endpoint in ``path`` (not secret: a certificate is public)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> HubEndpoint:
        """The endpoint kept in ``path``."""
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise HubUnreachable(
                f"Expected the hub's address in {path}, but there is none: enrol the cabin"
            ) from None
        except (OSError, ValueError) as exc:
            raise HubUnreachable(f"Expected the hub's address in {path}, but: {exc}") from exc


def pinned_context(certificate_pem: str) -> ssl.SSLContext:
    """A TLS client context whose only trust anchor is this certificate.

    The host name is not checked: the certificate itself is the proof, which is what lets a
    municipal hub use a self-signed certificate on an address of its own choosing.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=certificate_pem)
    # Let a leaf certificate be its own trust anchor, even when a CA signed it.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def fetch_certificate(url: str, *, timeout: float = 10.0) -> bytes:
    """The certificate (DER) an ``https://`` address presents, read without trusting it."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # read only; trust comes from the fingerprint below
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise HubUnreachable(f"Cannot open a TLS connection to {host}:{port}: {exc}") from exc
    if not der:
        raise HubUnreachable(f"Expected a certificate from {host}:{port}, but it sent none")
    return der


def trust_hub(url: str, fingerprint: str | None, *, timeout: float = 10.0) -> HubEndpoint:
    """Check the hub's certificate against ``fingerprint`` and pin it.

    Over ``https://`` without a fingerprint, the certificate must be one the system trusts
    (a public CA); it is pinned all the same. Over ``http://`` there is nothing to check, and
    a fingerprint given for such a hub is refused rather than silently ignored.
    """
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise HubUnreachable(f"Expected an http:// or https:// hub URL, but got {url!r}")
    if scheme == "http":
        if fingerprint:
            raise CertificateMismatch(
                f"Expected an https:// hub for fingerprint {fingerprint}, but {url} is plain HTTP"
            )
        logger.warning("the hub at %s is plain HTTP: nothing is pinned", url)
        return HubEndpoint(url.rstrip("/"))
    der = fetch_certificate(url, timeout=timeout)
    presented = fingerprint_der(der)
    pem = ssl.DER_cert_to_PEM_cert(der)
    if fingerprint:
        try:
            expected = normalise_fingerprint(fingerprint)
        except ValueError as exc:
            raise CertificateMismatch(str(exc)) from exc
        if presented != expected:
            raise CertificateMismatch(
                f"Expected the hub at {url} to present certificate {expected}, but it presents "
                f"{presented}. Someone may be impersonating the hub: enrol nothing, and check "
                "the network and the hub's certificate with the city's IT department"
            )
        return HubEndpoint(url.rstrip("/"), pem)
    try:
        with httpx.Client(verify=ssl.create_default_context(), timeout=timeout) as client:
            client.head(url)
    except httpx.ConnectError as exc:
        raise CertificateMismatch(
            f"Cannot verify the certificate of {url} ({presented}) with the system's "
            "authorities: pass the hub's fingerprint with --fingerprint"
        ) from exc
    except httpx.HTTPError as exc:
        raise HubUnreachable(f"Cannot reach {url}: {exc}") from exc
    return HubEndpoint(url.rstrip("/"), pem)


def unreachable(endpoint: HubEndpoint, exc: httpx.HTTPError) -> ProvisioningError:
    """The error for a failed exchange; a certificate other than the pinned one is named."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return CertificateMismatch(
                f"Expected the hub at {endpoint.url} to present the certificate pinned at "
                f"enrolment ({endpoint.fingerprint or 'a trusted one'}), but it presents "
                "another: if the hub's certificate was renewed, enrol the cabin again"
            )
        cause = cause.__cause__ or cause.__context__
    return HubUnreachable(f"Cannot reach the hub at {endpoint.url}: {exc}")


def check_identity(endpoint: HubEndpoint, *, timeout: float = 10.0) -> HubIdentity:
    """Ask the hub who it is; :class:`NotCabinaHub` unless it is a Cabina hub."""
    try:
        with endpoint.client(timeout=timeout) as client:
            response = client.get(IDENTITY_PATH)
    except httpx.ConnectError as exc:
        raise unreachable(endpoint, exc) from exc
    except httpx.HTTPError as exc:
        raise NotCabinaHub(
            f"Expected a Cabina hub at {endpoint.url}, but the exchange failed: {exc}"
        ) from exc
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("service") != SERVICE_NAME:
        what = (
            f"HTTP {response.status_code}"
            if data is None
            else f"service {data.get('service')!r}"
            if isinstance(data, dict)
            else "JSON of another shape"
        )
        raise NotCabinaHub(
            f"Expected a Cabina hub at {endpoint.url}, but {IDENTITY_PATH} answered {what}: "
            "check the address and port"
        )
    version = data.get("version")
    public_url = data.get("public_url")
    return HubIdentity(
        version=str(version) if version is not None else "unknown",
        public_url=public_url if isinstance(public_url, str) else None,
    )
