"""Management links and agenda feeds: unguessable tokens the hub can make again, never stores.

A token is an HMAC-SHA256 of what it opens under the hub's secret key, in URL-safe base64
(43 characters, 256 bits). The database keeps only the SHA-256 digest of a management token,
to find the appointment; the hub makes the token again whenever a notice needs the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from contract.appointments import MANAGE_PATH


def _token(secret_key: str, purpose: str, subject: str) -> str:
    mac = hmac.new(secret_key.encode(), f"{purpose}:{subject}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def manage_token(secret_key: str, appointment_id: str) -> str:
    """The token of an appointment's management link."""
    return _token(secret_key, "appointment-manage", appointment_id)


def feed_token(secret_key: str, user_id: int) -> str:
    """The token of an agent's private iCalendar feed."""
    return _token(secret_key, "agent-feed", str(user_id))


def token_digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def manage_url(public_url: str, token: str) -> str:
    """The full management link, as printed in the QR code and sent by e-mail."""
    return public_url.rstrip("/") + MANAGE_PATH + token
