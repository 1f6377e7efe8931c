"""The código seguro de verificación (CSV): what it is, how it is written and what it unlocks.

A CSV is 27 characters of Crockford's base32 (135 bits) and one check character, printed in
groups of four: ``7K3M-Q9TD-…``. The 135 bits are an HMAC of the certificate's id under a key
derived from the hub's secret, so the hub can write the same code again for the cabin that
asked for the certificate, and nobody can guess one.

The hub stores only a SHA-256 of the CSV (to find the certificate) and the PDF sealed with
AES-GCM under a key derived from the CSV: whoever holds the code can read the original, a copy
of the database alone cannot. People may type ``O`` for ``0`` and ``I`` or ``L`` for ``1``; the
check character catches most other typing mistakes before any look-up.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from hub import sealing

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_CHARS = 27
LENGTH = DATA_CHARS + 1
GROUP = 4
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")


class MalformedCode(ValueError):
    """Text that cannot be a CSV: wrong length, a character outside the alphabet, bad check."""

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class SealError(Exception):
    """A sealed PDF that does not open with this code (another code, or damaged data)."""


def signing_key(secret: str) -> bytes:
    """The key CSVs are derived with, from the hub's secret key."""
    return hmac.new(secret.encode(), b"cabina padron csv key v1", hashlib.sha256).digest()


def _check_char(data: str) -> str:
    return ALPHABET[hashlib.sha256(data.encode()).digest()[0] % len(ALPHABET)]


def derive(key: bytes, certificate_id: str) -> str:
    """The CSV of a certificate, compact (no separators)."""
    digest = hmac.new(key, f"certificate:{certificate_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big") >> (len(digest) * 8 - DATA_CHARS * 5)
    data = "".join(ALPHABET[(number >> (5 * (DATA_CHARS - 1 - i))) & 31] for i in range(DATA_CHARS))
    return data + _check_char(data)


def grouped(code: str) -> str:
    """A compact CSV in groups of four, as printed: ``7K3M-Q9TD-…``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def parse(text: str) -> str:
    """The compact CSV in what someone typed or scanned; :class:`MalformedCode` otherwise."""
    compact = _SEPARATORS.sub("", text).upper().translate(_TYPED)
    if len(compact) != LENGTH:
        raise MalformedCode(
            f"Expected {LENGTH} characters (separators aside), but got {len(compact)}",
            reason="wrong_length",
        )
    strange = sorted({char for char in compact if char not in ALPHABET})
    if strange:
        raise MalformedCode(
            f"Expected only the characters {ALPHABET}, but got {''.join(strange)!r}",
            reason="bad_character",
        )
    if _check_char(compact[:DATA_CHARS]) != compact[DATA_CHARS]:
        raise MalformedCode(
            "Expected the last character to check the others, but it does not: "
            "a character is mistyped",
            reason="bad_check",
        )
    return compact


def lookup_hash(code: str) -> str:
    """The hash under which a certificate is found by its compact CSV."""
    return hashlib.sha256(b"cabina padron csv v1\x00" + code.encode()).hexdigest()


def _pdf_key(code: str) -> bytes:
    return sealing.derive_key(code, b"cabina padron pdf v1")


def seal(pdf: bytes, code: str, certificate_id: str) -> bytes:
    """``pdf`` encrypted under the key of ``code``, bound to the certificate's id."""
    return sealing.seal(pdf, _pdf_key(code), certificate_id)


def unseal(sealed: bytes, code: str, certificate_id: str) -> bytes:
    """The PDF :func:`seal` sealed; :class:`SealError` if the code or the data is wrong."""
    try:
        return sealing.unseal(sealed, _pdf_key(code), certificate_id)
    except ValueError as exc:
        raise SealError(
            f"Expected the PDF of certificate {certificate_id} to open with its code, "
            "but it does not"
        ) from exc
