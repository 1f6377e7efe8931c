"""The ICE servers handed to each end of a call, with ephemeral TURN credentials for coturn."""

from __future__ import annotations

import base64
import hashlib
import hmac

from contract.signalling import IceServer
from hub.settings import HubSettings


def ice_servers(settings: HubSettings, identity: str, now: float) -> list[IceServer]:
    """STUN and TURN servers for ``identity`` (``cabin:3``, ``agent:7``) at wall time ``now``.

    TURN credentials follow coturn's REST scheme (``use-auth-secret``): the user name is
    ``<expiry>:<identity>`` and the password its HMAC-SHA1 under the shared secret, so the
    hub never stores TURN passwords and a leaked one expires by itself.
    """
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=list(settings.stun_urls)))
    if settings.turn_urls and settings.turn_secret is not None:
        username = f"{int(now) + settings.turn_ttl_s}:{identity}"
        digest = hmac.new(
            settings.turn_secret.get_secret_value().encode(), username.encode(), hashlib.sha1
        ).digest()
        servers.append(
            IceServer(
                urls=list(settings.turn_urls),
                username=username,
                credential=base64.b64encode(digest).decode(),
            )
        )
    return servers
