"""How a cabin finds a hub on the local network and knows it is the one it trusts.

The hub registers ``<name>._cabina._tcp.local.`` over multicast DNS with TXT records a cabin
reads before it trusts anything::

    url=https://hub.ajuntament.example:8443   where cabins reach the hub
    fp=sha256:3f1c…                           SHA-256 of the hub's TLS certificate (DER)
    v=0.1.0                                   the hub's version
    api=/api/hub                              where the hub says who it is (:class:`HubIdentity`)

A cabin compares ``fp`` with the certificate the hub actually presents and pins it.
"""

from __future__ import annotations

import hashlib
import ssl
from typing import Literal

from pydantic import BaseModel

SERVICE_TYPE = "_cabina._tcp.local."
#: The path of the identity endpoint, announced in ``api``.
IDENTITY_PATH = "/api/hub"
#: What the identity endpoint answers in ``service``: a cabin checks it before trusting a hub.
SERVICE_NAME = "cabina-hub"
#: The TXT record keys, in the order above.
TXT_URL, TXT_FINGERPRINT, TXT_VERSION, TXT_API = "url", "fp", "v", "api"
FINGERPRINT_PREFIX = "sha256:"


class HubIdentity(BaseModel):
    """What ``GET /api/hub`` answers: who is listening on this address."""

    service: Literal["cabina-hub"] = "cabina-hub"
    version: str
    api: int = 1
    enrolment: bool = True
    public_url: str | None


def fingerprint_der(der: bytes) -> str:
    """The fingerprint of a DER certificate: ``sha256:`` and 64 lowercase hex digits."""
    return FINGERPRINT_PREFIX + hashlib.sha256(der).hexdigest()


def fingerprint_pem(pem: str) -> str:
    """The fingerprint of the first certificate in PEM text; ValueError if there is none."""
    try:
        der = ssl.PEM_cert_to_DER_cert(_first_certificate(pem))
    except ValueError as exc:
        raise ValueError(f"Expected a PEM certificate, but could not read one: {exc}") from exc
    return fingerprint_der(der)


def _first_certificate(pem: str) -> str:
    begin = pem.find("-----BEGIN CERTIFICATE-----")
    end_marker = "-----END CERTIFICATE-----"
    end = pem.find(end_marker, begin)
    if begin < 0 or end < 0:
        raise ValueError("no BEGIN/END CERTIFICATE block")
    return pem[begin : end + len(end_marker)] + "\n"


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people copy it (``SHA256:AB:CD…``, bare hex), as ``sha256:<hex>``."""
    value = text.strip().lower()
    if value.startswith("sha256 fingerprint="):  # as ``openssl x509 -fingerprint`` prints it
        value = value.partition("=")[2]
    value = value.removeprefix(FINGERPRINT_PREFIX).removeprefix("sha256=").replace(":", "")
    if len(value) != 64 or any(char not in "0123456789abcdef" for char in value):
        raise ValueError(
            f"Expected a SHA-256 fingerprint of 64 hex digits (sha256:…), but got {text!r}"
        )
    return FINGERPRINT_PREFIX + value
