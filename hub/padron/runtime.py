"""The padrón service as the hub's routes use it, built once per app on ``app.state.padron``.

``install(app, settings)`` builds it from :class:`PadronSettings` and what ``create_app`` put
on ``app.state`` (hub settings, log, clock). An app whose padrón was not installed gets one
built from the ``CABINA_PADRON_*`` environment on its first padrón request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from cabina.config import load_settings
from hub.attention_log import AttentionLog
from hub.events import Clock
from hub.padron.certificate import CertificateRenderer
from hub.padron.identification import Identifier
from hub.padron.issuing import Issuer
from hub.padron.otp import CodeSender, LoggingSmsSender, Mailer, SmsSender
from hub.padron.ratelimit import RequestLimiter
from hub.padron.settings import PadronSettings
from hub.padron.source import PadronSource, open_source
from hub.padron.verification import Verifier
from hub.settings import HubSettings

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
    verify_limiter: RequestLimiter


def build(
    settings: PadronSettings,
    hub: HubSettings,
    log: AttentionLog,
    *,
    clock: Clock,
    source: PadronSource | None = None,
    sms: SmsSender | None = None,
) -> Padron:
    """The padrón service on the hub's log and database."""
    secret = hub.secret_key.get_secret_value()
    source = source if source is not None else open_source(settings, log.database)
    codes = CodeSender(settings, Mailer(settings, clock=clock), sms or LoggingSmsSender())
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
    return Padron(
        settings=settings,
        hub=hub,
        source=source,
        identifier=identifier,
        issuer=issuer,
        verifier=Verifier(log.database, clock=clock),
        verify_limiter=RequestLimiter(limit=settings.verify_per_minute, clock=clock),
    )


def install(
    app: FastAPI,
    settings: PadronSettings | None = None,
    *,
    source: PadronSource | None = None,
    sms: SmsSender | None = None,
) -> Padron:
    """Build the padrón service for ``app`` (made by ``create_app``) and keep it on its state."""
    if settings is None:
        settings = load_settings(PadronSettings)
    padron = build(
        settings,
        app.state.settings,
        app.state.attention_log,
        clock=app.state.clock,
        source=source,
        sms=sms,
    )
    app.state.padron = padron
    logger.info("padrón service ready (%s source)", settings.source)
    return padron


def get_padron(request: Request) -> Padron:
    """The app's padrón service, built from the environment if it was not installed."""
    padron: Padron | None = getattr(request.app.state, "padron", None)
    if padron is None:
        padron = install(request.app)
    return padron


PadronDep = Annotated[Padron, Depends(get_padron)]
