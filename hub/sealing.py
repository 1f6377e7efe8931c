"""Bytes sealed at rest: AES-GCM under a key derived for one purpose, bound to a record's id.

The padrón's certificates (under a key from the certificate's own code) and the documents
citizens send ahead of an appointment (under a key from the hub's secret) are kept this way.
Binding the id as associated data means a sealed body copied onto another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: AES-GCM's 96-bit nonce, fresh for every seal and stored in front of the ciphertext.
NONCE_BYTES = 12


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 256-bit key for ``purpose`` (a versioned label) from ``secret``."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def seal(body: bytes, key: bytes, bound_to: str) -> bytes:
    """``body`` encrypted and authenticated under ``key``, bound to ``bound_to``."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, body, bound_to.encode())


def unseal(sealed: bytes, key: bytes, bound_to: str) -> bytes:
    """What :func:`seal` sealed; :class:`ValueError` if the key, the id or the data is wrong."""
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, bound_to.encode())
    except (InvalidTag, ValueError) as exc:
        raise ValueError("Expected the sealed data to open with its key, but it does not") from exc
