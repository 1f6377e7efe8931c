"""Starting the kiosk as an enrolled cabin: its hub, credential and configuration from disk.

Enrolment (:mod:`provisioning.enrolment`) leaves three files in the data directory (see
:class:`provisioning.cabin_config.CabinFiles`). At each start :func:`prepare_start` loads the
hub's address and pinned certificate and the credential, asks the hub for the configuration
(or takes the copy kept from last time: a cabin starts through a network outage) and applies
the settings the hub sets for this cabin over the local ones. A data directory without
``hub.json`` is not enrolled (a demo with a hand-written credential): the local settings and
their ``hub_url`` are used as they are, with nothing pinned.

A hub that refuses the credential, or presents another certificate than the pinned one, does
not stop the start: the kiosk comes up with the kept configuration and, its hub link refused,
shows itself out of service until a technician sees to it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from pydantic import ValidationError

from contract.cabin import CabinConfig, CabinSettings
from kiosk.settings import KioskSettings
from kiosk.steps import SiteInformation
from provisioning.cabin_config import CabinFiles, load_config, problems, sync_config
from provisioning.credential import CabinCredential, CredentialError, read_credential
from provisioning.errors import (
    CabinConfigError,
    CertificateMismatch,
    EnrolmentFailed,
    ProvisioningError,
)
from provisioning.pinning import HubEndpoint

logger = logging.getLogger(__name__)

#: How long the start waits for the hub's configuration before it takes the kept copy.
CONFIG_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class CabinStart:
    """What the kiosk starts with."""

    settings: KioskSettings
    credential: CabinCredential
    #: The enrolled hub; None for a cabin that is not enrolled (nothing pinned).
    endpoint: HubEndpoint | None = None
    #: The hub's configuration, fresh or kept; None when there is neither.
    config: CabinConfig | None = None
    #: Whether :attr:`config` came from the hub just now.
    fresh: bool = False

    @property
    def ssl(self) -> ssl.SSLContext | None:
        """The TLS context that accepts the pinned certificate only (None over plain HTTP)."""
        return self.endpoint.ssl_context() if self.endpoint is not None else None

    @property
    def cabin_name(self) -> str:
        """The cabin's name at the hub, or empty."""
        return self.config.cabin.name if self.config is not None else ""

    @property
    def site(self) -> SiteInformation | None:
        """The cabin's office as last known: name, address, time zone and opening hours."""
        if self.config is None:
            return None
        site = self.config.site
        return SiteInformation(
            name=site.name,
            # Older kept copies do not have the address: the hub gives it when it is reachable.
            address=site.address,
            timezone=site.timezone,
            opening_hours=dict(site.opening_hours),
        )


def with_hub_settings(
    settings: KioskSettings, hub: CabinSettings, *, hub_url: str | None = None
) -> KioskSettings:
    """``settings`` with what the hub sets for this cabin (and ``hub_url``) applied.

    Every setting the hub may set (:class:`contract.cabin.CabinSettings`) is one of the
    kiosk's, so each is applied. When the set does not fit with the local settings (a default
    language the cabin does not offer), the whole set is refused: the cabin runs on its own
    settings and its log names each setting that did not fit and why.
    """
    merged = settings.model_dump()
    if hub_url is not None:
        merged["hub_url"] = hub_url
    try:
        return KioskSettings.model_validate({**merged, **hub.overrides()})
    except ValidationError as exc:
        logger.error(
            "refusing the hub's settings for this cabin, which do not fit with the local ones "
            "(%s): running on the local settings",
            problems(exc),
        )
        return KioskSettings.model_validate(merged)


def _kept(files: CabinFiles) -> CabinConfig | None:
    try:
        return load_config(files.config)
    except CabinConfigError as exc:
        logger.error("%s", exc)
        return None


async def prepare_start(
    settings: KioskSettings, *, config_timeout_s: float = CONFIG_TIMEOUT_S
) -> CabinStart:
    """The kiosk's credential, hub and effective settings; :class:`CredentialError` if none."""
    files = CabinFiles(settings.data_dir)
    if not files.enrolled():
        return CabinStart(settings, read_credential(settings.credential_path))
    try:
        endpoint, credential = files.load()
    except ProvisioningError as exc:
        raise CredentialError(str(exc)) from exc
    config: CabinConfig | None
    try:
        config, fresh = await asyncio.to_thread(
            sync_config, endpoint, credential.token, files.config, timeout=config_timeout_s
        )
    except (CertificateMismatch, EnrolmentFailed) as exc:
        # Not an outage, and nothing to send there; the kiosk shows itself out of service.
        logger.error("%s", exc)
        config, fresh = _kept(files), False
    except CabinConfigError as exc:
        logger.error("%s: starting with the local settings", exc)
        config, fresh = None, False
    effective = with_hub_settings(
        settings, config.settings if config is not None else CabinSettings(), hub_url=endpoint.url
    )
    logger.info(
        "starting as cabin %d with the %s configuration",
        credential.cabin_id,
        "hub's" if fresh else "kept" if config is not None else "local",
    )
    return CabinStart(effective, credential, endpoint, config, fresh)
