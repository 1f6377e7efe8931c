"""The padrón service as the hub's routes use it: :func:`build` makes it from settings.

``create_app`` builds one per app from the hub settings' ``[padron]`` table, on the app's log
and clock (see :mod:`hub.services`); the routes receive it as ``PadronDep`` (:mod:`hub.deps`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from contract.clock import Clock
from hub.attention_log import AttentionLog
from hub.padron.certificate import CertificateRenderer
from hub.padron.identification import Identifier
from hub.padron.issuing import Issuer
from hub.padron.otp import CodeSender, Mailer
from hub.padron.settings import PadronSettings
from hub.padron.source import PadronSource, open_source
from hub.padron.verification import Verifier
from hub.ratelimit import RateLimiter
from hub.settings import HubSettings
from hub.sms import SmsSender

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Padron:
    """Everything the padrón and verification routes need."""

    settings: PadronSettings
    hub: HubSettings
    source: PadronSource
    identifier: Identifier
    issuer: Issuer
    verifier: Verifier
    verify_limiter: RateLimiter


def build(
    settings: PadronSettings,
    hub: HubSettings,
    log: AttentionLog,
    *,
    clock: Clock,
    source: PadronSource | None = None,
    sms: SmsSender | None = None,
) -> Padron:
    """The padrón service on the hub's log and database; ``sms`` is the hub's SMS gateway
    (``None`` without one: codes then go by e-mail only)."""
    secret = hub.secret_key.get_secret_value()
    source = source if source is not None else open_source(settings, log.database)
    codes = CodeSender(settings, Mailer(settings, clock=clock), sms)
    identifier = Identifier(settings, log, source, codes, secret=secret, clock=clock)
    renderer = CertificateRenderer(font_dir=settings.font_dir, coat_of_arms=settings.coat_of_arms)
    issuer = Issuer(
        settings,
        log,
        source,
        identifier,
        renderer,
        secret=secret,
        timezone=hub.timezone,
        clock=clock,
    )
    if hub.public_url is None:
        logger.warning("public_url is not set: certificates link to the address cabins use")
    padron = Padron(
        settings=settings,
        hub=hub,
        source=source,
        identifier=identifier,
        issuer=issuer,
        verifier=Verifier(log, clock=clock),
        verify_limiter=RateLimiter(
            limit=settings.verify_per_minute,
            window=timedelta(minutes=1),
            clock=clock,
            max_keys=50_000,
        ),
    )
    logger.info("padrón service ready (%s source)", settings.source)
    return padron
