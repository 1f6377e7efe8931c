"""What can go wrong while provisioning a cabin; every message is meant for the technician.

::

    ProvisioningError
    ├── DiscoveryError        no hub answered on the local network
    ├── HubUnreachable        the hub's address does not answer (network, TLS, timeout)
    ├── NotCabinaHub          something answers, but it is not a Cabina hub
    ├── CertificateMismatch   the hub's certificate is not the one announced or pinned
    ├── EnrolmentFailed       the hub refused the request or the credential
    │   └── CodeExpired       no one approved the code in time
    ├── CabinConfigError      the configuration kept for offline starts is missing or damaged
    └── DetectionError        devices found cannot be written as configuration as they are
        └── AmbiguousDevices  two candidates for one device: the technician must choose
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ProvisioningError(Exception):
    """Provisioning could not go on; the message says what to do."""


class DiscoveryError(ProvisioningError):
    """No hub answered on the local network."""


class HubUnreachable(ProvisioningError):
    """The hub's address does not answer."""


class NotCabinaHub(ProvisioningError):
    """Something answers at the address, but it is not a Cabina hub."""


class CertificateMismatch(ProvisioningError):
    """The hub presents another certificate than the one announced or pinned."""


class EnrolmentFailed(ProvisioningError):
    """The hub refused the enrolment, or its code expired before approval."""


class CodeExpired(EnrolmentFailed):
    """The code expired before a technician approved it."""


class CabinConfigError(ProvisioningError):
    """The cabin's kept configuration is missing or damaged."""


class DetectionError(ProvisioningError):
    """What was found cannot be written as the cabin's configuration."""


class AmbiguousDevices(DetectionError):
    """More than one candidate for a device; ``choices`` lists them by device."""

    def __init__(self, choices: Mapping[str, Sequence[str]]) -> None:
        self.choices = {device: list(keys) for device, keys in choices.items()}
        lines = [
            f"{device}: {len(keys)} found ({', '.join(keys)}); choose one with "
            f"--use {device}=<one of them>"
            for device, keys in self.choices.items()
        ]
        super().__init__(
            "Expected one device of each kind, but found several; nothing was written.\n"
            + "\n".join(lines)
        )
