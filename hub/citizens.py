"""The citizen reference: an opaque, keyed stand-in for a document number.

The hub never stores a citizen's document number. It keeps ``c1-`` followed by an HMAC of the
number in canonical form, under a key derived from the hub's secret: the same person gets the
same reference in every attention, and the reference tells nothing without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from contract.identity import InvalidDocument, parse_document


def normalise_number(document_type: str, number: str) -> str:
    """The document number in canonical form; ``ValueError`` if it is not a valid one."""
    compact = re.sub(r"[\s.\-]", "", number).upper()
    if document_type == "passport":
        if not re.fullmatch(r"[A-Z0-9]{5,20}", compact):
            raise ValueError("Expected a passport number of 5 to 20 letters and digits")
        return compact
    if document_type == "nie":
        what = "a NIE: X, Y or Z, 7 digits and the check letter"
    else:
        what = "a DNI: 8 digits and the check letter"
        compact = compact.zfill(9)
    # The message never repeats the number: it is personal data.
    try:
        document = parse_document(compact)
    except InvalidDocument:
        raise ValueError(f"Expected {what}, but the number or its letter is wrong") from None
    if document.type.value != document_type:
        raise ValueError(f"Expected {what}, but the number or its letter is wrong")
    return document.number


def citizen_ref(secret: str, document_type: str, number: str) -> str:
    """The opaque reference of a person for a valid document number."""
    key = hmac.new(secret.encode(), b"cabina citizen reference v1", hashlib.sha256).digest()
    canonical = f"{document_type}:{normalise_number(document_type, number)}"
    return "c1-" + hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
