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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kiosk.settings import CabinCredential, CredentialError, KioskSettings, read_credential
from kiosk.steps import SiteInformation
from provisioning.cabin_config import CabinConfig, CabinFiles, load_config, sync_config
from provisioning.errors import (
    CabinConfigError,
    CertificateMismatch,
    EnrolmentFailed,
    ProvisioningError,
)
from provisioning.pinning import HubEndpoint

logger = logging.getLogger(__name__)

#: The kiosk settings a hub may set for a cabin (``hub.routes.fleet.KioskSettingsIn``); where
#: its hub is, its data, its PIN and its devices' addresses stay the cabin's own business.
HUB_SETTINGS = frozenset(
    {
        "languages",
        "default_language",
        "services",
        "complaint_service",
        "inactivity_s",
        "warning_s",
        "queue_inactivity_s",
        "goodbye_s",
        "long_wait_s",
        "orientation",
        "required_devices",
    }
)
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
            address=str(getattr(site, "address", "") or ""),
            timezone=site.timezone,
            opening_hours=dict(site.opening_hours),
        )


def with_hub_settings(
    settings: KioskSettings, overrides: Mapping[str, Any], *, hub_url: str | None = None
) -> KioskSettings:
    """``settings`` with the hub's ``overrides`` (and ``hub_url``) applied.

    Settings the hub may not set are ignored, and so is the whole set when it does not fit
    together with the local ones (a default language the cabin does not offer): the cabin then
    runs on its own settings, and says why in its log.
    """
    ignored = sorted(set(overrides) - HUB_SETTINGS)
    if ignored:
        logger.warning("ignoring settings the hub may not set: %s", ", ".join(ignored))
    values = {key: value for key, value in overrides.items() if key in HUB_SETTINGS}
    merged = settings.model_dump()
    if hub_url is not None:
        merged["hub_url"] = hub_url
    try:
        return KioskSettings.model_validate({**merged, **values})
    except ValidationError as exc:
        logger.error(
            "the hub's settings for this cabin do not fit (%d errors): using the local ones",
            exc.error_count(),
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
        settings, config.settings if config is not None else {}, hub_url=endpoint.url
    )
    logger.info(
        "starting as cabin %d with the %s configuration",
        credential.cabin_id,
        "hub's" if fresh else "kept" if config is not None else "local",
    )
    return CabinStart(effective, credential, endpoint, config, fresh)
