"""The cabin's credential from enrolment: its id at the hub and its secret token, kept 0600."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path


class CredentialError(Exception):
    """The cabin's credential file is missing, unreadable, malformed or too open."""


@dataclass(frozen=True, slots=True)
class CabinCredential:
    """The cabin's identity at the hub."""

    cabin_id: int
    token: str

    def __repr__(self) -> str:
        return f"CabinCredential(cabin_id={self.cabin_id}, token=***)"

    @property
    def actor(self) -> str:
        """The cabin as the author of events (``cabin:<id>``)."""
        return f"cabin:{self.cabin_id}"


def write_credential(path: Path, credential: CabinCredential) -> None:
    """Write ``credential`` to ``path``, readable by the owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"cabin_id": credential.cabin_id, "token": credential.token}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_credential(path: Path) -> CabinCredential:
    """The credential at ``path``; :class:`CredentialError` says what is wrong with it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CredentialError(
            f"Expected the cabin's credential at {path}, but there is none: enrol the cabin"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"Expected {path} to be readable by its owner only (0600), "
            f"but its mode is {stat.S_IMODE(mode):04o}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cabin_id, token = data["cabin_id"], data["token"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CredentialError(
            f"Expected {path} to hold JSON with cabin_id and token, but it does not"
        ) from exc
    if isinstance(cabin_id, bool) or not isinstance(cabin_id, int) or cabin_id < 1:
        raise CredentialError(f"Expected a positive cabin_id in {path}, but got {cabin_id!r}")
    if not isinstance(token, str) or not token:
        raise CredentialError(f"Expected a token in {path}, but it is empty")
    return CabinCredential(cabin_id, token)
